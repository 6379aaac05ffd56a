// The period-rollover job (EventBridge Scheduler, every few minutes): for each org whose billing period reset is
// due, applies a pending downgrade, logs and publishes BillingPeriodReset, prunes old counters. Safe late or twice.
// CONTRACT STUB: the use case is wired in by the billing work; the signature is final.

export interface JobRunSummary {
  readonly job: string;
  /** Due items handled in this run. */
  readonly handled: number;
}

export async function handler(_event?: unknown): Promise<JobRunSummary> {
  return { job: 'period-rollover', handled: 0 };
}
