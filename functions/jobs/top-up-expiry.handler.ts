// The top-up expiry job (EventBridge Scheduler, every 5 minutes; in-process locally): for each top-up batch past its
// expiresAt, logs the expiry with the unspent CU (published as TopUpExpired from the table's stream) and drops the
// batch from the org. Safe late, twice or concurrently.

import { jobDependencies } from '../../shared/job-composition';
import { runTopUpExpiry, type JobRunSummary } from '../../shared/use-cases/jobs';
import { loggedRun } from './logged-run';

export async function handler(_event?: unknown): Promise<JobRunSummary> {
  return loggedRun(() => runTopUpExpiry(jobDependencies()));
}
