// The monthly-export job (EventBridge Scheduler on the 1st, UTC, a few times that day; in-process locally): for each
// org whose month has ended, requests that month's finance export (the finance-export job runs it) and files the
// next month's. Safe late, twice or concurrently: a repeated request rewrites the same files.

import { processDependencies } from '../../shared/composition';
import { busPublisher } from '../../shared/job-composition';
import { runMonthlyExport } from '../../shared/use-cases/finance-export';
import type { JobRunSummary } from '../../shared/use-cases/jobs';
import { loggedRun } from './logged-run';

export async function handler(_event?: unknown): Promise<JobRunSummary> {
  const { store, clock, ids } = processDependencies();
  return loggedRun(() => runMonthlyExport({ store, clock, ids, publisher: busPublisher() }));
}
