// The analytics reads: a reader's filters become a selection (their scope applied), the range's rollup cells are read
// once, and a domain view is computed from them. The events table pages through the log instead, with a cursor
// bound to the query it came from.

import { invalidCursor } from '../domain/errors';
import { requestFingerprint } from '../domain/fingerprint';
import type { ReadScope } from '../domain/permissions';
import {
  breakdown,
  selectCells,
  timeSeries,
  usageByUser,
  usageSummary,
  usageTotals,
  MAX_HOURLY_DAYS,
  type BreakdownDimension,
  type Granularity,
  type Metric,
} from '../domain/usage-analytics';
import { eventSelection, positionOf, type EventFilterInput, type EventOrder, type EventPosition } from '../domain/usage-events';
import { selectionFor, type UsageFilterInput, type UsageSelection } from '../domain/usage-filters';
import type { UsageCell } from '../domain/usage-rollup';
import type { Page } from '../ports/admin-store';
import type { MeterEventRecord } from '../ports/ledger-records';
import type { Clock } from '../ports/runtime';
import type { UsageStore } from '../ports/usage-store';
import { withStoreRetries } from './store-retry';

export interface AnalyticsDependencies {
  readonly store: UsageStore;
  readonly clock: Clock;
}

/** The selection and its cells. */
async function selectedCells(reader: ReadScope, input: UsageFilterInput, deps: AnalyticsDependencies, grain: 'day' | 'hour' = 'day'): Promise<{ selection: UsageSelection; cells: UsageCell[] }> {
  const selection = selectionFor(reader, input, deps.clock.now(), grain === 'hour' ? MAX_HOURLY_DAYS : undefined);
  if (selection.projects !== 'all' && selection.projects.size === 0) return { selection, cells: [] };
  const cells = await withStoreRetries(() => deps.store.readCells(selection.orgId, selection, grain));
  return { selection, cells: selectCells(cells, selection) };
}

/** `GET /v1/usage`: the Analytics API's summary (seed 003). */
export async function getUsageSummary(reader: ReadScope, input: UsageFilterInput, deps: AnalyticsDependencies) {
  const [{ selection, cells }, names] = await Promise.all([selectedCells(reader, input, deps), withStoreRetries(() => deps.store.modelNames(reader.orgId))]);
  return usageSummary(cells, selection, names);
}

export async function getTimeSeries(reader: ReadScope, input: UsageFilterInput, metric: Metric, granularity: Granularity, deps: AnalyticsDependencies) {
  const { selection, cells } = await selectedCells(reader, input, deps, granularity === 'hour' ? 'hour' : 'day');
  return { selection, buckets: timeSeries(cells, selection, metric, granularity) };
}

export async function getTotals(reader: ReadScope, input: UsageFilterInput, deps: AnalyticsDependencies) {
  const { selection, cells } = await selectedCells(reader, input, deps);
  return { selection, totals: usageTotals(cells) };
}

export async function getPowerUsers(reader: ReadScope, input: UsageFilterInput, limit: number, deps: AnalyticsDependencies) {
  const { selection, cells } = await selectedCells(reader, input, deps);
  return { selection, users: usageByUser(cells).slice(0, limit) };
}

export async function getBreakdown(reader: ReadScope, input: UsageFilterInput, groupBy: readonly BreakdownDimension[], deps: AnalyticsDependencies) {
  const { selection, cells } = await selectedCells(reader, input, deps);
  return { selection, groups: breakdown(cells, groupBy) };
}

/** The events table's selection for a reader: the shared filters with the reader's scope, then the table's own. */
function eventSelectionFor(reader: ReadScope, input: UsageFilterInput & EventFilterInput, order: EventOrder, deps: AnalyticsDependencies) {
  return eventSelection(selectionFor(reader, input, deps.clock.now()), input, order);
}

/** A page of the events table, and the cursor to the next one (null after the last). */
export async function listUsageEvents(
  reader: ReadScope,
  input: UsageFilterInput & EventFilterInput,
  order: EventOrder,
  page: { readonly limit: number; readonly cursor: string | null },
  deps: AnalyticsDependencies,
): Promise<Page<MeterEventRecord>> {
  const selection = eventSelectionFor(reader, input, order, deps);
  // The cursor belongs to this org, these filters (as resolved: dates filled in, the scope applied) and this order.
  const query = requestFingerprint('usage-events', { ...selection, ...order, ...setsAsLists(selection) });
  const after = page.cursor === null ? null : decodeEventCursor(page.cursor, query);
  const { events, more } = await withStoreRetries(() => deps.store.listTableEvents(selection, order, page.limit, after));
  const last = events.at(-1);
  return { items: events, nextCursor: more && last ? encodeEventCursor(query, positionOf(last)) : null };
}

/** Rows an export reads at a time. */
const EXPORT_PAGE_SIZE = 100;

/**
 * Every row of the events table for a query, page by page, in order: the CSV export streams them as they come. The
 * selection is checked before the first page is read, so bad filters fail before anything is sent.
 */
export function eachEventsPage(reader: ReadScope, input: UsageFilterInput & EventFilterInput, order: EventOrder, deps: AnalyticsDependencies): AsyncIterable<MeterEventRecord[]> {
  const selection = eventSelectionFor(reader, input, order, deps);
  return {
    async *[Symbol.asyncIterator]() {
      let after: EventPosition | null = null;
      do {
        const page = await withStoreRetries(() => deps.store.listTableEvents(selection, order, EXPORT_PAGE_SIZE, after));
        yield page.events;
        const last = page.events.at(-1);
        after = page.more && last ? positionOf(last) : null;
      } while (after);
    },
  };
}

function setsAsLists(selection: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(selection).map(([key, value]) => [key, value instanceof Set ? [...value].sort() : value]));
}

interface EventCursor {
  readonly q: string;
  readonly p: EventPosition;
}

function encodeEventCursor(query: string, position: EventPosition): string {
  const cursor: EventCursor = { q: query, p: position };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** The position a cursor holds; a made-up cursor, or one from another query, is 400 invalid_cursor. */
function decodeEventCursor(text: string, query: string): EventPosition {
  let cursor: unknown;
  try {
    cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const { q, p } = (cursor ?? {}) as Partial<EventCursor>;
  const valid =
    q === query &&
    typeof p === 'object' &&
    p !== null &&
    typeof p.createdAt === 'string' &&
    !Number.isNaN(Date.parse(p.createdAt)) &&
    typeof p.eventId === 'string' &&
    p.eventId.length > 0 &&
    p.eventId.length <= 128 &&
    typeof p.userId === 'string' &&
    p.userId.length <= 128 &&
    Number.isSafeInteger(p.amountMilli);
  if (!valid) throw invalidCursor();
  return { createdAt: p.createdAt, eventId: p.eventId, amountMilli: p.amountMilli, userId: p.userId };
}
