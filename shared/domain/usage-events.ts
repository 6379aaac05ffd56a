// The consumption events table (seed 002): which events a selection matches, their orders, and where a page ends.
// Refunds are rows of their own with a negative amount. Every order breaks ties by time, then by event id, so a
// page boundary is one exact position.

import type { MilliCu } from './compute-units';
import { invalidField } from './errors';
import type { LoggedEvent } from './usage-rollup';
import { daysBetween, narrowsBeyondDates, type UsageSelection } from './usage-filters';

export const EVENT_SORTS = ['createdAt', 'amount', 'userId'] as const;
export type EventSort = (typeof EVENT_SORTS)[number];
export const SORT_ORDERS = ['desc', 'asc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

export interface EventOrder {
  readonly sort: EventSort;
  readonly order: SortOrder;
}

/**
 * Sorting by amount or user reads each day's events in that order and merges the days: with dates alone, it reads
 * at most (page size + 1) events per day. Any other filter may make it read a day's events in full, so the range is
 * capped.
 */
export const MAX_FILTERED_SORT_DAYS = 31;

/** The events table's filters beyond the shared ones (seed 002). Empty lists mean "any". */
export interface EventFilterInput {
  readonly resourceTypes?: readonly string[] | undefined;
  readonly poolCategories?: readonly string[] | undefined;
  readonly ioTypes?: readonly string[] | undefined;
  readonly minMilli?: MilliCu | undefined;
  readonly maxMilli?: MilliCu | undefined;
}

export interface EventSelection extends UsageSelection {
  readonly resourceTypes: ReadonlySet<string> | null;
  readonly poolCategories: ReadonlySet<string> | null;
  readonly ioTypes: ReadonlySet<string> | null;
  /** Bounds on the signed amount, both included. */
  readonly minMilli: MilliCu | null;
  readonly maxMilli: MilliCu | null;
}

/** What a row is matched and ordered on. */
export interface TableEvent extends LoggedEvent {
  readonly resourceType?: string | undefined;
  readonly poolCategory: string;
  readonly ioType?: string | undefined;
}

/** Where a page ended: the last row's sort values. */
export interface EventPosition {
  readonly createdAt: string;
  readonly eventId: string;
  readonly amountMilli: MilliCu;
  readonly userId: string;
}

export function signedAmount(event: Pick<TableEvent, 'kind' | 'cuMilli'>): MilliCu {
  return event.kind === 'refund' ? -event.cuMilli : event.cuMilli;
}

export function positionOf(event: TableEvent): EventPosition {
  return { createdAt: event.createdAt, eventId: event.eventId, amountMilli: signedAmount(event), userId: event.userId };
}

/** The selection with the table's own filters, checked: min not above max; a filtered amount or user sort within 31 days. */
export function eventSelection(selection: UsageSelection, input: EventFilterInput, order: EventOrder): EventSelection {
  const set = (values: readonly string[] | undefined) => (values && values.length > 0 ? new Set(values) : null);
  if (input.minMilli !== undefined && input.maxMilli !== undefined && input.minMilli > input.maxMilli) throw invalidField('minCu', 'must not be greater than maxCu');
  const events: EventSelection = {
    ...selection,
    resourceTypes: set(input.resourceTypes),
    poolCategories: set(input.poolCategories),
    ioTypes: set(input.ioTypes),
    minMilli: input.minMilli ?? null,
    maxMilli: input.maxMilli ?? null,
  };
  if (order.sort !== 'createdAt' && narrowsEvents(events) && daysBetween(events) > MAX_FILTERED_SORT_DAYS) {
    throw invalidField('endDate', `sorting by ${order.sort} with filters besides the dates covers at most ${MAX_FILTERED_SORT_DAYS} days`);
  }
  return events;
}

/** Whether anything besides the dates narrows the selection (a project admin's scope counts). */
export function narrowsEvents(selection: EventSelection): boolean {
  return (
    narrowsBeyondDates(selection) ||
    selection.resourceTypes !== null ||
    selection.poolCategories !== null ||
    selection.ioTypes !== null ||
    selection.minMilli !== null ||
    selection.maxMilli !== null
  );
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Ascending comparison of two positions under a sort: its own value, then time, then event id. */
function comparePositions(sort: EventSort, a: EventPosition, b: EventPosition): number {
  const own = sort === 'amount' ? a.amountMilli - b.amountMilli : sort === 'userId' ? compareText(a.userId, b.userId) : 0;
  return own || compareText(a.createdAt, b.createdAt) || compareText(a.eventId, b.eventId);
}

/** Row order: negative when `a` comes before `b`. */
export function compareEvents(order: EventOrder): (a: TableEvent, b: TableEvent) => number {
  const direction = order.order === 'asc' ? 1 : -1;
  return (a, b) => direction * comparePositions(order.sort, positionOf(a), positionOf(b));
}

/** Whether the event comes after the position in the order (it belongs on a later page). */
export function comesAfter(order: EventOrder, event: TableEvent, position: EventPosition): boolean {
  const direction = order.order === 'asc' ? 1 : -1;
  return direction * comparePositions(order.sort, positionOf(event), position) > 0;
}
