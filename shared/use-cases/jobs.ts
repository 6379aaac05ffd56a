// The time-driven jobs: period rollover and top-up expiry (run on a schedule over what is due), and the ledger
// stream's work: the auto-refill trigger and publishing activity entries. Correctness never depends on them: a
// consume after a reset sees the new period and ignores an expired batch whether or not a job ran. They write the
// log entries, publish the events and prune; each fact is written once (its entry's key), with facts' own times and
// ids, so a run that is late, repeated or concurrent with itself leaves the same state as one run on time.

import { createHash } from 'node:crypto';
import { crossedThreshold, refillBatch, refillPurchaseId } from '../domain/auto-refill';
import { settledTerms, termsAt } from '../domain/billing-terms';
import { poolAt } from '../domain/charge-limits';
import { toCu } from '../domain/compute-units';
import { monthlyExportDue } from '../domain/finance-export';
import { isLive, liveBatchCount, MAX_LIVE_TOP_UPS, poolRemaining } from '../domain/pool';
import type { EventPublisher, PublishedEvent } from '../ports/event-publisher';
import type { DueItem, JobStore, LedgerChange, OrgChange } from '../ports/job-store';
import { termsSourceOf, type ActivityActor, type ActivityRecord, type OrgRecord } from '../ports/ledger-records';
import type { Clock } from '../ports/runtime';
import type { RollupStore } from '../ports/usage-store';
import type { AlertStore } from '../ports/alert-store';
import { alertFiredEvent, alertOnCrossing, alertOnScopeCrossing, PROJECTED_EXHAUSTION, USAGE_THRESHOLD_CROSSED, type AlertTriggerDependencies } from './cost-alerts';
import { withStoreRetries } from './store-retry';

export interface JobDependencies {
  readonly store: JobStore;
  readonly clock: Clock;
}

/** Due items a run reads at a time; it reads again until nothing is due (a handled reset files the next one). */
const DUE_PAGE = 100;
/** A run stops after this many pages and leaves the rest to the next run, well inside the function's timeout. */
const MAX_PAGES = 50;

export const ROLLOVER_JOB: ActivityActor = { kind: 'job', id: 'period-rollover' };
export const EXPIRY_JOB: ActivityActor = { kind: 'job', id: 'top-up-expiry' };
export const REFILL_JOB: ActivityActor = { kind: 'job', id: 'auto-refill' };

export interface JobRunSummary {
  readonly job: string;
  /** Due items handled in this run (written, found already written, or dropped as stale). */
  readonly handled: number;
}

/** An entry id that is the same however often a job writes the same fact: a late or repeated run writes the same item. */
export function factEntryId(orgId: string, entryKey: string): string {
  return `act_${createHash('sha256').update(`${orgId}\u0000${entryKey}`).digest('hex').slice(0, 32)}`;
}

/** How often a job re-reads an org that keeps changing under it before it leaves that item to its next run. */
const ATTEMPTS_PER_ITEM = 5;

/** What became of one due item in a run: handled (written, found written, or dropped), or left for the next run. */
export type DueOutcome = 'handled' | 'left';

/**
 * Handles what is due of `kind` up to now, a page at a time, until nothing is due (an item refiled still due after a
 * long stop is handled in the same run) or the run's page budget is spent.
 */
export async function eachDue(kind: DueItem['kind'], job: string, deps: JobDependencies, handle: (due: DueItem) => Promise<DueOutcome>): Promise<JobRunSummary> {
  let handled = 0;
  // Items left for the next run stay in the table: the next page starts after the last of them, not at the top.
  let lastLeft: DueItem | undefined;
  for (let round = 0; round < MAX_PAGES; round += 1) {
    const due = await withStoreRetries(() => deps.store.listDue(kind, deps.clock.now(), DUE_PAGE, lastLeft));
    if (due.length === 0) break;
    for (const item of due) {
      if ((await handle(item)) === 'handled') handled += 1;
      else lastLeft = item;
    }
  }
  return { job, handled };
}

