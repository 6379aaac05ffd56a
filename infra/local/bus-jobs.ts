// The bus rules of the local runner: a published event whose detail-type a job listens for starts that job in the
// background, as EventBridge invokes a rule's target asynchronously on AWS. A failed run is re-run as Lambda re-runs
// an asynchronous invocation (JOB_RUN_RETRIES), then filed in the runner's dead-letter list (GET /local/dead-letters),
// where the job's dead-letter queue would have it on AWS.

import { handler as alertWebhook } from '../../functions/jobs/alert-webhook.handler';
import { handler as financeExport } from '../../functions/jobs/finance-export.handler';
import { log } from '../../shared/http/log';
import type { PublishedEvent } from '../../shared/ports/event-publisher';
import { WEBHOOK_ALERT_TYPES } from '../../shared/use-cases/alert-webhooks';
import { FINANCE_EXPORT_TRIGGERS } from '../../shared/use-cases/finance-export';
import { JOB_RUN_RETRIES } from '../scheduled-jobs';
import type { PublishedEventLog } from './published-events';

export interface BusJob {
  readonly name: string;
  readonly detailTypes: readonly string[];
  run(event: PublishedEvent): Promise<unknown>;
}

/** The jobs BACKGROUND_JOBS triggers from the bus, each run as its Lambda is: with the EventBridge event's fields. */
export const LOCAL_BUS_JOBS: readonly BusJob[] = [
  { name: 'finance-export', detailTypes: FINANCE_EXPORT_TRIGGERS, run: (event) => financeExport(eventBridgeFields(event)) },
  { name: 'alert-webhook', detailTypes: WEBHOOK_ALERT_TYPES, run: (event) => alertWebhook(eventBridgeFields(event)) },
];

/** What a rule's target receives of a published event. */
export function eventBridgeFields(event: PublishedEvent): { 'detail-type': string; time: string; detail: unknown } {
  return { 'detail-type': event.detailType, time: event.time, detail: event.detail };
}

/** A run that failed every time, as the job's dead-letter queue would hold it. */
export interface DeadLetter {
  readonly job: string;
  readonly event: PublishedEvent;
  readonly runs: number;
  readonly errorName: string;
  readonly errorMessage: string;
}

export interface BusWithJobs extends PublishedEventLog {
  /** Resolves once every run started so far has ended (retries and dead-lettering included). */
  settled(): Promise<void>;
  /** The runs that failed after their retries, oldest first. */
  deadLetters(): readonly DeadLetter[];
}

export function withBusJobs(events: PublishedEventLog, jobs: readonly BusJob[] = LOCAL_BUS_JOBS, runRetries = JOB_RUN_RETRIES): BusWithJobs {
  const running = new Set<Promise<unknown>>();
  const deadLetters: DeadLetter[] = [];
  async function runWithRetries(job: BusJob, event: PublishedEvent): Promise<void> {
    for (let run = 1; ; run++) {
      try {
        await job.run(event);
        return;
      } catch (error) {
        const { name = typeof error, message = String(error) } = (error ?? {}) as Partial<Error>;
        log('error', 'job run failed', { job: job.name, run, errorName: name });
        if (run > runRetries) return void deadLetters.push({ job: job.name, event, runs: run, errorName: name, errorMessage: message });
      }
    }
  }
  return {
    ...events,
    async publish(published) {
      await events.publish(published);
      for (const event of published) {
        for (const job of jobs.filter((candidate) => candidate.detailTypes.includes(event.detailType))) {
          const run = runWithRetries(job, event);
          running.add(run);
          void run.finally(() => running.delete(run));
        }
      }
    },
    async settled() {
      while (running.size > 0) await Promise.all([...running]);
    },
    deadLetters: () => [...deadLetters],
  };
}
