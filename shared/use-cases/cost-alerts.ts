// Cost alerts: an org's thresholds, set as a whole list and read back with what fired this period, and the stream's
// trigger that fires each at most once per period.

import { termsAt, type BillingTerms } from '../domain/billing-terms';
import { poolAt, usedIn } from '../domain/charge-limits';
import { toCu, type MilliCu } from '../domain/compute-units';
import { checkThresholds, crossedThresholds, firingId, projectExhaustion, scopeThresholds, thresholdMilli, type AlertFiring, type AlertThreshold } from '../domain/cost-alerts';
import { capFor } from '../domain/limits';
import { isLive, poolRemaining } from '../domain/pool';
import type { PublishedEvent } from '../ports/event-publisher';
import type { JobStore, OrgChange, ScopeChange } from '../ports/job-store';
import { orgNotFound } from '../domain/errors';
import type { AdminStore } from '../ports/admin-store';
import type { AlertStore } from '../ports/alert-store';
import type { Clock } from '../ports/runtime';
import { withStoreRetries } from './store-retry';
import { readOrg } from './usage-views';

export interface AlertDependencies {
  readonly store: AdminStore & AlertStore;
  readonly clock: Clock;
}

export interface AlertsView {
  readonly thresholds: AlertThreshold[];
  readonly terms: BillingTerms;
  readonly fired: AlertFiring[];
}

/**
 * Replaces an org's thresholds:
 * 1. refuses a list whose ids repeat (each id keys its firing);
 * 2. writes the list while the org exists;
 * 3. answers with the list and what fired this period: a threshold kept under its id stays fired, a new one is armed.
 */
export async function setAlertThresholds(orgId: string, thresholds: readonly AlertThreshold[], deps: AlertDependencies): Promise<AlertsView> {
  checkThresholds(thresholds);
  const outcome = await withStoreRetries(() => deps.store.putAlertThresholds(orgId, thresholds, deps.clock.now().toISOString()));
  if (outcome === 'org_missing') throw orgNotFound(orgId);
  return readAlerts(orgId, deps);
}

/** An org's thresholds, with the current period and what fired in it. */
export async function readAlerts(orgId: string, deps: AlertDependencies): Promise<AlertsView> {
  const org = await readOrg(orgId, deps);
  const terms = termsAt(org, deps.clock.now());
  const [thresholds, fired] = await Promise.all([
    withStoreRetries(() => deps.store.getAlertThresholds(orgId)),
    withStoreRetries(() => deps.store.listAlertFirings(orgId, terms.period.id)),
  ]);
  return { thresholds, terms, fired };
}

/** What the alert triggers read: the org's thresholds (and, for a scope without a cap, the org's default limit). */
export interface AlertTriggerDependencies {
  readonly store: AlertStore & Pick<JobStore, 'getOrg'>;
  /** The thresholds of each org read in this batch of stream records: one read per org and batch, not per record. */
  readonly thresholdsRead?: Map<string, Promise<AlertThreshold[]>>;
  /** The projections this process already saw recorded: a charge after one writes nothing more. */
  readonly alertMemory?: AlertMemory;
}

function orgThresholds(orgId: string, deps: AlertTriggerDependencies): Promise<AlertThreshold[]> {
  const read = () => withStoreRetries(() => deps.store.getAlertThresholds(orgId));
  if (!deps.thresholdsRead) return read();
  let thresholds = deps.thresholdsRead.get(orgId);
  if (!thresholds) {
    thresholds = read();
    // A failed read is not kept: the record is delivered again and reads again.
    thresholds.catch(() => deps.thresholdsRead?.delete(orgId));
    deps.thresholdsRead.set(orgId, thresholds);
  }
  return thresholds;
}

/**
 * The alert triggers on the stream's change of an org item (a charge that drew on the pool):
 * 1. the pool's thresholds: the period's usage of the allowance before and after the charge, both in the period of the
 *    charge's own time, is compared with each; a crossed one records its firing;
 * 2. the projection (projectExhaustion): when the pool is projected to run out before the reset, its firing is recorded.
 * Each firing is a conditional put keyed by (what fired, period): a redelivered change, or a crash after the put and a
 * retry, adds none, and the firing's own stream record publishes it. Usage counters only rise within a period, so
 * exactly one change crosses a level; a new period counts from 0 again.
 */
export async function alertOnCrossing(change: OrgChange, deps: AlertTriggerDependencies): Promise<void> {
  const { before, after, at } = change;
  const terms = termsAt(after, at);
  const pool = (await orgThresholds(after.orgId, deps)).filter((threshold) => threshold.scope.kind === 'org');
  const usedBefore = usedIn(before, terms.period);
  const usedAfter = usedIn(after, terms.period);
  for (const { threshold } of crossedThresholds(pool, usedBefore, usedAfter, terms.allowanceMilli)) {
    await recordFiring(
      { kind: 'threshold', orgId: after.orgId, thresholdId: threshold.thresholdId, scope: threshold.scope, level: threshold.level, periodStart: terms.period.id, firedAt: at.toISOString(), usageMilli: usedAfter, limitMilli: terms.allowanceMilli },
      deps,
    );
  }
  await projectOnCharge(change, terms, deps);
}

/**
 * The projection after a charge. The pool's usage in the period is the allowance's counter plus what batches bought
 * in the period gave (a batch bought earlier may have given some of its CU before the period: it is left out, so the
 * rate errs low). The pool left and its total are the allowance and the live batches at the charge's time.
 */
