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

/** Runs `operation`, retrying transient store faults; gives up with StoreUnavailableError. */
export async function withStoreRetries<T>(operation: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY_POLICY): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransient(error)) throw error;
      if (attempt + 1 >= policy.attempts) throw storeUnavailable();
      await backoff(attempt, policy);
    }
  }
}
