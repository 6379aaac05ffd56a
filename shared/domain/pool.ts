// The team's pool: the period's plan allowance plus every live top-up batch, and the one order a charge draws from
// it in. Whatever expires soonest is drawn first; the allowance expires at the period's reset. On a tie the
// allowance goes first, then batches by purchase id. Pure: worked out from records already read.

import type { Period } from './billing-terms';
import type { MilliCu } from './compute-units';

export type TopUpSource = 'purchase' | 'auto_refill';

/** A batch of top-up CU: it never resets, and leaves the pool at its own `expiresAt`. */
export interface TopUpBatch {
  readonly purchaseId: string;
  readonly source: TopUpSource;
  readonly cuMilli: MilliCu;
  readonly usedMilli: MilliCu;
  readonly purchasedAt: string;
  readonly expiresAt: string;
}

/** In the seed's words: drawn from the allowance only, from top-ups only, or from both. */
export type PoolCategory = 'allocated' | 'surplus' | 'hybrid';

export type PoolSourceRef = { readonly kind: 'allowance' } | { readonly kind: 'top_up'; readonly purchaseId: string };

/** One part of the pool, as a charge would see it. */
export interface PoolSource {
  readonly ref: PoolSourceRef;
  readonly capMilli: MilliCu;
  readonly usedMilli: MilliCu;
  readonly expiresAt: Date;
}

/** What a charge takes from one source, and what the source's usage must be for the plan to hold. */
export interface SourceDraw {
  readonly ref: PoolSourceRef;
  readonly milli: MilliCu;
  /**
   * The bounds on the source's usage before the charge. Every source drawn before the last one must be emptied by
   * this charge (exactly `capMilli - milli`), so no later source is drawn while a sooner one has CU; the last one
   * drawn only needs room (at most `capMilli - milli`).
   */
  readonly usedBefore: { readonly min: MilliCu | null; readonly max: MilliCu };
}

/** What a refund gives back to one source of the charge; `restored: false` when that CU is gone for good. */
export interface SourceReturn {
  readonly ref: PoolSourceRef;
  readonly milli: MilliCu;
  readonly restored: boolean;
  readonly reason: 'restored' | 'period_ended' | 'top_up_expired';
}

/** What a consume took from one source; a consume records these in draw order. */
export interface Draw {
  readonly ref: PoolSourceRef;
  readonly milli: MilliCu;
}

/**
 * The most live batches an org may hold. They live on the org item, which every consume writes: each one adds about
 * 150 bytes (a write unit per KB), and an item may not pass 400 KB.
 */
export const MAX_LIVE_TOP_UPS = 100;

export function liveBatchCount(batches: readonly Pick<TopUpBatch, 'expiresAt'>[], at: Date): number {
  return batches.filter((batch) => isLive(batch, at)).length;
}

export function isLive(batch: Pick<TopUpBatch, 'expiresAt'>, at: Date): boolean {
  return Date.parse(batch.expiresAt) > at.getTime();
}

/** The pool at `at`, in draw order: the allowance of `period` and every batch still live. */
export function poolSources(allowance: { readonly capMilli: MilliCu; readonly usedMilli: MilliCu }, period: Period, batches: readonly TopUpBatch[], at: Date): PoolSource[] {
  const sources: PoolSource[] = [
    { ref: { kind: 'allowance' }, capMilli: allowance.capMilli, usedMilli: allowance.usedMilli, expiresAt: period.resetsAt },
    ...batches
      .filter((batch) => isLive(batch, at))
      .map((batch): PoolSource => ({ ref: { kind: 'top_up', purchaseId: batch.purchaseId }, capMilli: batch.cuMilli, usedMilli: batch.usedMilli, expiresAt: new Date(batch.expiresAt) })),
  ];
  return sources.sort(drawOrder);
}

function drawOrder(a: PoolSource, b: PoolSource): number {
  const byExpiry = a.expiresAt.getTime() - b.expiresAt.getTime();
  if (byExpiry !== 0) return byExpiry;
  if (a.ref.kind !== b.ref.kind) return a.ref.kind === 'allowance' ? -1 : 1;
  return a.ref.kind === 'top_up' && b.ref.kind === 'top_up' ? compareText(a.ref.purchaseId, b.ref.purchaseId) : 0;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function remainingOf(source: Pick<PoolSource, 'capMilli' | 'usedMilli'>): MilliCu {
  return Math.max(0, source.capMilli - source.usedMilli);
}

/** What the whole pool has left. */
export function poolRemaining(sources: readonly PoolSource[]): MilliCu {
  return sources.reduce((sum, source) => sum + remainingOf(source), 0);
}

/**
 * How `amount` is drawn from `sources` (already in draw order), or undefined when the pool has less than that.
 * Sources before the last one drawn are all in the plan (emptied, or already empty with a zero draw), so the
 * transaction can check that each is still exactly as full as the plan assumed.
 */
export function planDraws(sources: readonly PoolSource[], amount: MilliCu): SourceDraw[] | undefined {
  const draws: SourceDraw[] = [];
  let left = amount;
  for (const source of sources) {
    if (left === 0) break;
    const milli = Math.min(left, remainingOf(source));
    left -= milli;
    const emptied = left > 0;
    const max = source.capMilli - milli;
    draws.push({ ref: source.ref, milli, usedBefore: { min: emptied ? max : null, max } });
  }
  return left === 0 ? draws : undefined;
}

/** The draws a consume records: the non-zero ones, in draw order. */
export function recordedDraws(draws: readonly SourceDraw[]): Draw[] {
  return draws.filter((draw) => draw.milli > 0).map(({ ref, milli }) => ({ ref, milli }));
}

export function allowanceDrawn(draws: readonly Draw[]): MilliCu {
  return draws.reduce((sum, draw) => sum + (draw.ref.kind === 'allowance' ? draw.milli : 0), 0);
}

export function poolCategoryOf(draws: readonly Draw[]): PoolCategory {
  const fromAllowance = draws.some((draw) => draw.ref.kind === 'allowance');
  const fromTopUps = draws.some((draw) => draw.ref.kind === 'top_up');
  if (!fromTopUps) return 'allocated';
  return fromAllowance ? 'hybrid' : 'surplus';
}

/**
 * What a refund of `amount` gives back, after `alreadyRefunded` of the same charge: the charge's draws are undone
 * last first. CU of an ended period or an expired (or dropped) batch is not restored: it left the pool for good.
 */
export function planReturns(
  draws: readonly Draw[],
  alreadyRefunded: MilliCu,
  amount: MilliCu,
  now: { readonly periodIsCurrent: boolean; readonly liveBatch: (purchaseId: string) => boolean },
): SourceReturn[] {
  const returns: SourceReturn[] = [];
  let skip = alreadyRefunded;
  let left = amount;
  for (const part of [...draws].reverse()) {
    if (left === 0) break;
    const fromThis = Math.min(part.milli - Math.min(skip, part.milli), left);
    skip = Math.max(0, skip - part.milli);
    if (fromThis === 0) continue;
    left -= fromThis;
    const restored = part.ref.kind === 'allowance' ? now.periodIsCurrent : now.liveBatch(part.ref.purchaseId);
    const reason = restored ? 'restored' : part.ref.kind === 'allowance' ? 'period_ended' : 'top_up_expired';
    returns.push({ ref: part.ref, milli: fromThis, restored, reason });
  }
  return returns;
}
