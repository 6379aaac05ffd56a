// The period-rollover job (EventBridge Scheduler, every 5 minutes; in-process locally): for each org whose billing
// period reset is due, applies a pending downgrade, logs the reset (published as BillingPeriodReset from the
// table's stream) and prunes old counters. Safe late, twice or concurrently.

import { jobDependencies } from '../../shared/job-composition';
import { runPeriodRollover, type JobRunSummary } from '../../shared/use-cases/jobs';
import { loggedRun } from './logged-run';

export type { JobRunSummary };

export async function handler(_event?: unknown): Promise<JobRunSummary> {
  return loggedRun(() => runPeriodRollover(jobDependencies()));
}
