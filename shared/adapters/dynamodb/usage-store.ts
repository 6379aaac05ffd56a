// The analytics ports on DynamoDB. Views read rollup cells (one Query per month of the range); the events table
// reads the log index by time, or the by-day indexes by amount or user and merges the days; the stream's rollup is
// one transaction per event: its marker (new only) and the ADDs on its day cell and its hour cell. Never a Scan.

import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { addDays, daysOf, type DayRange } from '../../domain/usage-filters';
import { comesAfter, compareEvents, type EventOrder, type EventPosition, type EventSelection } from '../../domain/usage-events';
import { usageDeltaOf, type CellDelta } from '../../domain/usage-rollup';
import type { MeterEventRecord } from '../../ports/ledger-records';
import type { RollupOutcome, RollupStore, UsageStore } from '../../ports/usage-store';
import { cellDimensions, cellIncrements, toEventRecord, toUsageCell } from './item-mapping';
import {
  AMOUNT_SORT_KEY,
  EVENTS_BY_AMOUNT_INDEX,
  EVENTS_BY_USER_INDEX,
  EVENT_DAY_KEY,
  EVENT_ENTITY,
  EVENT_LOG_INDEX,
  EVENT_LOG_PARTITION_KEY,
  EVENT_LOG_SORT_KEY,
  PARTITION_KEY,
  ROLLUP_MARKER_TTL_DAYS,
  SORT_KEY,
  USER_SORT_KEY,
  eventDayKeys,
  eventDayPartition,
  eventLogPartition,
  modelNameKey,
  modelNamesQuery,
  rollupMarkerKey,
  usageCellKey,
  usageCellsQuery,
  type TableQuery,
} from './ledger-table';
import { isConditionalCheckFailure } from './sdk-errors';
import type { Item, LedgerTableAccess } from './table-access';
import { UpdateExpressionBuilder } from './update-expression';

/** Days of the by-day indexes read at once. */
const DAY_READS_IN_PARALLEL = 8;
/** Items one Query of a filtered read evaluates at most: a page is filled over several, each larger than the last. */
const FILTERED_QUERY_LIMIT = 1000;

export function dynamoDbUsageStore(table: LedgerTableAccess): UsageStore & RollupStore {
  return {
    async readCells(orgId: string, range: DayRange, grain: 'day' | 'hour') {
      const queries = monthsOf(range).map(({ month, from, to }) => table.queryAll(usageCellsQuery(orgId, month, from, to, grain)));
      return (await Promise.all(queries)).flat().map(toUsageCell);
    },

    async modelNames(orgId: string) {
      const items = await table.queryAll(modelNamesQuery(orgId));
      return new Map(items.map((item) => [String(item.modelId), String(item.modelName)]));
    },

    async listTableEvents(selection: EventSelection, order: EventOrder, limit: number, after: EventPosition | null) {
      if (selection.projects !== 'all' && selection.projects.size === 0) return { events: [], more: false };
      const found = order.sort === 'createdAt' ? await fromLog(table, selection, order, limit, after) : await fromDays(table, selection, order, limit, after);
      return { events: found.slice(0, limit), more: found.length > limit };
    },

    async applyRollup(event: MeterEventRecord): Promise<RollupOutcome> {
      const [day, hour] = usageDeltaOf(event);
      const expiresAt = Math.floor(Date.parse(event.createdAt) / 1000) + ROLLUP_MARKER_TTL_DAYS * 86_400;
      const cancelled = await table.transact([
        { role: 'marker', key: rollupMarkerKey(event.orgId, event.requestId), write: { put: { entity: 'rollup_marker', eventId: event.eventId, expiresAt } }, condition: { name: 'itemIsNew' } },
        { role: 'day', key: usageCellKey(event.orgId, day.key), write: { update: cellUpdate(day) } },
        { role: 'hour', key: usageCellKey(event.orgId, hour.key), write: { update: cellUpdate(hour) } },
      ]);
      if (cancelled && !cancelled.failed('marker')) throw cancelled.asError();
      // A refund repeats its consume's name, which may since have changed: only consumes record one.
      if (event.kind === 'consume' && event.modelId !== undefined && event.modelName !== undefined) await recordModelName(table, event);
      return cancelled ? 'already_applied' : 'applied';
    },
  };
}

