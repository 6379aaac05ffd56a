// The top-up expiry job (EventBridge Scheduler, every few minutes): for each top-up batch past its expiresAt, logs
// and publishes TopUpExpired with the unspent CU and drops the batch from the org. Safe late or twice.
// CONTRACT STUB: the use case is wired in by the billing work; the signature is final.

import type { JobRunSummary } from './period-rollover.handler';

export async function handler(_event?: unknown): Promise<JobRunSummary> {
  return { job: 'top-up-expiry', handled: 0 };
}
