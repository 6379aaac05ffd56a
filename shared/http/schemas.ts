// Field rules shared by every route: identifiers, CU amounts and caps, dates, paging.
// zod/mini rather than classic zod: it tree-shakes, and keeps every Lambda bundle small (see `npm run bench:bundle`).

import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { MAX_CU, hasAtMostThreeDecimals } from '../domain/compute-units';
import { parseIsoDate } from '../domain/billing-period';

// zod/mini loads no locale by itself; English messages for the built-in checks (type errors, unknown keys).
z.config(en());

export const MAX_ID_LENGTH = 128;

/** Ids of orgs, projects, users, keys and requests: no `#` (the key separator), no spaces, at most 128 chars. */
export const identifier = z
  .string()
  .check(
    z.minLength(1, 'must not be empty'),
    z.maxLength(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`),
    z.regex(/^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/, 'may hold letters, digits and _ . : @ - and must start with a letter or digit'),
  );

export const label = (max: number) =>
  z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(max, `must be at most ${max} characters`));

export const snakeCase = (max: number) =>
  z.string().check(z.maxLength(max, `must be at most ${max} characters`), z.regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case (a-z, 0-9, _)'));

/** A whole number from `min` to `max`. */
export const integer = (min: number, max: number, belowMin = `must be at least ${min}`) =>
  z.number().check(z.refine(Number.isInteger, 'must be an integer'), z.gte(min, belowMin), z.lte(max, `must be at most ${max}`));

const threeDecimals = (value: number) => hasAtMostThreeDecimals(value);

/** An amount to charge or refund: more than 0, at most 3 decimals. */
export const cuAmount = z
  .number()
  .check(z.positive('must be greater than 0'), z.lte(MAX_CU, `must be at most ${MAX_CU}`), z.refine(threeDecimals, 'must have at most 3 decimal places'));

/** A cap or allowance: 0 or more, at most 3 decimals. */
export const cuLimit = z
  .number()
  .check(z.gte(0, 'must not be negative'), z.lte(MAX_CU, `must be at most ${MAX_CU}`), z.refine(threeDecimals, 'must have at most 3 decimal places'));

export const isoDate = z.string().check(z.refine((text) => parseIsoDate(text) !== undefined, 'must be a calendar date YYYY-MM-DD'));

/** An ISO 8601 instant with its zone, e.g. `2026-12-01T00:00:00Z`. */
export const isoInstant = z
  .string()
  .check(
    z.maxLength(40, 'must be at most 40 characters'),
    z.refine((text) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text) && !Number.isNaN(Date.parse(text)), 'must be an ISO 8601 instant with a zone, e.g. 2026-12-01T00:00:00Z'),
  );

export const pageQuery = z.strictObject({
  limit: z._default(
    z.coerce.number().check(z.refine(Number.isInteger, 'must be an integer'), z.gte(1, 'must be at least 1'), z.lte(1000, 'must be at most 1000')),
    100,
  ),
  cursor: z.optional(z.string().check(z.maxLength(2048, 'must be at most 2048 characters'))),
});

/** A page of a list answer: its items, and the cursor of the next page (null on the last). */
export const pageOf = <Item extends z.ZodMiniType>(item: Item) => z.object({ items: z.array(item), nextCursor: z.nullable(z.string()) });
