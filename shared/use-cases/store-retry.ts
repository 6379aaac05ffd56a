// Retries for faults the store expects to pass (transaction conflicts, throttling, a lost response): safe because
// every write is keyed by its request id. Full-jitter backoff keeps racing writers from retrying in lockstep.

import { storeUnavailable } from '../domain/errors';
import { TransientStoreError } from '../ports/ledger-records';

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 8, baseDelayMs: 10, maxDelayMs: 250 };

export function isTransient(error: unknown): error is TransientStoreError {
  return error instanceof TransientStoreError;
}

export function backoff(attempt: number, policy: RetryPolicy): Promise<void> {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

/** What a round answers when it learned something new and wants another go. */
export const AGAIN = Symbol('again');

/**
 * The one retry loop: runs `round` until it answers. A round that learned something new (a stale condition, a
 * concurrent refund) answers AGAIN and goes round at once; a transient store fault backs off first. Bounded, so a
 * hot item ends in 503 store_unavailable, never a hang.
 */
export async function retryRounds<T>(round: () => Promise<T | typeof AGAIN>, policy: RetryPolicy = DEFAULT_RETRY_POLICY): Promise<T> {
  let transientFailures = 0;
  // Each round either answers or learns something new: a handful beyond the transient budget suffice.
  for (let rounds = 0; rounds < policy.attempts + 4; rounds++) {
    try {
      const result = await round();
      if (result !== AGAIN) return result;
    } catch (error) {
      if (!isTransient(error)) throw error;
      if (++transientFailures >= policy.attempts) throw storeUnavailable();
      await backoff(transientFailures, policy);
    }
  }
  throw storeUnavailable();
}

/** Runs one store call, retrying transient faults; gives up with 503 store_unavailable. */
export function withStoreRetries<T>(operation: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY_POLICY): Promise<T> {
  return retryRounds(operation, policy);
}