/**
 * For each org whose reset is due: write the reset entry (applying a downgrade whose time came), prune the counters
 * of periods before the one that just ended, and file the next reset. A due item that no longer marks a reset (an
 * upgrade moved the period) is dropped.
 */
export function runPeriodRollover(deps: JobDependencies): Promise<JobRunSummary> {
  return eachDue('rollover', 'period-rollover', deps, (due) => rollOrgPeriod(due, deps));
}

/**
 * One org's reset at `due.dueAt`: the reset entry, the downgrade written in, the counters pruned, the next reset
 * filed. Run by the rollover job, and by a plan change that finds a reset still due (so no plan change ever lands
 * between a reset and its rollover, and the terms before the reset are the ones the org item holds).
 */
export async function rollOrgPeriod(due: DueItem, deps: JobDependencies): Promise<DueOutcome> {
  for (let attempt = 0; attempt < ATTEMPTS_PER_ITEM; attempt += 1) {
    const org = await withStoreRetries(() => deps.store.getOrg(due.orgId));
    const resetAt = new Date(due.dueAt);
    const ended = org ? termsAt(org, new Date(resetAt.getTime() - 1)) : undefined;
    const started = org ? termsAt(org, resetAt) : undefined;
    if (!org || !ended || !started || started.period.startsAt.getTime() !== resetAt.getTime() || ended.period.resetsAt.getTime() !== resetAt.getTime()) {
      await withStoreRetries(() => deps.store.dropDue(due));
      return 'handled';
    }
    const source = termsSourceOf(org);
    const settled = settledTerms(source, resetAt);
    const downgradeApplied = ended.planName !== started.planName || ended.allowanceMilli !== started.allowanceMilli;
    const keepCountersFrom = ended.period.id;
    const prunePeriods = [...new Set([...Object.keys(org.usage), ...Object.keys(org.refills)])].filter((periodId) => periodId < keepCountersFrom);
    const entry = {
      orgId: org.orgId,
      entryId: factEntryId(org.orgId, `RESET#${started.period.id}`),
      createdAt: started.period.id,
      actor: ROLLOVER_JOB,
      kind: 'period_reset' as const,
      periodId: started.period.id,
      previousPeriodId: ended.period.id,
      plan: { planName: started.planName, allowanceMilli: started.allowanceMilli },
      downgradeApplied,
    };
    const outcome = await withStoreRetries(() =>
      deps.store.rollPeriod({
        due,
        expectedConfigVersion: org.configVersion,
        settled,
        settledNow: settled !== source,
        keepCountersFrom,
        prunePeriods,
        entry,
        nextReset: started.period.resetsAt.toISOString(),
        monthlyExport: monthlyExportDue(org.orgId, resetAt),
      }),
    );
    if (outcome === 'stale') continue;
    if (outcome === 'already_done') await withStoreRetries(() => deps.store.dropDue(due));
    await withStoreRetries(() => deps.store.pruneScopeCounters(org.orgId, keepCountersFrom));
    return 'handled';
  }
  // The org kept changing (refills, top-ups): the next run tries again; consumes never waited for this one.
  return 'left';
}

/** The reset of `org` that is due and not rolled over yet, if any (its `nextResetDue` has passed). */
export function dueReset(org: OrgRecord, now: Date): DueItem | undefined {
  if (org.nextResetDue === null || Date.parse(org.nextResetDue) > now.getTime()) return undefined;
  return { kind: 'rollover', orgId: org.orgId, dueAt: org.nextResetDue, ref: 'reset' };
}

/**
 * For each batch past its expiry: write the expiry entry with the CU it had left, at the batch's own `expiresAt`,
 * and drop the batch from the org. The CU left the pool at that instant whether or not this ran: consumes never
 * draw on a batch past it.
 */
