// Cost alerts: the thresholds an org sets on its pool, a project, a member or an API key, and the rules that
// check a list of them. A threshold is absolute CU, or a percentage of the scope's allowance (the pool) or cap.

import type { MilliCu } from './compute-units';
import { invalidField } from './errors';
import type { ScopeKind } from './limits';

/** The org pool, or one project, member or API key of the org. */
export type AlertScope = { readonly kind: 'org' } | { readonly kind: ScopeKind; readonly id: string };

export type AlertLevel = { readonly kind: 'absolute'; readonly cuMilli: MilliCu } | { readonly kind: 'percent'; readonly percent: number };

export interface AlertThreshold {
  /** Chosen by the caller; with the period, it names the one firing the threshold may have. */
  readonly thresholdId: string;
  readonly scope: AlertScope;
  readonly level: AlertLevel;
}

/** A threshold's firing: one per threshold and period at most. */
export interface ThresholdFiring {
  readonly kind: 'threshold';
  readonly orgId: string;
  readonly thresholdId: string;
  readonly scope: AlertScope;
  readonly level: AlertLevel;
  readonly periodStart: string;
  readonly firedAt: string;
  /** The scope's usage in the period once the crossing charge was counted. */
  readonly usageMilli: MilliCu;
  /** The pool's allowance, or the scope's cap; null for an absolute threshold on a scope without a cap. */
  readonly limitMilli: MilliCu | null;
}

/** The pool's projected exhaustion: one per period at most. */
export interface ExhaustionFiring {
  readonly kind: 'projected_exhaustion';
  readonly orgId: string;
  readonly periodStart: string;
  readonly resetsAt: string;
  readonly firedAt: string;
  readonly projectedAt: string;
  /** The pool's usage in the period that the run rate is taken from (see projectExhaustion). */
  readonly usageMilli: MilliCu;
  /** The allowance and the live top-ups, when it fired. */
  readonly limitMilli: MilliCu;
  readonly remainingMilli: MilliCu;
  readonly milliPerDay: MilliCu;
}

export type AlertFiring = ThresholdFiring | ExhaustionFiring;

/**
 * The id a projection's firing is kept under, beside the thresholds' own ids: no threshold can take it, as ids start
 * with a letter or digit.
 */
export const EXHAUSTION_FIRING_ID = '~projected-exhaustion';

/** The id that names a firing within its period: its threshold's, or the projection's. */
export function firingId(firing: AlertFiring): string {
  return firing.kind === 'threshold' ? firing.thresholdId : EXHAUSTION_FIRING_ID;
}

/** Enough for a pool, a few projects and people; more would make the stream's check of each change costly. */
export const MAX_ALERT_THRESHOLDS = 50;

/**
 * The usage at which a threshold fires, given its scope's allowance or cap; null when a percentage has nothing to be
 * a percentage of (a scope without a cap), so it cannot fire.
 */
export function thresholdMilli(level: AlertLevel, limitMilli: MilliCu | null): MilliCu | null {
  if (level.kind === 'absolute') return level.cuMilli;
  if (limitMilli === null) return null;
  return Math.ceil((limitMilli * level.percent) / 100) as MilliCu;
}

/** Whether a change of a scope's usage from `before` to `after` crosses the threshold upwards. */
export function crosses(beforeMilli: MilliCu, afterMilli: MilliCu, levelMilli: MilliCu): boolean {
  return beforeMilli < levelMilli && afterMilli >= levelMilli;
}

/**
 * The thresholds of one scope that a change of its usage from `before` to `after` crosses upwards, each with the
 * usage it fires at. A percentage is of `limitMilli` (the allowance, or the scope's cap).
 */
export function crossedThresholds(
  thresholds: readonly AlertThreshold[],
  beforeMilli: MilliCu,
  afterMilli: MilliCu,
  limitMilli: MilliCu | null,
): { threshold: AlertThreshold; levelMilli: MilliCu }[] {
  return thresholds.flatMap((threshold) => {
    const levelMilli = thresholdMilli(threshold.level, limitMilli);
    return levelMilli !== null && crosses(beforeMilli, afterMilli, levelMilli) ? [{ threshold, levelMilli }] : [];
  });
}

/** Refuses a list whose ids repeat: each id keys its own firing per period, so two thresholds cannot share one. */
export function checkThresholds(thresholds: readonly AlertThreshold[]): void {
  const seen = new Set<string>();
  thresholds.forEach((threshold, index) => {
    if (seen.has(threshold.thresholdId)) throw invalidField(`thresholds.${index}.id`, `repeats the id ${threshold.thresholdId}: each threshold needs its own`);
    seen.add(threshold.thresholdId);
  });
}

/**
 * Thresholds of one project, member or API key. Their percentages are of the scope's cap in force (its own, or for a
 * member or key without one the org's default limit); `limitMilli` is null when it has none, so only absolute ones fire.
 */
export function scopeThresholds(thresholds: readonly AlertThreshold[], kind: ScopeKind, id: string): AlertThreshold[] {
  return thresholds.filter((threshold) => threshold.scope.kind === kind && threshold.scope.id === id);
}

// ---- Projected exhaustion ----------------------------------------------------------------------------------------

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How much of a period must have passed before its run rate means anything: a day, or a tenth of the period when that
 * is shorter. Without it the first charge of a period would project its own rate over the whole period.
 */
export function minimumElapsedMs(periodLengthMs: number): number {
  return Math.min(DAY_MS, periodLengthMs / 10);
}

export interface ProjectionInput {
  readonly periodStartsAt: Date;
  readonly resetsAt: Date;
  /** The instant the projection is made at: the charge's own time. */
  readonly at: Date;
  /** What the pool gave in the period so far. */
  readonly usedMilli: MilliCu;
  /** What the pool has left at `at`. */
  readonly remainingMilli: MilliCu;
}

export interface Projection {
  readonly projectedAt: Date;
  readonly milliPerDay: MilliCu;
}

/**
 * The linear projection: the run rate is what the pool gave in the period divided by the time since the period
 * started; at that rate the pool's remaining CU lasts `remaining / rate`. It projects exhaustion when that instant
 * comes before the reset, once the minimum of the period has passed, while the pool still has CU (an empty pool is
 * exhausted, not projected to be) and something was used. Undefined when it projects no exhaustion.
 */
export function projectExhaustion(input: ProjectionInput): Projection | undefined {
  const start = input.periodStartsAt.getTime();
  const at = input.at.getTime();
  const elapsedMs = at - start;
  if (elapsedMs < minimumElapsedMs(input.resetsAt.getTime() - start) || input.usedMilli <= 0 || input.remainingMilli <= 0) return undefined;
  const projectedMs = at + (input.remainingMilli * elapsedMs) / input.usedMilli;
  if (projectedMs >= input.resetsAt.getTime()) return undefined;
  return { projectedAt: new Date(Math.floor(projectedMs)), milliPerDay: Math.round((input.usedMilli * DAY_MS) / elapsedMs) as MilliCu };
}
