// An org's billing terms at an instant: the period it is in, the allowance and high-cost threshold in force, and any
// plan change waiting for the next reset. Every rule about "which period, how much" is answered here, once.

import { billingPeriodAt } from './billing-period';
import type { MilliCu } from './compute-units';

/** A job at or above this many milli-CU is flagged "High cost" unless the org sets its own threshold (100 CU). */
export const DEFAULT_HIGH_COST_MILLI = 100_000;

/** What the terms are worked out from: the org's plan and anchor as stored. */
export interface OrgTermsSource {
  readonly planName: string;
  readonly allowanceMilli: MilliCu;
  readonly billingAnchor: string;
  /** null: the built-in default. */
  readonly highCostMilli: MilliCu | null;
}

export interface Period {
  /** The period's identity: its first instant (ISO 8601). Usage counters are keyed by it. */
  readonly id: string;
  readonly startsAt: Date;
  /** The first instant of the next period (exclusive end). */
  readonly resetsAt: Date;
  /** The calendar date (UTC) the period starts on, `YYYY-MM-DD`: how the API names a period. */
  readonly startDate: string;
}

export interface BillingTerms {
  readonly period: Period;
  readonly planName: string;
  readonly allowanceMilli: MilliCu;
  readonly highCostMilli: MilliCu;
  /** A plan that takes over at the next reset. None until plans and upgrades land. */
  readonly pendingPlan: null;
}

/** The org's terms in force at the instant `at`. */
export function termsAt(org: OrgTermsSource, at: Date): BillingTerms {
  const { startsAt, resetsAt, start } = billingPeriodAt(org.billingAnchor, at);
  return {
    period: { id: periodId(startsAt), startsAt, resetsAt, startDate: start },
    planName: org.planName,
    allowanceMilli: org.allowanceMilli,
    highCostMilli: org.highCostMilli ?? DEFAULT_HIGH_COST_MILLI,
    pendingPlan: null,
  };
}

/** How a period starting at `startsAt` is identified in counters and events. */
export function periodId(startsAt: Date): string {
  return startsAt.toISOString();
}