export function runTopUpExpiry(deps: JobDependencies): Promise<JobRunSummary> {
  return eachDue('expiry', 'top-up-expiry', deps, async (due) => {
    for (let attempt = 0; attempt < ATTEMPTS_PER_ITEM; attempt += 1) {
      const org = await withStoreRetries(() => deps.store.getOrg(due.orgId));
      const batch = org?.topUps.find((candidate) => candidate.purchaseId === due.ref);
      if (!org || !batch || batch.expiresAt !== due.dueAt) {
        await withStoreRetries(() => deps.store.dropDue(due));
        return 'handled';
      }
      if (isLive(batch, deps.clock.now())) return 'left';
      const entry = {
        orgId: org.orgId,
        entryId: factEntryId(org.orgId, `EXPIRED#${batch.purchaseId}`),
        createdAt: batch.expiresAt,
        actor: EXPIRY_JOB,
        kind: 'top_up_expired' as const,
        purchaseId: batch.purchaseId,
        cuMilli: batch.cuMilli,
        unspentMilli: Math.max(0, batch.cuMilli - batch.usedMilli),
        expiresAt: batch.expiresAt,
      };
      const outcome = await withStoreRetries(() => deps.store.expireTopUp({ due, batch, entry }));
      if (outcome === 'stale') continue;
      if (outcome === 'already_done') await withStoreRetries(() => deps.store.dropDue(due));
      return 'handled';
    }
    // Charges kept drawing on it (clocks behind its expiry): the next run writes what it had left then.
    return 'left';
  });
}

export type RefillOutcome = 'refilled' | 'already_refilled' | 'no_crossing' | 'limit_reached' | 'superseded';

/**
 * The auto-refill trigger. The write took the pool from at least the threshold to below it (a consume crossing it):
 * buy `amountCu` once for that crossing (its purchase id derives from the change's sequence number), unless the
 * period's refills are used up, or a refill happened since the crossing (another one was in flight and landed).
 */
export async function refillOnCrossing(change: OrgChange, deps: JobDependencies): Promise<RefillOutcome> {
  const settings = change.after.autoRefill;
  if (!settings) return 'no_crossing';
  const termsBefore = termsAt(change.before, change.at);
  const termsAfter = termsAt(change.after, change.at);
  const before = poolRemaining(poolAt(termsBefore, change.before, change.at));
  const after = poolRemaining(poolAt(termsAfter, change.after, change.at));
  if (!crossedThreshold(settings, before, after)) return 'no_crossing';
  const periodId = termsAfter.period.id;
  const refillsSeen = change.after.refills[periodId] ?? 0;
  if (refillsSeen >= settings.maxPerPeriod || liveBatchCount(change.after.topUps, change.at) >= MAX_LIVE_TOP_UPS) return 'limit_reached';
  const purchaseId = refillPurchaseId(change.after.orgId, change.sequenceNumber);
  const batch = refillBatch(settings, purchaseId, deps.clock.now());
  const entry = {
    orgId: change.after.orgId,
    entryId: factEntryId(change.after.orgId, `TOPUP#${purchaseId}`),
    createdAt: batch.purchasedAt,
    actor: REFILL_JOB,
    kind: 'top_up_purchased' as const,
    purchaseId,
    source: 'auto_refill' as const,
    cuMilli: batch.cuMilli,
    expiresAt: batch.expiresAt,
    fingerprint: purchaseId,
  };
  const outcome = await withStoreRetries(() => deps.store.refill({ orgId: change.after.orgId, periodId, refillsSeen, batch, entry }));
  return outcome === 'done' ? 'refilled' : outcome === 'already_done' ? 'already_refilled' : 'superseded';
}

