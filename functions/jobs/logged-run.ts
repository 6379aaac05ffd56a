// The scheduled jobs' one log line per run, the same on Lambda and in the local runner: the job, what it handled,
// how long it took.

import { log } from '../../shared/http/log';
import type { JobRunSummary } from '../../shared/use-cases/jobs';

export async function loggedRun(run: () => Promise<JobRunSummary>): Promise<JobRunSummary> {
  const started = performance.now();
  const summary = await run();
  log('info', 'job run', { ...summary, durationMs: Math.round(performance.now() - started) });
  return summary;
}
