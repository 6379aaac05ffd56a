// The port the time-driven jobs need (period rollover, top-up expiry, auto-refill): what is due, and the atomic
// writes that handle it. Each write happens once per fact (its activity entry's key), so a job that runs late,
// twice or concurrently with itself leaves the state one run would.

import type { AlertFiring } from '../domain/cost-alerts';
import type { OrgTermsSource } from '../domain/billing-terms';
import type { TopUpBatch } from '../domain/pool';
import type { MilliCu } from '../domain/compute-units';
import type { ActivityRecord, MeterEventRecord, OrgRecord, ScopeKind } from './ledger-records';

export type DueKind = 'rollover' | 'expiry' | 'export';

/**
 * Something a job must do for one org at `dueAt`: a period's reset (`ref` = 'reset'), a batch's expiry (`ref` = its
 * purchase id) or a month's export once the month has ended (`ref` = the month, YYYY-MM).
 */
export interface DueItem {
  readonly kind: DueKind;
  readonly orgId: string;
  readonly dueAt: string;
  readonly ref: string;
}

export type JobWriteOutcome = 'done' | 'already_done' | 'stale';

/** A change to an org item as the table's stream reports it: before and after, the write's time, its sequence number. */
export interface OrgChange {
  readonly before: OrgRecord;
  readonly after: OrgRecord;
  readonly at: Date;
  /** Stable for the change however often it is delivered: the crossing's identity. */
  readonly sequenceNumber: string;
}

/** A charge raised a project's, member's or API key's usage in a period (refunds and cap changes raise none). */
export interface ScopeChange {
  readonly orgId: string;
  readonly scope: { readonly kind: ScopeKind; readonly id: string };
  readonly periodId: string;
  readonly beforeMilli: MilliCu;
  readonly afterMilli: MilliCu;
  /** The scope's own cap after the change (null: none of its own; a member or key may have the org's default). */
  readonly capMilli: MilliCu | null;
  /** When the table wrote the change (the stream's approximate time). */
  readonly at: Date;
}

/** One change the ledger's stream reports that the service acts on. */
export type LedgerChange =
  | { readonly kind: 'org'; readonly change: OrgChange }
  | { readonly kind: 'scope'; readonly change: ScopeChange }
  | { readonly kind: 'activity'; readonly entry: ActivityRecord }
  /** A consume or refund was logged: it goes into the usage rollup. */
  | { readonly kind: 'metered'; readonly event: MeterEventRecord }
  /** A cost alert fired (its one firing for the threshold and period was written): it is published. */
  | { readonly kind: 'alert_fired'; readonly firing: AlertFiring };

export interface RolloverCommand {
  readonly due: DueItem;
  /** The org's config version the rollover was planned on; a plan change in between makes the command stale. */
  readonly expectedConfigVersion: number;
  /** The terms with any pending downgrade written in; unchanged when there was none. */
  readonly settled: OrgTermsSource;
  /** Whether `settled` writes a pending downgrade in (and so bumps the config version). */
  readonly settledNow: boolean;
  /** Counters (and refill counts) of periods before this one are pruned. */
  readonly keepCountersFrom: string;
  /** The usage attributes on the org item to prune (period ids). */
  readonly prunePeriods: readonly string[];
  readonly entry: ActivityRecord & { readonly kind: 'period_reset' };
  /** The reset after this one: the next due rollover. */
  readonly nextReset: string;
  /**
   * The monthly export due at the end of the month the new period starts in, filed again (a no-op when it is
   * filed already): every org rolls over monthly, so an org that has none (created before monthly exports) gets it.
   */
  readonly monthlyExport: DueItem;
}

export interface ExpiryCommand {
  readonly due: DueItem;
  readonly batch: TopUpBatch;
  readonly entry: ActivityRecord & { readonly kind: 'top_up_expired' };
}

export interface RefillCommand {
  readonly orgId: string;
  readonly periodId: string;
  /** The refills of the period the crossing saw: a refill since then (one for a later crossing) skips this one. */
  readonly refillsSeen: number;
  readonly batch: TopUpBatch;
  readonly entry: ActivityRecord & { readonly kind: 'top_up_purchased' };
}

export interface JobStore {
  getOrg(orgId: string): Promise<OrgRecord | undefined>;
  /** What is due of `kind` at or before `upTo`, soonest first (at most `limit` items), after `after` if given. */
  listDue(kind: DueKind, upTo: Date, limit: number, after?: DueItem): Promise<DueItem[]>;
  /** Drops a due item that needs nothing more (handled, or made stale by a plan change or a dropped batch). */
  dropDue(due: DueItem): Promise<void>;
  /** One atomic write: `handled` goes and `next` is filed (filing it twice leaves one item). */
  refileDue(handled: DueItem, next: DueItem): Promise<void>;
  /** One atomic write: the reset entry (once per period), the org's settled terms and pruned counters, the next due reset; the due item goes. */
  rollPeriod(command: RolloverCommand): Promise<JobWriteOutcome>;
  /** Removes per-period counters older than `keepFrom` from the org's projects, members and API keys; returns how many items changed. */
  pruneScopeCounters(orgId: string, keepFrom: string): Promise<number>;
  /** One atomic write: the expiry entry (once per batch) with the unspent CU, the batch off the org (still as used as planned); the due item goes. */
  expireTopUp(command: ExpiryCommand): Promise<JobWriteOutcome>;
  /** One atomic write: the refill's purchase entry (once per crossing), the batch on the org, the period's refill count, its expiry due. */
  refill(command: RefillCommand): Promise<JobWriteOutcome>;
}
