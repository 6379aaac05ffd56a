// The usage routes (seeds 000, 002, 003): the Analytics API's summary, the dashboard's graph, totals, power users and
// breakdowns, and the consumption events table. Every route takes the shared filters; the reader's scope is applied
// before anything is read.

import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { MAX_CU, hasAtMostThreeDecimals, toCu, toMilli } from '../../shared/domain/compute-units';
import { BREAKDOWN_DIMENSIONS, GRANULARITIES, METRICS, isApiKeyUser, type BreakdownDimension, type Metric } from '../../shared/domain/usage-analytics';
import { EVENT_SORTS, SORT_ORDERS } from '../../shared/domain/usage-events';
import { breakdownRow, eventTableRow, usageSummaryBody } from '../../shared/domain/usage-rows';
import type { LedgerDependencies } from '../../shared/composition';
import { jsonResponse } from '../../shared/http/error-response';
import type { Routes } from '../../shared/http/routes';
import { snakeCase } from '../../shared/http/schemas';
import type { ReadScope } from '../../shared/domain/permissions';
import { getBreakdown, getPowerUsers, getTimeSeries, getTotals, getUsageSummary, listUsageEvents } from '../../shared/use-cases/usage-analytics';
import { readerRoute } from './reader-route';
import { filterInput, filterParameters, pageParameters, readQuery } from './usage-query';

const usageQuery = z.strictObject(filterParameters);

const timeSeriesQuery = z.strictObject({
  ...filterParameters,
  metric: z._default(z.enum(METRICS), 'cu'),
  granularity: z._default(z.enum(GRANULARITIES), 'day'),
});

const powerUsersQuery = z.strictObject({
  ...filterParameters,
  limit: z._default(z.coerce.number().check(z.refine(Number.isInteger, 'must be an integer'), z.gte(1, 'must be at least 1'), z.lte(100, 'must be at most 100')), 10),
});

/** `groupBy=userId,projectId`: one or more of the dimensions, each once. */
export const groupByParameter = z.pipe(
  z.string().check(z.maxLength(200, 'must be at most 200 characters')),
  z.transform((text, context) => {
    const dimensions = text.split(',').map((part) => part.trim());
    const unknown = dimensions.find((dimension) => !(BREAKDOWN_DIMENSIONS as readonly string[]).includes(dimension));
    if (unknown !== undefined || new Set(dimensions).size !== dimensions.length) {
      context.issues.push({ code: 'custom', input: text, message: `must list one or more of ${BREAKDOWN_DIMENSIONS.join(', ')}, each once, separated by commas` });
      return z.NEVER;
    }
    return dimensions as BreakdownDimension[];
  }),
);

const breakdownQuery = z.strictObject({ ...filterParameters, groupBy: groupByParameter });

/** A bound on the events' signed amount (refunds are negative), in CU. */
const amountBound = z.optional(
  z.coerce
    .number()
    .check(
      z.refine(Number.isFinite, 'must be a number'),
      z.gte(-MAX_CU, `must be at least -${MAX_CU}`),
      z.lte(MAX_CU, `must be at most ${MAX_CU}`),
      z.refine(hasAtMostThreeDecimals, 'must have at most 3 decimal places'),
    ),
);

/** The events table's filters and order (seed 002), shared by its page route and its CSV export. */
export const eventTableParameters = {
  ...filterParameters,
  resourceType: z.optional(z.array(snakeCase(64)).check(z.maxLength(100, 'may list at most 100 values'))),
  poolCategory: z.optional(z.array(z.enum(['allocated', 'surplus', 'hybrid'])).check(z.maxLength(3, 'may list at most 3 values'))),
  ioType: z.optional(z.array(z.enum(['input', 'output'])).check(z.maxLength(2, 'may list at most 2 values'))),
  minCu: amountBound,
  maxCu: amountBound,
  sort: z._default(z.enum(EVENT_SORTS), 'createdAt'),
  order: z._default(z.enum(SORT_ORDERS), 'desc'),
};

const eventsQuery = z.strictObject({ ...eventTableParameters, ...pageParameters });

const range = (selection: { startDate: string; endDate: string }) => ({ startDate: selection.startDate, endDate: selection.endDate });
const metricValue = (metric: Metric, value: number) => (metric === 'cu' ? toCu(value) : value);

