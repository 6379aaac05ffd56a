// Field rules shared by every route: identifiers, CU amounts and caps, dates, paging.

import { z } from 'zod';
import { MAX_CU, hasAtMostThreeDecimals } from '../domain/compute-units';
import { parseIsoDate } from '../domain/billing-period';

export const MAX_ID_LENGTH = 128;

/** Ids of orgs, projects, users, keys and requests: no `#` (the key separator), no spaces, at most 128 chars. */
export const identifier = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/, 'may hold letters, digits and _ . : @ - and must start with a letter or digit');

export const label = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

export const snakeCase = (max: number) =>
  z.string().max(max, `must be at most ${max} characters`).regex(/^[a-z][a-z0-9_]*$/, 'must be snake_case (a-z, 0-9, _)');

const threeDecimals = (value: number) => hasAtMostThreeDecimals(value);

/** An amount to charge or refund: more than 0, at most 3 decimals. */
export const cuAmount = z
  .number()
  .positive('must be greater than 0')
  .max(MAX_CU, `must be at most ${MAX_CU}`)
  .refine(threeDecimals, 'must have at most 3 decimal places');

/** A cap or allowance: 0 or more, at most 3 decimals. */
export const cuLimit = z
  .number()
  .min(0, 'must not be negative')
  .max(MAX_CU, `must be at most ${MAX_CU}`)
  .refine(threeDecimals, 'must have at most 3 decimal places');

export const isoDate = z.string().refine((text) => parseIsoDate(text) !== undefined, 'must be a calendar date YYYY-MM-DD');

export const pageQuery = z.strictObject({
  limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(100),
  cursor: z.string().max(2048, 'must be at most 2048 characters').optional(),
});
