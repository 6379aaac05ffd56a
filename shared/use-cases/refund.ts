// Give back all or part of a consume's charge: to every counter it moved, and to the pool sources it drew from.
// CU whose batch has expired, or whose period has ended, is not restored (it left the pool for good); the answer
// says how much. Idempotent per (org, requestId); never more than was charged.

import { termsAt } from '../domain/billing-terms';
import type { MilliCu } from '../domain/compute-units';
import { consumeNotFound, idempotencyKeyReused, orgNotFound, refundExceedsCharge } from '../domain/errors';
import { requestFingerprint } from '../domain/fingerprint';
import { isLive, planReturns, type SourceReturn } from '../domain/pool';
import { parseCounter, type MeterEventRecord, type OrgRecord } from '../ports/ledger-records';
import type { MeterDependencies } from './consume';
import { AGAIN, DEFAULT_RETRY_POLICY, retryRounds, withStoreRetries } from './store-retry';

export interface RefundRequest {
  readonly requestId: string;
  readonly orgId: string;
  /** The requestId of the consume being reversed. */
  readonly refundOf: string;
  /** undefined: everything not refunded yet. */
  readonly cuMilli?: MilliCu | undefined;
}

export interface RefundResult {
  readonly eventId: string;
  readonly requestId: string;
  readonly refundOf: string;
  readonly refundedMilli: MilliCu;
  /** Where the CU went back to, and what could not be restored (period ended, batch expired). */
  readonly returns: readonly SourceReturn[];
  readonly replayed: boolean;
}

/**
 * Steps:
 * 1. Read the org, the refund's own request id (a replay answers again) and the consume it reverses.
 * 2. Work out the amount: the requested one, or all that is left; refuse more than is left. Undo the consume's
 *    draws last first; a part whose batch expired or whose period ended is not restored.
 * 3. Write the refund event, the consume's refunded total, the counters the table still keeps and the restored
 *    sources in one transaction, conditioned on the refunded total and the sources read in step 1; a concurrent
 *    refund, an expiry or a prune in between sends us back to step 1.
 */
export async function refund(request: RefundRequest, deps: MeterDependencies): Promise<RefundResult> {
  const policy = deps.retry ?? DEFAULT_RETRY_POLICY;
  const fingerprint = requestFingerprint('refund', { ...request });
  const attemptId = deps.ids.attemptId();

  return retryRounds(async () => {
    const { org, existing, original } = await withStoreRetries(() => deps.store.loadRefund(request.orgId, request.requestId, request.refundOf), policy);
    if (existing) return replay(existing, fingerprint, attemptId);
    if (!org) throw orgNotFound(request.orgId);
    if (!original || original.kind !== 'consume') throw consumeNotFound(request.refundOf);
    const refundedBefore = original.refundedMilli ?? 0;
    const refundableMilli = original.cuMilli - refundedBefore;
    const amount = request.cuMilli ?? refundableMilli;
    if (amount <= 0 || amount > refundableMilli) throw refundExceedsCharge(refundableMilli, request.cuMilli !== undefined);

    const now = deps.clock.now();
    const returns = planReturns(original.draws, refundedBefore, amount, sourcesAt(org, original, now));
    const event: MeterEventRecord = {
      ...copyJob(original),
      kind: 'refund',
      requestId: request.requestId,
      eventId: deps.ids.eventId(),
      createdAt: now.toISOString(),
      cuMilli: amount,
      draws: [],
      returns,
      fingerprint,
      attemptId,
      refundOf: original.requestId,
      refundsInFull: refundedBefore + amount === original.cuMilli,
    };
    const countersKept = org.countersKeptFrom === null || original.periodId >= org.countersKeptFrom;
    const outcome = await deps.store.commitRefund({ event, original, refundedBefore, returns, countersKept });
    if (outcome.status === 'duplicate') return replay(outcome.existing, fingerprint, attemptId);
    if (outcome.status === 'rejected') return AGAIN;
    deps.cache.addRefund(request.orgId, original.counters.map(parseCounter), original.periodId, amount);
    return answer(event, false);
  }, policy);
}

/** Whether the original's period is still the org's current one, and which of its batches are still live, at `now`. */
function sourcesAt(org: OrgRecord, original: MeterEventRecord, now: Date) {
  const live = new Set(org.topUps.filter((batch) => isLive(batch, now)).map((batch) => batch.purchaseId));
  return { periodIsCurrent: termsAt(org, now).period.id === original.periodId, liveBatch: (purchaseId: string) => live.has(purchaseId) };
}

/** The refund event repeats the consume's facts, so the activity log reads on its own. */
function copyJob(original: MeterEventRecord): Omit<MeterEventRecord, 'kind' | 'requestId' | 'eventId' | 'createdAt' | 'cuMilli' | 'fingerprint' | 'attemptId' | 'draws'> {
  const { kind: _kind, requestId: _requestId, eventId: _eventId, createdAt: _createdAt, cuMilli: _cuMilli, fingerprint: _fingerprint, attemptId: _attemptId, availableAfterMilli: _available, refundedMilli: _refunded, draws: _draws, returns: _returns, ...job } = original;
  return job;
}

function answer(event: MeterEventRecord, replayed: boolean): RefundResult {
  return { eventId: event.eventId, requestId: event.requestId, refundOf: event.refundOf!, refundedMilli: event.cuMilli, returns: event.returns ?? [], replayed };
}

function replay(existing: MeterEventRecord, fingerprint: string, attemptId: string): RefundResult {
  if (existing.kind !== 'refund' || existing.fingerprint !== fingerprint) throw idempotencyKeyReused();
  return answer(existing, existing.attemptId !== attemptId);
}