export async function usageRoute(event: APIGatewayProxyEvent, deps: LedgerDependencies, reader: ReadScope) {
  const query = readQuery(event, usageQuery);
  const summary = await getUsageSummary(reader, filterInput(query), deps);
  return jsonResponse(200, usageSummaryBody(summary));
}

export async function timeSeriesRoute(event: APIGatewayProxyEvent, deps: LedgerDependencies, reader: ReadScope) {
  const query = readQuery(event, timeSeriesQuery);
  const { selection, buckets } = await getTimeSeries(reader, filterInput(query), query.metric, query.granularity, deps);
  return jsonResponse(200, {
    ...range(selection),
    metric: query.metric,
    granularity: query.granularity,
    buckets: buckets.map((bucket) => ({
      start: bucket.start,
      value: metricValue(query.metric, bucket.value),
      byJobType: Object.fromEntries(Object.entries(bucket.byJobType).map(([jobType, value]) => [jobType, metricValue(query.metric, value)])),
    })),
  });
}

export async function totalsRoute(event: APIGatewayProxyEvent, deps: LedgerDependencies, reader: ReadScope) {
  const query = readQuery(event, usageQuery);
  const { selection, totals } = await getTotals(reader, filterInput(query), deps);
  return jsonResponse(200, {
    ...range(selection),
    totalCU: toCu(totals.cuMilli),
    totalJobs: totals.jobs,
    jobTypes: totals.jobTypes.map((row) => ({ jobType: row.jobType, jobs: row.jobs, cu: toCu(row.cuMilli) })),
  });
}

export async function powerUsersRoute(event: APIGatewayProxyEvent, deps: LedgerDependencies, reader: ReadScope) {
  const query = readQuery(event, powerUsersQuery);
  const { selection, users } = await getPowerUsers(reader, filterInput(query), query.limit, deps);
  return jsonResponse(200, {
    ...range(selection),
    users: users.map((user) => ({ userId: user.userId, apiKey: isApiKeyUser(user.userId), cu: toCu(user.cuMilli), jobs: user.jobs })),
  });
}

export async function breakdownRoute(event: APIGatewayProxyEvent, deps: LedgerDependencies, reader: ReadScope) {
  const query = readQuery(event, breakdownQuery);
  const { selection, groups } = await getBreakdown(reader, filterInput(query), query.groupBy, deps);
  return jsonResponse(200, { ...range(selection), groupBy: query.groupBy, groups: groups.map(breakdownRow) });
}

export async function eventsRoute(event: APIGatewayProxyEvent, deps: LedgerDependencies, reader: ReadScope) {
  const query = readQuery(event, eventsQuery);
  const page = await listUsageEvents(reader, eventFilterInput(query), { sort: query.sort, order: query.order }, { limit: query.limit, cursor: query.cursor ?? null }, deps);
  return jsonResponse(200, { items: page.items.map(eventTableRow), nextCursor: page.nextCursor });
}

export function eventFilterInput(query: z.output<z.ZodMiniObject<typeof eventTableParameters>>) {
  return {
    ...filterInput(query),
    resourceTypes: query.resourceType,
    poolCategories: query.poolCategory,
    ioTypes: query.ioType,
    minMilli: query.minCu === undefined ? undefined : toMilli(query.minCu),
    maxMilli: query.maxCu === undefined ? undefined : toMilli(query.maxCu),
  };
}

export const usageRoutes: Routes<LedgerDependencies, APIGatewayProxyEvent> = {
  'GET /v1/usage': readerRoute(usageRoute, { summary: "Usage in a window, in the Analytics API's shape: total CU, CU per user, per model and outputs per kind", query: usageQuery }),
  'GET /v1/usage/timeseries': readerRoute(timeSeriesRoute, { summary: 'The main graph: CU or jobs per hour, day, week or month, each bucket split by job type', query: timeSeriesQuery }),
  'GET /v1/usage/totals': readerRoute(totalsRoute, { summary: 'The totals panel: total CU and jobs, then CU and jobs per job type', query: usageQuery }),
  'GET /v1/usage/power-users': readerRoute(powerUsersRoute, { summary: 'Users and API keys ranked by CU, highest first', query: powerUsersQuery }),
  'GET /v1/usage/breakdown': readerRoute(breakdownRoute, { summary: 'CU and jobs per combination of user, project, model and job type', query: breakdownQuery }),
  'GET /v1/usage/events': readerRoute(eventsRoute, { summary: 'The consumption events table: filterable, sortable, paginated; refunds are rows with negative amounts', query: eventsQuery }),
};
