// The bus rules of the local runner: a published event whose detail-type a job listens for starts that job in the
// background, as EventBridge invokes a rule's target asynchronously on AWS. A failed run is logged, not retried.

import { handler as financeExport } from '../../functions/jobs/finance-export.handler';
import { log } from '../../shared/http/log';
import type { PublishedEvent } from '../../shared/ports/event-publisher';
import { FINANCE_EXPORT_TRIGGERS } from '../../shared/use-cases/finance-export';
import type { PublishedEventLog } from './published-events';

export interface BusJob {
  readonly name: string;
  readonly detailType: string;
  run(event: PublishedEvent): Promise<unknown>;
}

/** The jobs BACKGROUND_JOBS triggers from the bus. */
export const LOCAL_BUS_JOBS: readonly BusJob[] = FINANCE_EXPORT_TRIGGERS.map((detailType) => ({
  name: 'finance-export',
  detailType,
  run: (event: PublishedEvent) => financeExport({ 'detail-type': event.detailType, detail: event.detail }),
}));

export interface BusWithJobs extends PublishedEventLog {
  /** Resolves once every run started so far has ended. */
  settled(): Promise<void>;
}

export function withBusJobs(events: PublishedEventLog, jobs: readonly BusJob[] = LOCAL_BUS_JOBS): BusWithJobs {
  const running = new Set<Promise<unknown>>();
  return {
    ...events,
    async publish(published) {
      await events.publish(published);
      for (const event of published) {
        for (const job of jobs.filter((candidate) => candidate.detailType === event.detailType)) {
          const run = job.run(event).catch((error: unknown) => log('error', 'job run failed', { job: job.name, errorName: (error as Error | undefined)?.name ?? typeof error }));
          running.add(run);
          void run.finally(() => running.delete(run));
        }
      }
    },
    async settled() {
      await Promise.all([...running]);
    },
  };
}
