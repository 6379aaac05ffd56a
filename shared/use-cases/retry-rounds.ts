// The loop consume and refund share: read, decide, write; a stale condition sends the use case round again with
// what it learned, a transient store fault backs off first. Bounded, so a hot item ends in 503, never a hang.

import { storeUnavailable } from '../domain/errors';
import { DEFAULT_RETRY_POLICY, backoff, isTransient, type RetryPolicy } from './store-retry';

/** What a round answers when it learned something new and wants another go. */
export const AGAIN = Symbol('again');

/** Runs `round` until it answers; gives up with StoreUnavailableError after `policy.attempts` transient faults. */
export async function retryRounds<T>(round: () => Promise<T | typeof AGAIN>, policy: RetryPolicy = DEFAULT_RETRY_POLICY): Promise<T> {
  let transientFailures = 0;
  // Each round either answers or learns something new (fresh state, a concurrent refund): a handful suffice.
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
