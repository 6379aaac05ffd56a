// Auto-refill: buy a set amount of CU whenever a consume takes the pool below a threshold. One refill per crossing,
// at most `maxPerPeriod` a period, none while another for a later state has already happened. Pure rules; the
// trigger (the table's stream) and the write live in the use case and the adapter.

import { createHash } from 'node:crypto';
import type { MilliCu } from './compute-units';
import type { TopUpBatch } from './pool';

export const DEFAULT_REFILL_EXPIRY_DAYS = 365;
export const DEFAULT_MAX_REFILLS_PER_PERIOD = 5;
const DAY_MS = 86_400_000;

export interface AutoRefillSettings {
  readonly enabled: boolean;
  readonly thresholdMilli: MilliCu;
  readonly amountMilli: MilliCu;
  readonly expiresInDays: number;
  readonly maxPerPeriod: number;
}

/** A consume crossed the threshold: the pool had at least the threshold before it, and less after it. */
export function crossedThreshold(settings: AutoRefillSettings, availableBefore: MilliCu, availableAfter: MilliCu): boolean {
  return settings.enabled && availableBefore >= settings.thresholdMilli && availableAfter < settings.thresholdMilli;
}

/** The refill's purchase id, derived from the crossing: a crossing handled twice buys once. */
export function refillPurchaseId(orgId: string, crossingId: string): string {
  return `auto_${createHash('sha256').update(`${orgId}\u0000${crossingId}`).digest('hex').slice(0, 24)}`;
}

/** The batch a refill adds at `at`. */
export function refillBatch(settings: AutoRefillSettings, purchaseId: string, at: Date): TopUpBatch {
  return {
    purchaseId,
    source: 'auto_refill',
    cuMilli: settings.amountMilli,
    usedMilli: 0,
    purchasedAt: at.toISOString(),
    expiresAt: new Date(at.getTime() + settings.expiresInDays * DAY_MS).toISOString(),
  };
}