/** ADDs the delta to a cell, and sets its dimensions (the same values every time). */
function cellUpdate(delta: CellDelta) {
  const update = new UpdateExpressionBuilder();
  Object.entries(cellIncrements(delta)).forEach(([attribute, value], index) => update.add(attribute, value, `n${index}`));
  Object.entries(cellDimensions(delta.key)).forEach(([attribute, value], index) => update.set(attribute, value, `d${index}`));
  return update.build();
}

/** The model's name as of the event, unless a later one is recorded already (events may arrive out of order). */
async function recordModelName(table: LedgerTableAccess, event: MeterEventRecord): Promise<void> {
  try {
    await table.call(() =>
      table.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: modelNameKey(event.orgId, event.modelId!),
          UpdateExpression: 'SET #modelId = :modelId, #modelName = :modelName, #nameAt = :nameAt',
          ConditionExpression: 'attribute_not_exists(#nameAt) OR #nameAt < :nameAt',
          ExpressionAttributeNames: { '#modelId': 'modelId', '#modelName': 'modelName', '#nameAt': 'nameAt' },
          ExpressionAttributeValues: { ':modelId': event.modelId, ':modelName': event.modelName, ':nameAt': `${event.createdAt}#${event.eventId}` },
        }),
      ),
    );
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
  }
}

/** The months a range touches, each with the range's first and last day inside it. */
function monthsOf(range: DayRange): { month: string; from: string; to: string }[] {
  const months: { month: string; from: string; to: string }[] = [];
  let from = range.startDate;
  while (from <= range.endDate) {
    const month = from.slice(0, 7);
    const nextMonth = addDays(`${month}-28`, 4).slice(0, 7);
    const lastOfMonth = addDays(`${nextMonth}-01`, -1);
    const to = lastOfMonth < range.endDate ? lastOfMonth : range.endDate;
    months.push({ month, from, to });
    from = addDays(to, 1);
  }
  return months;
}

/** The selection as a FilterExpression (what the key condition does not already narrow). */
function eventFilter(selection: EventSelection, onLog: boolean): Pick<TableQuery, 'FilterExpression' | 'ExpressionAttributeNames'> & { values: Record<string, unknown> } {
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const name = (attribute: string) => {
    names[`#${attribute}`] = attribute;
    return `#${attribute}`;
  };
  let placeholders = 0;
  const value = (given: unknown) => {
    const placeholder = `:f${placeholders++}`;
    values[placeholder] = given;
    return placeholder;
  };
  const oneOf = (attribute: string, set: ReadonlySet<string> | 'all' | null) => {
    if (set === null || set === 'all') return;
    // IN takes at most 100 operands.
    const all = [...set];
    const chunks = Array.from({ length: Math.ceil(all.length / 100) }, (_, index) => all.slice(index * 100, index * 100 + 100));
    clauses.push(`(${chunks.map((chunk) => `${name(attribute)} IN (${chunk.map(value).join(', ')})`).join(' OR ')})`);
  };
  if (onLog) clauses.push(`${name('entity')} = ${value(EVENT_ENTITY)}`);
  oneOf('projectId', selection.projects);
  oneOf('userId', selection.users);
  oneOf('jobType', selection.jobTypes);
  oneOf('modelId', selection.models);
  oneOf('resourceType', selection.resourceTypes);
  oneOf('poolCategory', selection.poolCategories);
  oneOf('ioType', selection.ioTypes);
  if (selection.minMilli !== null || selection.maxMilli !== null) {
    // The amount is signed: a refund's -cuMilli must lie within the bounds, so its cuMilli within their negation.
    const [kind, cu] = [name('kind'), name('cuMilli')];
    const bounds = (low: number | null, high: number | null) =>
      [low === null ? '' : `${cu} >= ${value(low)}`, high === null ? '' : `${cu} <= ${value(high)}`].filter(Boolean).join(' AND ');
    const consume = bounds(selection.minMilli, selection.maxMilli);
    const refund = bounds(selection.maxMilli === null ? null : -selection.maxMilli, selection.minMilli === null ? null : -selection.minMilli);
    clauses.push(`((${kind} = ${value('consume')} AND ${consume}) OR (${kind} = ${value('refund')} AND ${refund}))`);
  }
  return clauses.length === 0 ? { values } : { FilterExpression: clauses.join(' AND '), ExpressionAttributeNames: names, values };
}

/**
 * Matching events of one query, in its order, until more than `limit` are found or it has no more. The first Query
 * reads as many items as the page needs; while a filter drops items, each next one reads four times more (up to
 * FILTERED_QUERY_LIMIT), so an unselective filter costs about the page, and a selective one few round trips.
 */
