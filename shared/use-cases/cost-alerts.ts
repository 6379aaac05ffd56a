// Cost alerts: an org's thresholds, set as a whole list and read back with what fired this period, and the stream's
// trigger that fires each at most once per period.

import { termsAt, type BillingTerms } from '../domain/billing-terms';
import { usedIn } from '../domain/charge-limits';
import { toCu } from '../domain/compute-units';
import { checkThresholds, crossedThresholds, thresholdMilli, type AlertFiring, type AlertThreshold } from '../domain/cost-alerts';
import type { PublishedEvent } from '../ports/event-publisher';
import type { OrgChange } from '../ports/job-store';
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

/**
 * The alert trigger, on the stream's change of an org item (a charge that drew on the pool):
 * 1. reads the org's pool thresholds (none: done; consumes never read them, so the hot path stays as it was);
 * 2. compares the period's usage before and after the charge, both in the period of the charge's own time;
 * 3. records a firing for each threshold crossed, keyed by (threshold, period): a conditional put, so a redelivered
 *    change, or a crash after the put and a retry, adds none. The firing's own stream record publishes it.
 * Usage counters only rise within a period, so exactly one change crosses a level; a new period counts from 0 again.
 */
export async function alertOnCrossing(change: OrgChange, deps: { store: AlertStore }): Promise<void> {
  const { before, after, at } = change;
  const pool = (await withStoreRetries(() => deps.store.getAlertThresholds(after.orgId))).filter((threshold) => threshold.scope.kind === 'org');
  if (pool.length === 0) return;
  const terms = termsAt(after, at);
  const usedBefore = usedIn(before, terms.period);
  const usedAfter = usedIn(after, terms.period);
  for (const { threshold } of crossedThresholds(pool, usedBefore, usedAfter, terms.allowanceMilli)) {
    const firing: AlertFiring = {
      orgId: after.orgId,
      thresholdId: threshold.thresholdId,
      scope: threshold.scope,
      level: threshold.level,
      periodStart: terms.period.id,
      firedAt: at.toISOString(),
      usageMilli: usedAfter,
      limitMilli: terms.allowanceMilli,
    };
    await withStoreRetries(() => deps.store.recordAlertFiring(firing));
  }
}

/** The `detail-type` of a firing on the bus (DETAIL_TYPES lists it with the others). */
export const USAGE_THRESHOLD_CROSSED = 'UsageThresholdCrossed';

/** A firing as published: its id is the same however often its record is delivered, so consumers drop repeats by it. */
export function alertCrossedEvent(firing: AlertFiring): PublishedEvent {
  const id = `alert:${firing.orgId}:${firing.periodStart}:${firing.thresholdId}`;
  const { level } = firing;
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
        levelCu: toCu(thresholdMilli(level, firing.limitMilli) ?? firing.limitMilli),
      },
      usageCu: toCu(firing.usageMilli),
      limitCu: toCu(firing.limitMilli),
      periodStart: firing.periodStart,
      crossedAt: firing.firedAt,
    },
  };
}