/** The `detail-type`s this service publishes, each from one kind of activity entry. */
export const DETAIL_TYPES = {
  periodReset: 'BillingPeriodReset',
  /** An upgrade started a new period at once: the one before it closed early. */
  periodRestarted: 'BillingPeriodRestarted',
  topUpExpired: 'TopUpExpired',
  autoRefillPurchased: 'AutoRefillPurchased',
  /** Not from activity entries: from cost alerts' firings (alertFiredEvent). */
  usageThresholdCrossed: USAGE_THRESHOLD_CROSSED,
  projectedExhaustion: PROJECTED_EXHAUSTION,
} as const;

/**
 * The event an activity entry publishes, or undefined for entries that publish none. The detail carries the entry's
 * id as `eventId`: the same for the same fact however often it is delivered, so consumers drop repeats by it.
 */
export function publishedEventOf(entry: ActivityRecord): PublishedEvent | undefined {
  const event = publishedEventWithoutId(entry);
  return event && { ...event, detail: { eventId: entry.entryId, ...event.detail } };
}

function publishedEventWithoutId(entry: ActivityRecord): PublishedEvent | undefined {
  const common = { id: entry.entryId, time: entry.createdAt };
  switch (entry.kind) {
    case 'period_reset':
      return {
        ...common,
        detailType: DETAIL_TYPES.periodReset,
        detail: {
          orgId: entry.orgId,
          periodStart: entry.periodId,
          previousPeriodStart: entry.previousPeriodId,
          plan: { name: entry.plan.planName, allowanceCu: toCu(entry.plan.allowanceMilli) },
          downgradeApplied: entry.downgradeApplied,
        },
      };
    case 'plan_upgraded':
      return {
        ...common,
        detailType: DETAIL_TYPES.periodRestarted,
        detail: {
          orgId: entry.orgId,
          periodStart: entry.periodId,
          // The period the upgrade closed: the one in force just before it, by the terms before it.
          previousPeriodStart: termsAt(entry.before, new Date(Date.parse(entry.periodId) - 1)).period.id,
          plan: { name: entry.plan.planName, allowanceCu: toCu(entry.plan.allowanceMilli) },
        },
      };
    case 'top_up_expired':
      return {
        ...common,
        detailType: DETAIL_TYPES.topUpExpired,
        detail: { orgId: entry.orgId, purchaseId: entry.purchaseId, cu: toCu(entry.cuMilli), unspentCu: toCu(entry.unspentMilli), expiresAt: entry.expiresAt },
      };
    case 'top_up_purchased':
      if (entry.source !== 'auto_refill') return undefined;
      return {
        ...common,
        detailType: DETAIL_TYPES.autoRefillPurchased,
        detail: { orgId: entry.orgId, purchaseId: entry.purchaseId, cu: toCu(entry.cuMilli), purchasedAt: entry.createdAt, expiresAt: entry.expiresAt },
      };
    default:
      return undefined;
  }
}

/** What the table stream's handler needs: the jobs' store with the rollup's write, the clock, the publisher. */
export interface StreamDependencies extends JobDependencies, Omit<AlertTriggerDependencies, 'store'> {
  readonly store: JobStore & RollupStore & AlertStore;
  readonly publisher: EventPublisher;
}

/**
 * The stream's work for one change: the refill and alert triggers for an org change, publishing for an activity entry
 * or an alert's firing, the
 * usage rollup for a consume or refund (exactly once, however often the record comes).
 */
export async function handleLedgerChange(change: LedgerChange, deps: StreamDependencies): Promise<void> {
  switch (change.kind) {
    case 'org':
      await refillOnCrossing(change.change, deps);
      await alertOnCrossing(change.change, deps);
      return;
    case 'scope':
      await alertOnScopeCrossing(change.change, deps);
      return;
    case 'alert_fired':
      await deps.publisher.publish([alertFiredEvent(change.firing)]);
      return;
    case 'metered':
      await withStoreRetries(() => deps.store.applyRollup(change.event));
      return;
    case 'activity': {
      const event = publishedEventOf(change.entry);
      if (event) await deps.publisher.publish([event]);
    }
  }
}
