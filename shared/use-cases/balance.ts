// The seed's "Compute units available": the allowance's remainder plus every live top-up batch's, with the reset
// date, the batches soonest expiry first, and any pending downgrade. Now from the org item; for a past instant,
// from the activity log alone (the log is the record; the org item is its running sum).

import { termsAt, type OrgTermsSource, type PendingPlan, type Period, type Plan } from '../domain/billing-terms';
import type { MilliCu } from '../domain/compute-units';
import { invalidField } from '../domain/errors';
import { isLive, remainingOf, type TopUpBatch, type TopUpSource } from '../domain/pool';
import type { AdminStore } from '../ports/admin-store';
import { isMeterEvent, type LogEntry, type OrgRecord } from '../ports/ledger-records';
import type { Clock } from '../ports/runtime';
import { withStoreRetries } from './store-retry';
import { readOrg } from './usage-views';

export interface BalanceView {
  readonly orgId: string;
  readonly at: Date;
  readonly period: Period;
  /** The plan in force at `at`. */
  readonly plan: Plan;
  readonly allowance: { readonly allowanceMilli: MilliCu; readonly usedMilli: MilliCu; readonly remainingMilli: MilliCu; readonly resetsAt: Date };
  readonly topUps: readonly {
    readonly purchaseId: string;
    readonly source: TopUpSource;
    readonly cuMilli: MilliCu;
    readonly remainingMilli: MilliCu;
    readonly expiresAt: string;
  }[];
  /** The allowance's remainder plus every live batch's. */
  readonly availableMilli: MilliCu;
  readonly pendingDowngrade: PendingPlan | null;
}

/** The pool as `source`, the allowance used in the period of `at`, and `batches` say it was at `at`. */
export function balanceOf(orgId: string, source: OrgTermsSource, allowanceUsed: (periodId: string) => MilliCu, batches: readonly TopUpBatch[], at: Date): BalanceView {
  const terms = termsAt(source, at);
  const usedMilli = allowanceUsed(terms.period.id);
  const remainingMilli = Math.max(0, terms.allowanceMilli - usedMilli);
  const live = batches
    .filter((batch) => isLive(batch, at))
    .sort((a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.purchaseId.localeCompare(b.purchaseId))
    .map((batch) => ({ purchaseId: batch.purchaseId, source: batch.source, cuMilli: batch.cuMilli, remainingMilli: remainingOf({ capMilli: batch.cuMilli, usedMilli: batch.usedMilli }), expiresAt: batch.expiresAt }));
  return {
    orgId,
    at,
    period: terms.period,
    plan: { planName: terms.planName, allowanceMilli: terms.allowanceMilli },
    allowance: { allowanceMilli: terms.allowanceMilli, usedMilli, remainingMilli, resetsAt: terms.period.resetsAt },
    topUps: live,
    availableMilli: remainingMilli + live.reduce((sum, batch) => sum + batch.remainingMilli, 0),
    pendingDowngrade: terms.pendingPlan,
  };
}

export function balanceFromOrg(org: OrgRecord, at: Date): BalanceView {
  return balanceOf(org.orgId, org, (periodId) => org.usage[periodId] ?? 0, org.topUps, at);
}

/**
 * The balance at `at` from the log: the terms of the last provisioning or plan entry at or before it (by config
 * version: two can share a millisecond), the allowance drawn in that instant's period (each charge names its period),
 * and each batch bought by then with its draws and restores by then (each draw names its batch).
 */
export function balanceFromLog(orgId: string, entries: readonly LogEntry[], at: Date): BalanceView | undefined {
  let source: { terms: OrgTermsSource; configVersion: number } | undefined;
  const draws: { purchaseId: string; milli: MilliCu }[] = [];
  const allowanceUsed = new Map<string, MilliCu>();
  const batches = new Map<string, TopUpBatch>();
  for (const entry of entries) {
    if (Date.parse(entry.createdAt) > at.getTime()) continue;
    if (isMeterEvent(entry)) {
      const sign = entry.kind === 'consume' ? 1 : -1;
      const parts = entry.kind === 'consume' ? entry.draws : (entry.returns ?? []).filter((part) => part.restored);
      for (const part of parts) {
        if (part.ref.kind === 'allowance') allowanceUsed.set(entry.periodId, (allowanceUsed.get(entry.periodId) ?? 0) + sign * part.milli);
        else draws.push({ purchaseId: part.ref.purchaseId, milli: sign * part.milli });
      }
      continue;
    }
    switch (entry.kind) {
      case 'org_provisioned':
      case 'plan_upgraded':
      case 'plan_downgrade_scheduled':
      case 'plan_downgrade_cancelled':
        if (!source || entry.configVersion > source.configVersion) source = { terms: entry.after, configVersion: entry.configVersion };
        break;
      case 'top_up_purchased':
        batches.set(entry.purchaseId, { purchaseId: entry.purchaseId, source: entry.source, cuMilli: entry.cuMilli, usedMilli: 0, purchasedAt: entry.createdAt, expiresAt: entry.expiresAt });
        break;
      default:
        // Resets and expiries change nothing the balance adds up: the terms and the batches' expiry already say so.
        break;
    }
  }
  if (!source) return undefined;
  // Draws are applied once every purchase is known: a purchase and a charge on it may share a millisecond.
  for (const { purchaseId, milli } of draws) {
    const batch = batches.get(purchaseId);
    if (batch) batches.set(purchaseId, { ...batch, usedMilli: batch.usedMilli + milli });
  }
  return balanceOf(orgId, source.terms, (periodId) => allowanceUsed.get(periodId) ?? 0, [...batches.values()], at);
}

/** The balance now, or with `at` as of that past instant (from the log). */
export async function getBalance(orgId: string, at: Date | undefined, deps: { store: AdminStore; clock: Clock }): Promise<BalanceView> {
  const now = deps.clock.now();
  const org = await readOrg(orgId, deps);
  if (at === undefined) return balanceFromOrg(org, now);
  if (at.getTime() > now.getTime()) throw invalidField('at', 'must not be in the future');
  const entries = await withStoreRetries(() => deps.store.logUpTo(orgId, at.toISOString()));
  const view = balanceFromLog(orgId, entries, at);
  if (!view) throw invalidField('at', 'is before the org was provisioned');
  return view;
}
