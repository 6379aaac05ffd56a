// The scheduled jobs in the local runner: the same handlers EventBridge Scheduler invokes on AWS (`rate(5 minutes)`),
// run in-process on a timer, one run of a job at a time, with one JSON log line per run.

import { handler as periodRollover, type JobRunSummary } from '../../functions/jobs/period-rollover.handler';
import { handler as monthlyExport } from '../../functions/jobs/monthly-export.handler';
import { handler as topUpExpiry } from '../../functions/jobs/top-up-expiry.handler';
import { log } from '../../shared/http/log';

export interface ScheduledJob {
  readonly name: string;
  run(): Promise<JobRunSummary>;
}

/**
 * In the order a manual run takes them: a period reset first, then the expiry of what the new period left, then the
 * monthly exports (which only find something due from the 1st on, so running them on every tick is the cron's
 * effect: `cron(… 1 * ? *)` on AWS).
 */
export const LOCAL_JOBS: readonly ScheduledJob[] = [
  { name: 'period-rollover', run: () => periodRollover() },
  { name: 'top-up-expiry', run: () => topUpExpiry() },
  { name: 'monthly-export', run: () => monthlyExport() },
];

/** As on AWS: every 5 minutes. */
export const DEFAULT_JOB_INTERVAL_MS = 5 * 60_000;

export interface JobSchedule {
  /** Runs every job now, one after the other (after a timer run of the same job still in progress). */
  runNow(): Promise<JobRunSummary[]>;
  /** Stops the timer and waits for the runs in progress. */
  stop(): Promise<void>;
}

/** Runs `jobs` every `intervalMs`; a tick that finds a job still running (or queued) skips that job. */
export function startJobSchedule(jobs: readonly ScheduledJob[] = LOCAL_JOBS, intervalMs: number = DEFAULT_JOB_INTERVAL_MS): JobSchedule {
  const queues = jobs.map((job) => serialized(job));
  const timer = setInterval(() => {
    for (const queue of queues) {
      // A failed run was logged; the next tick tries again.
      if (queue.idle()) queue.run().catch(() => undefined);
    }
  }, intervalMs);
  return {
    async runNow() {
      const runs: JobRunSummary[] = [];
      for (const queue of queues) runs.push(await queue.run());
      return runs;
    },
    async stop() {
      clearInterval(timer);
      await Promise.all(queues.map((queue) => queue.settled()));
    },
  };
}

/** One job's runs, one at a time, in the order asked for. */
function serialized(job: ScheduledJob) {
  let tail: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  return {
    idle: () => waiting === 0,
    settled: () => tail,
    run(): Promise<JobRunSummary> {
      waiting += 1;
      const run = tail.then(() => timedRun(job)).finally(() => (waiting -= 1));
      tail = run.catch(() => undefined);
      return run;
    },
  };
}

async function timedRun(job: ScheduledJob): Promise<JobRunSummary> {
  const started = performance.now();
  const durationMs = () => Math.round(performance.now() - started);
  try {
    // The handler logs its own run (job, handled, durationMs), as it does on Lambda.
    return await job.run();
  } catch (error) {
    log('error', 'job run failed', { job: job.name, errorName: (error as Error | undefined)?.name ?? typeof error, durationMs: durationMs() });
    throw error;
  }
}
