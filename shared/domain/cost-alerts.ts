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

/** What fired: one per threshold and period at most. */
export interface AlertFiring {
  readonly orgId: string;
  readonly thresholdId: string;
  readonly scope: AlertScope;
  readonly level: AlertLevel;
  readonly periodStart: string;
  readonly firedAt: string;
  readonly usageMilli: MilliCu;
  readonly limitMilli: MilliCu;
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
