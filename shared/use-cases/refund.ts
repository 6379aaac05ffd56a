// Give back all or part of a consume's charge to every counter it moved. Idempotent per (org, requestId);
// never more than was charged.

import type { MilliCu } from '../domain/compute-units';
import { consumeNotFound, idempotencyKeyReused, refundExceedsCharge } from '../domain/errors';
import { requestFingerprint } from '../domain/fingerprint';
import { parseCounter, type MeterEventRecord } from '../ports/ledger-records';
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
  readonly replayed: boolean;
}

/**
 * Steps:
 * 1. Read the refund's own request id (a replay answers again) and the consume it reverses.
 * 2. Work out the amount: the requested one, or all that is left; refuse more than is left.
 * 3. Write the refund event, the consume's refunded total and every counter it moved in one transaction,
 *    conditioned on the refunded total read in step 1; a concurrent refund sends us back to step 1.
 */
export async function refund(request: RefundRequest, deps: MeterDependencies): Promise<RefundResult> {
  const policy = deps.retry ?? DEFAULT_RETRY_POLICY;
  const fingerprint = requestFingerprint('refund', { ...request });
  const attemptId = deps.ids.attemptId();

  return retryRounds(async () => {
    const events = await withStoreRetries(() => deps.store.getEvents(request.orgId, [request.requestId, request.refundOf]), policy);
    const existing = events.find((event) => event.requestId === request.requestId);
    if (existing) return replay(existing, fingerprint, attemptId);
    const original = events.find((event) => event.requestId === request.refundOf);
    if (!original || original.kind !== 'consume') throw consumeNotFound(request.refundOf);
    const refundableMilli = original.cuMilli - (original.refundedMilli ?? 0);
    const amount = request.cuMilli ?? refundableMilli;
    if (amount <= 0 || amount > refundableMilli) throw refundExceedsCharge(refundableMilli, request.cuMilli !== undefined);

    const event: MeterEventRecord = {
      ...copyJob(original),
      kind: 'refund',
      requestId: request.requestId,
      eventId: deps.ids.eventId(),
      createdAt: deps.clock.now().toISOString(),
      cuMilli: amount,
      fingerprint,
      attemptId,
      refundOf: original.requestId,
    };
    const outcome = await deps.store.commitRefund({ event, original, maxRefundedBefore: original.cuMilli - amount });
    if (outcome.status === 'duplicate') return replay(outcome.existing, fingerprint, attemptId);
    if (outcome.status === 'rejected') return AGAIN;
    deps.cache.addUsage(request.orgId, original.counters.map(parseCounter), original.periodId, -amount);
    return answer(event, false);
  }, policy);
}

/** The refund event repeats the consume's facts, so the activity log reads on its own. */
function copyJob(original: MeterEventRecord): Omit<MeterEventRecord, 'kind' | 'requestId' | 'eventId' | 'createdAt' | 'cuMilli' | 'fingerprint' | 'attemptId'> {
  const { kind: _kind, requestId: _requestId, eventId: _eventId, createdAt: _createdAt, cuMilli: _cuMilli, fingerprint: _fingerprint, attemptId: _attemptId, availableAfterMilli: _available, refundedMilli: _refunded, ...job } = original;
  return job;
}

function answer(event: MeterEventRecord, replayed: boolean): RefundResult {
  return { eventId: event.eventId, requestId: event.requestId, refundOf: event.refundOf!, refundedMilli: event.cuMilli, replayed };
}

function replay(existing: MeterEventRecord, fingerprint: string, attemptId: string): RefundResult {
  if (existing.kind !== 'refund' || existing.fingerprint !== fingerprint) throw idempotencyKeyReused();
  return answer(existing, existing.attemptId !== attemptId);
}