async function projectOnCharge(change: OrgChange, terms: BillingTerms, deps: AlertTriggerDependencies): Promise<void> {
  const { after, at } = change;
  const memoryKey = `${after.orgId}\u0000${terms.period.id}`;
  if (deps.alertMemory?.has(memoryKey)) return;
  const live = after.topUps.filter((batch) => isLive(batch, at));
  const boughtInPeriod = after.topUps.filter((batch) => Date.parse(batch.purchasedAt) >= terms.period.startsAt.getTime());
  const usedMilli = (usedIn(after, terms.period) + boughtInPeriod.reduce((sum, batch) => sum + batch.usedMilli, 0)) as MilliCu;
  const remainingMilli = poolRemaining(poolAt(terms, after, at));
  const projection = projectExhaustion({ periodStartsAt: terms.period.startsAt, resetsAt: terms.period.resetsAt, at, usedMilli, remainingMilli });
  if (!projection) return;
  await recordFiring(
    {
      kind: 'projected_exhaustion',
      orgId: after.orgId,
      periodStart: terms.period.id,
      resetsAt: terms.period.resetsAt.toISOString(),
      firedAt: at.toISOString(),
      projectedAt: projection.projectedAt.toISOString(),
      usageMilli: usedMilli,
      limitMilli: (terms.allowanceMilli + live.reduce((sum, batch) => sum + batch.cuMilli, 0)) as MilliCu,
      remainingMilli,
      milliPerDay: projection.milliPerDay,
    },
    deps,
  );
  deps.alertMemory?.remember(memoryKey);
}

/**
 * The alert trigger on a project's, member's or API key's counter raised by a charge: its thresholds (none: done, at
 * the cost of the batch's one read of the org's thresholds), each compared with the counter before and after, in the
 * counter's own period. A percentage is of the cap in force: the scope's own, or the org's default limit for a member
 * or key without one (read only then).
 */
export async function alertOnScopeCrossing(change: ScopeChange, deps: AlertTriggerDependencies): Promise<void> {
  const thresholds = scopeThresholds(await orgThresholds(change.orgId, deps), change.scope.kind, change.scope.id);
  if (thresholds.length === 0) return;
  let limitMilli = change.capMilli;
  if (limitMilli === null && change.scope.kind !== 'project') {
    const org = await withStoreRetries(() => deps.store.getOrg(change.orgId));
    limitMilli = capFor({ kind: change.scope.kind, capMilli: null }, { defaultCapMilli: org?.defaultCapMilli ?? null }).capMilli;
  }
  for (const { threshold } of crossedThresholds(thresholds, change.beforeMilli, change.afterMilli, limitMilli)) {
    await recordFiring(
      { kind: 'threshold', orgId: change.orgId, thresholdId: threshold.thresholdId, scope: threshold.scope, level: threshold.level, periodStart: change.periodId, firedAt: change.at.toISOString(), usageMilli: change.afterMilli, limitMilli },
      deps,
    );
  }
}

function recordFiring(firing: AlertFiring, deps: AlertTriggerDependencies): Promise<'added' | 'duplicate'> {
  return withStoreRetries(() => deps.store.recordAlertFiring(firing));
}

/**
 * Facts this process has seen recorded, so it need not write them again: bounded, the oldest forgotten first (a
 * forgotten one costs one conditional put that finds it written).
 */
export class AlertMemory {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 10_000) {}

  has(key: string): boolean {
    return this.seen.has(key);
  }

  remember(key: string): void {
    if (this.seen.size >= this.capacity) this.seen.delete(this.seen.values().next().value!);
    this.seen.add(key);
  }
}

/** The `detail-type` of a threshold's firing on the bus (DETAIL_TYPES lists it with the others). */
export const USAGE_THRESHOLD_CROSSED = 'UsageThresholdCrossed';
/** The `detail-type` of the pool's projected exhaustion on the bus. */
export const PROJECTED_EXHAUSTION = 'ProjectedExhaustion';

/** A firing as published: its id is the same however often its record is delivered, so consumers drop repeats by it. */
export function alertFiredEvent(firing: AlertFiring): PublishedEvent {
  const id = `alert:${firing.orgId}:${firing.periodStart}:${firingId(firing)}`;
  if (firing.kind === 'projected_exhaustion') {
    return {
      id,
      time: firing.firedAt,
      detailType: PROJECTED_EXHAUSTION,
      detail: {
        eventId: id,
        orgId: firing.orgId,
        periodStart: firing.periodStart,
        resetsAt: firing.resetsAt,
        projectedAt: firing.projectedAt,
        usageCu: toCu(firing.usageMilli),
        limitCu: toCu(firing.limitMilli),
        remainingCu: toCu(firing.remainingMilli),
        cuPerDay: toCu(firing.milliPerDay),
        evaluatedAt: firing.firedAt,
      },
    };
  }
  const { level, limitMilli } = firing;
  // A percentage fired only against a limit; an absolute level is its own.
  const levelMilli = thresholdMilli(level, limitMilli) ?? (level.kind === 'absolute' ? level.cuMilli : 0);
  return {
    id,
    time: firing.firedAt,
    detailType: USAGE_THRESHOLD_CROSSED,
    detail: {
      eventId: id,
      orgId: firing.orgId,
      scope: { ...firing.scope },
      threshold: {
        id: firing.thresholdId,
        ...(level.kind === 'absolute' ? { cu: toCu(level.cuMilli) } : { percent: level.percent }),
        levelCu: toCu(levelMilli),
      },
      usageCu: toCu(firing.usageMilli),
      limitCu: limitMilli === null ? null : toCu(limitMilli),
      periodStart: firing.periodStart,
      crossedAt: firing.firedAt,
    },
  };
}
