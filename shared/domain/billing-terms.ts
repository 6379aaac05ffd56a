// An org's billing terms at an instant: the period it is in, the allowance and high-cost threshold in force, and any
// plan change waiting for the next reset. Every rule about "which period, how much" is answered here, once.
//
// Periods are anchored on a day of the month (00:00 UTC). An upgrade ends the current period at its instant and
// starts a new one there; the anchor moves to the upgrade's day, so the first period after an upgrade is short by
// the upgrade's time of day. A downgrade waits: it is pending until the next reset, and takes over from that
// instant whether or not the rollover job has run.

import { billingPeriodAt } from './billing-period';
import type { MilliCu } from './compute-units';

/** A job at or above this many milli-CU is flagged "High cost" unless the org sets its own threshold (100 CU). */
export const DEFAULT_HIGH_COST_MILLI = 100_000;

export interface Plan {
  readonly planName: string;
  readonly allowanceMilli: MilliCu;
}

/** A downgrade recorded for the next reset. */
export interface PendingPlan extends Plan {
  /** The reset it takes effect at (ISO 8601 instant). */
  readonly effectiveAt: string;
}

/** What the terms are worked out from: the org's plan, anchor and plan-change state as stored. */
export interface OrgTermsSource extends Plan {
  readonly billingAnchor: string;
  /** The instant the last upgrade started a period; null when the org never upgraded. */
  readonly periodStartedAt: string | null;
  readonly pendingPlan: PendingPlan | null;
  /** null: the built-in default. */
  readonly highCostMilli: MilliCu | null;
}

export interface Period {
  /** The period's identity: its first instant (ISO 8601). Usage counters are keyed by it. */
  readonly id: string;
  readonly startsAt: Date;
  /** The first instant of the next period (exclusive end). */
  readonly resetsAt: Date;
}

export interface BillingTerms extends Plan {
  readonly period: Period;
  readonly highCostMilli: MilliCu;
  /** A downgrade that takes over at this period's reset; null when there is none. */
  readonly pendingPlan: PendingPlan | null;
}

/**
 * The org's terms in force at the instant `at`. An instant before the last upgrade is answered as the upgrade's
 * own period: the stored source knows only the terms from there on (the log answers the past).
 */
export function termsAt(org: OrgTermsSource, at: Date): BillingTerms {
  const startedAt = org.periodStartedAt === null ? null : new Date(org.periodStartedAt);
  const instant = startedAt !== null && at.getTime() < startedAt.getTime() ? startedAt : at;
  const anchored = billingPeriodAt(org.billingAnchor, instant);
  const startsAt = startedAt !== null && anchored.startsAt.getTime() < startedAt.getTime() ? startedAt : anchored.startsAt;
  const pending = org.pendingPlan;
  const pendingTookOver = pending !== null && instant.getTime() >= Date.parse(pending.effectiveAt);
  const plan: Plan = pendingTookOver ? pending : org;
  return {
    period: { id: periodId(startsAt), startsAt, resetsAt: anchored.resetsAt },
    planName: plan.planName,
    allowanceMilli: plan.allowanceMilli,
    highCostMilli: org.highCostMilli ?? DEFAULT_HIGH_COST_MILLI,
    pendingPlan: pendingTookOver ? null : pending,
  };
}

/** How a period starting at `startsAt` is identified in counters and events. */
export function periodId(startsAt: Date): string {
  return startsAt.toISOString();
}

export type PlanChangeKind = 'upgrade' | 'downgrade';

/** The stored terms after an upgrade at `at`: the new plan now, a new period from `at`, the anchor on its day. */
export function upgradedTerms(org: OrgTermsSource, plan: Plan, at: Date): OrgTermsSource {
  return { ...org, planName: plan.planName, allowanceMilli: plan.allowanceMilli, billingAnchor: at.toISOString().slice(0, 10), periodStartedAt: at.toISOString(), pendingPlan: null };
}

/** The stored terms after a downgrade recorded at `at`: the plan waits for the current period's reset. */
export function downgradedTerms(org: OrgTermsSource, plan: Plan, at: Date): OrgTermsSource {
  const { period } = termsAt(org, at);
  return { ...org, pendingPlan: { planName: plan.planName, allowanceMilli: plan.allowanceMilli, effectiveAt: period.resetsAt.toISOString() } };
}

/** The stored terms once a pending downgrade that took over by `at` is written into the plan (the rollover job). */
export function settledTerms(org: OrgTermsSource, at: Date): OrgTermsSource {
  const pending = org.pendingPlan;
  if (pending === null || at.getTime() < Date.parse(pending.effectiveAt)) return org;
  return { ...org, planName: pending.planName, allowanceMilli: pending.allowanceMilli, pendingPlan: null };
}
