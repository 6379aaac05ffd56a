// The query string of the analytics routes: the filters every view shares, read from REST (v1) or HTTP (v2)
// events alike. A repeatable filter (`projectId=a&projectId=b`) arrives as a list; any other parameter given twice,
// or one the route does not know, is a 400 naming it.

import * as z from 'zod/mini';
import { invalidField } from '../../shared/domain/errors';
import { MAX_FILTER_VALUES, type UsageFilterInput } from '../../shared/domain/usage-filters';
import type { GatewayEvent } from '../../shared/http/principal';
import { parseInput, queryValues } from '../../shared/http/request';
import { identifier, isoDate, label, snakeCase } from '../../shared/http/schemas';

/** Query parameters that may be given more than once; each is a list. */
export const REPEATABLE_PARAMETERS: ReadonlySet<string> = new Set(['projectId', 'userId', 'jobType', 'modelId', 'resourceType', 'poolCategory', 'ioType']);

const listOf = <T extends z.ZodMiniType>(item: T) =>
  z.optional(z.array(item).check(z.maxLength(MAX_FILTER_VALUES, `may list at most ${MAX_FILTER_VALUES} values`)));

/** The filters of every usage and activity view (seed 000): dates, the org alias, projects, users, job types, models. */
export const filterParameters = {
  startDate: z.optional(isoDate),
  endDate: z.optional(isoDate),
  teamId: z.optional(identifier),
  projectId: listOf(identifier),
  userId: listOf(identifier),
  jobType: listOf(snakeCase(64)),
  modelId: listOf(label(128)),
};

/** The page size of a list view: 25 by default, at most 100 (as the list routes name it). */
export const pageParameters = {
  limit: z._default(z.coerce.number().check(z.refine(Number.isInteger, 'must be an integer'), z.gte(1, 'must be at least 1'), z.lte(100, 'must be at most 100')), 25),
  cursor: z.optional(z.string().check(z.maxLength(2048, 'must be at most 2048 characters'))),
};

/** The query string as `schema` reads it: repeatable filters as lists, everything else once. */
export function readQuery<T extends z.ZodMiniType>(event: GatewayEvent, schema: T): z.output<T> {
  const values = queryValues(event);
  const query: Record<string, string | string[]> = {};
  for (const [name, list] of Object.entries(values)) {
    if (REPEATABLE_PARAMETERS.has(name)) {
      query[name] = list;
      continue;
    }
    if (list.length > 1) throw invalidField(name, `${name}: may be given only once`);
    query[name] = list[0] ?? '';
  }
  return parseInput(schema, query);
}

/** The shared filters of a parsed query, as the domain names them. */
export function filterInput(query: {
  startDate?: string | undefined;
  endDate?: string | undefined;
  teamId?: string | undefined;
  projectId?: string[] | undefined;
  userId?: string[] | undefined;
  jobType?: string[] | undefined;
  modelId?: string[] | undefined;
}): UsageFilterInput {
  return {
    startDate: query.startDate,
    endDate: query.endDate,
    teamId: query.teamId,
    projectIds: query.projectId,
    userIds: query.userId,
    jobTypes: query.jobType,
    modelIds: query.modelId,
  };
}