async function collect(table: LedgerTableAccess, query: TableQuery, newestFirst: boolean, limit: number, keep: (event: MeterEventRecord) => boolean): Promise<MeterEventRecord[]> {
  const found: MeterEventRecord[] = [];
  let pageSize = limit + 2;
  let startKey: Item | undefined;
  do {
    const page = await table.query(query, { limit: pageSize, newestFirst, ...(startKey ? { startKey } : {}) });
    for (const item of page.items) {
      const event = toEventRecord(item);
      if (keep(event)) found.push(event);
    }
    startKey = page.lastKey;
    pageSize = Math.min(FILTERED_QUERY_LIMIT, pageSize * 4);
  } while (startKey && found.length <= limit);
  return found;
}

/** Sorted by time: the org's log index, a key range for the dates (and the page's start), the rest filtered. */
async function fromLog(table: LedgerTableAccess, selection: EventSelection, order: EventOrder, limit: number, after: EventPosition | null) {
  const desc = order.order === 'desc';
  const afterKey = after ? `${after.createdAt}#${after.eventId}` : undefined;
  const low = !desc && afterKey ? afterKey : `${selection.startDate}T00:00:00.000Z`;
  const high = desc && afterKey ? afterKey : `${addDays(selection.endDate, 1)}T00:00:00.000Z`;
  const filter = eventFilter(selection, true);
  const query: TableQuery = {
    IndexName: EVENT_LOG_INDEX,
    KeyConditionExpression: `#logPk = :log AND #logSk BETWEEN :low AND :high`,
    ...(filter.FilterExpression ? { FilterExpression: filter.FilterExpression } : {}),
    ExpressionAttributeNames: { ...filter.ExpressionAttributeNames, '#logPk': EVENT_LOG_PARTITION_KEY, '#logSk': EVENT_LOG_SORT_KEY },
    ExpressionAttributeValues: { ...filter.values, ':log': eventLogPartition(selection.orgId), ':low': low, ':high': high },
    cursorAttributes: [PARTITION_KEY, SORT_KEY, EVENT_LOG_PARTITION_KEY, EVENT_LOG_SORT_KEY],
    cursorBelongs: () => true,
  };
  // The range's ends are inclusive: the page's start itself is read again and skipped.
  return collect(table, query, desc, limit, (event) => !after || comesAfter(order, event, after));
}

/** Sorted by amount or user: each day's partition of its index in that order, after the page's start; the days merged. */
async function fromDays(table: LedgerTableAccess, selection: EventSelection, order: EventOrder, limit: number, after: EventPosition | null) {
  const desc = order.order === 'desc';
  const [indexName, sortKey] = order.sort === 'amount' ? [EVENTS_BY_AMOUNT_INDEX, AMOUNT_SORT_KEY] : [EVENTS_BY_USER_INDEX, USER_SORT_KEY];
  const afterKey = after ? eventDayKeys({ orgId: selection.orgId, ...after })[sortKey] : undefined;
  const filter = eventFilter(selection, false);
  const days = daysOf(selection);
  const perDay: MeterEventRecord[][] = [];
  for (let start = 0; start < days.length; start += DAY_READS_IN_PARALLEL) {
    const batch = days.slice(start, start + DAY_READS_IN_PARALLEL).map((day) => {
      const query: TableQuery = {
        IndexName: indexName,
        KeyConditionExpression: afterKey ? `#dayPk = :day AND #sk ${desc ? '<' : '>'} :after` : '#dayPk = :day',
        ...(filter.FilterExpression ? { FilterExpression: filter.FilterExpression } : {}),
        ExpressionAttributeNames: { ...filter.ExpressionAttributeNames, '#dayPk': EVENT_DAY_KEY, ...(afterKey ? { '#sk': sortKey } : {}) },
        ExpressionAttributeValues: { ...filter.values, ':day': eventDayPartition(selection.orgId, day), ...(afterKey ? { ':after': afterKey } : {}) },
        cursorAttributes: [PARTITION_KEY, SORT_KEY, EVENT_DAY_KEY, sortKey],
        cursorBelongs: () => true,
      };
      return collect(table, query, desc, limit, () => true);
    });
    perDay.push(...(await Promise.all(batch)));
  }
  return perDay.flat().sort(compareEvents(order)).slice(0, limit + 1);
}
