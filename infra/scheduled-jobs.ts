// Every background job and what wakes it: an EventBridge Scheduler schedule (rollover, expiry, auto-refill, monthly
// export, alerts) or a rule on the service's event bus. Each job must be safe to run late or twice.

import type { DeployedFunction } from './api-routes';

export type JobTrigger =
  /** An EventBridge Scheduler expression, evaluated in UTC: `cron(5 0 * * ? *)`, `rate(15 minutes)`. */
  | { readonly schedule: string }
  /** The `detail-type`s of events on the service's bus that start the job. */
  | { readonly detailTypes: readonly string[] };

export interface BackgroundJob extends DeployedFunction {
  readonly description: string;
  readonly trigger: JobTrigger;
}

/** The jobs deployed today; each capability that needs one adds it here and the stack wires it. */
export const BACKGROUND_JOBS: readonly BackgroundJob[] = [];

