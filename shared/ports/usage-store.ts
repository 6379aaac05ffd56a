// The ports the analytics views need: the rollup cells of a range of days, the models' names, pages of the events
// table; and the one write the table's stream makes for each consume or refund, its rollup.

import type { UsageCell } from '../domain/usage-rollup';
import type { DayRange } from '../domain/usage-filters';
import type { EventOrder, EventPosition, EventSelection } from '../domain/usage-events';
import type { MeterEventRecord } from './ledger-records';

export interface UsageStore {
  /** Every day cell (or hour cell) of the org's days in the range (both ends included). */
  readCells(orgId: string, range: DayRange, grain: 'day' | 'hour'): Promise<UsageCell[]>;
  /** The latest friendly name recorded for each of the org's models. */
  modelNames(orgId: string): Promise<ReadonlyMap<string, string>>;
  /**
   * Up to `limit` events the selection matches, in the order asked for, after `after` (exclusive). `more`: whether
   * another matching event follows the last one returned.
   */
  listTableEvents(selection: EventSelection, order: EventOrder, limit: number, after: EventPosition | null): Promise<{ readonly events: MeterEventRecord[]; readonly more: boolean }>;
}

export type RollupOutcome = 'applied' | 'already_applied';

export interface RollupStore {
  /** Adds the event to its cell exactly once, however often it is handed over; records its model's name if newer. */
  applyRollup(event: MeterEventRecord): Promise<RollupOutcome>;
}
