// The CSV export Lambda (`GET /v1/usage/export.csv`): the events table, or with `groupBy` the breakdown, under the
// same filters as their JSON routes; and the org's members, projects and API keys (`GET /v1/orgs/{orgId}/usage/
// <listing>.csv`), as their JSON routes list them. Streamed as it is read (Lambda response streaming behind the REST
// API; the local runner streams it chunked). A streaming function is its own Lambda: its responses are not the JSON proxy
// answers the other analytics routes give.

import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { invalidField } from '../../shared/domain/errors';
import type { ReadScope } from '../../shared/domain/permissions';
import { ledgerDependencies, type LedgerDependencies } from '../../shared/composition';
import type { Routes } from '../../shared/http/routes';
import { lambdaStreamingEntry, streamingAreaHandler, type StreamedAnswer } from '../../shared/http/streaming';
import { eachEventsPage, getBreakdown } from '../../shared/use-cases/usage-analytics';
import { csvStream } from '../../shared/domain/csv';
import { orgReaderRoute, readerRoute } from './reader-route';
import { ORG_LISTINGS } from './org-listing-routes';
import { orgPath } from '../org-admin-access';
import { SCOPE_CSV_COLUMNS, scopeCsvRow } from '../../shared/http/scope-rows';
import type { ScopeKind } from '../../shared/ports/ledger-records';
import { eachReadableScopesPage } from '../../shared/use-cases/usage-views';
import { filterInput, readQuery } from './usage-query';
import { eventFilterInput, eventTableParameters, groupByParameter } from './usage-routes';
import { breakdownRow, EVENT_COLUMNS, eventTableRow } from '../../shared/domain/usage-rows';

const exportQuery = z.strictObject({ ...eventTableParameters, groupBy: z.optional(groupByParameter) });

/** Filters only events carry: the rollup behind a breakdown has no such dimension. */
const EVENT_ONLY = ['resourceType', 'poolCategory', 'ioType', 'minCu', 'maxCu'] as const;

export async function exportRoute(event: APIGatewayProxyEvent, deps: LedgerDependencies, reader: ReadScope): Promise<StreamedAnswer> {
  const query = readQuery(event, exportQuery);
  if (query.groupBy) {
    const eventOnly = EVENT_ONLY.find((name) => query[name] !== undefined);
    if (eventOnly) throw invalidField(eventOnly, `${eventOnly}: filters events only; leave out groupBy to export events`);
    const groupBy = query.groupBy;
    const rows = (async function* () {
      const { groups } = await getBreakdown(reader, filterInput(query), groupBy, deps);
      yield groups.map(breakdownRow);
    })();
    return csvAnswer(`usage-breakdown`, [...groupBy, 'cu', 'jobs'], rows);
  }
  const pages = eachEventsPage(reader, eventFilterInput(query), { sort: query.sort, order: query.order }, deps);
  const rows = (async function* () {
    for await (const page of pages) yield page.map(eventTableRow);
  })();
  return csvAnswer('usage-events', EVENT_COLUMNS, rows);
}

function csvAnswer(name: string, columns: readonly string[], rows: AsyncIterable<readonly Readonly<Record<string, unknown>>[]>): StreamedAnswer {
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}.csv"` },
    body: csvStream(columns, rows),
  };
}

const listingCsvQuery = z.strictObject({});

/** Every row of an org listing the reader may see, as its JSON route answers them page by page. */
function listingCsvRoute(path: string, kind: ScopeKind) {
  return async (event: APIGatewayProxyEvent, deps: LedgerDependencies, reader: ReadScope): Promise<StreamedAnswer> => {
    readQuery(event, listingCsvQuery);
    const pages = eachReadableScopesPage(reader, kind, deps);
    const rows = (async function* () {
      for await (const page of pages) yield page.map(scopeCsvRow);
    })();
    return csvAnswer(path, SCOPE_CSV_COLUMNS[kind], rows);
  };
}

export const exportRoutes: Routes<LedgerDependencies, APIGatewayProxyEvent, StreamedAnswer> = {
  'GET /v1/usage/export.csv': readerRoute(exportRoute, {
    summary: 'The events table (or, with groupBy, the breakdown) as CSV, streamed, under the same filters; spreadsheet-safe cells',
    query: exportQuery,
  }),
  ...Object.fromEntries(
    ORG_LISTINGS.map(({ path, kind, what }) => [
      `GET /v1/orgs/{orgId}/usage/${path}.csv`,
      orgReaderRoute(listingCsvRoute(path, kind), {
        summary: `${what} with their usage bars this period, every row as CSV; spreadsheet-safe cells`,
        path: orgPath,
        query: listingCsvQuery,
      }),
    ]),
  ),
};

/** Writes to a sink: the local runner and tests call this. */
export const streamingHandler = streamingAreaHandler(exportRoutes, ledgerDependencies);

/** The Lambda entry (response streaming). */
export const handler = lambdaStreamingEntry(streamingHandler);
