// Every background job and what wakes it: an EventBridge Scheduler schedule (rollover, expiry, auto-refill, monthly
// export, alerts), a rule on the service's event bus, or the ledger table's stream. Each job must be safe to run late
// or twice.

import { EVENT_LOG_INDEX, LEDGER_STREAM_FILTERS } from '../shared/adapters/dynamodb/ledger-table';
import { FINANCE_EXPORT_TRIGGERS } from '../shared/use-cases/finance-export';
import type { DeployedFunction } from './api-routes';
import { WEBHOOK_ALERT_TYPES } from '../shared/use-cases/alert-webhooks';

/**
 * Re-runs of a failed run of a schedule or bus-rule job (Lambda's asynchronous retries on AWS; the local runner's bus
 * does the same before its dead-letter list).
 */
export const JOB_RUN_RETRIES = 2;

/** Which records of the ledger table's stream reach a stream job. */
export interface StreamTriggerSettings {
  /** Lambda event filter patterns (plain JSON); a record that matches any one of them is delivered. */
  readonly filters: readonly Readonly<Record<string, unknown>>[];
}

export type JobTrigger =
  /** An EventBridge Scheduler expression, evaluated in UTC: `cron(5 0 * * ? *)`, `rate(15 minutes)`. */
  | { readonly schedule: string }
  /** The `detail-type`s of events on the service's bus that start the job. */
  | { readonly detailTypes: readonly string[] }
  /** The ledger table's stream, read in order per item (an event source mapping on AWS, a poller locally). */
  | { readonly tableStream: StreamTriggerSettings };

export interface BackgroundJob extends DeployedFunction {
  readonly description: string;
  readonly trigger: JobTrigger;
}

/**
 * A job that wakes every five minutes and handles what fell due since (`functions/jobs/<name>.handler.ts`): it finds
 * the due items by Query on the table, and handles each in one conditional transaction. Two at once at the most.
 */
function dueItemJob(name: string, description: string): BackgroundJob {
  return {
    name,
    entry: `functions/jobs/${name}.handler.ts`,
    description,
    trigger: { schedule: 'rate(5 minutes)' },
    reservedConcurrency: 2,
    // What is due by Query, the org by GetItem; a reset or expiry is a transaction of puts, an update and a delete;
    // the rollover prunes scope counters by UpdateItem.
    needs: { table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] },
  };
}

/**
 * On the 1st (UTC), at 00:15 and again every six hours: the first run requests last month's exports, the later ones
 * catch what the first left (a failed run, an org whose item a retry has not reached). Nothing is due on other days.
 */
export const MONTHLY_EXPORT_SCHEDULE = 'cron(15 0,6,12,18 1 * ? *)';

/** The jobs deployed today; each capability that needs one adds it here and the stack wires it. */
export const BACKGROUND_JOBS: readonly BackgroundJob[] = [
  dueItemJob('period-rollover', 'Starts each org billing period that is due: pending downgrade, BillingPeriodReset, old counters pruned'),
  dueItemJob('top-up-expiry', 'Expires top-up batches past their expiresAt and logs TopUpExpired with the unspent CU'),
  {
    // One batch per shard at a time bounds its concurrency by the stream's shards; a reserved ceiling could only throttle it.
    name: 'ledger-stream',
    entry: 'functions/jobs/ledger-stream.handler.ts',
    description: 'Rolls each consume and refund into the usage cells once, refills an org pool that fell below its threshold, fires cost alerts, publishes activity entries and alerts on the bus',
    trigger: { tableStream: { filters: LEDGER_STREAM_FILTERS } },
    // A refill reads nothing (the stream record has the org before and after) and is one transaction of puts and an
    // update; a rollup is one transaction of a put (its marker) and an update (its cell), and a model name an update.
    // The alert trigger reads the org's thresholds (GetItem) and puts a firing.
    needs: { table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], eventBus: true },
  },
  {
    name: 'monthly-export',
    entry: 'functions/jobs/monthly-export.handler.ts',
    description: "Requests last month's finance export for every org (FinanceExportRequested) and files the next month's",
    trigger: { schedule: MONTHLY_EXPORT_SCHEDULE },
    reservedConcurrency: 1,
    // What is due by Query, the org by GetItem; a request is a put of its record; the due item moves in a transaction
    // of a put and a delete; the request is published on the bus.
    needs: { table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], eventBus: true },
  },
  {
    name: 'finance-export',
    entry: 'functions/jobs/finance-export.handler.ts',
    description: "Exports an org's month, or a period its reset closed, to the export bucket (usage, events, chargeback files, manifest last) and records the outcome",
    trigger: { detailTypes: FINANCE_EXPORT_TRIGGERS },
    reservedConcurrency: 2,
    // The org (GetItem), rollup cells, model names and the event log (Query, its index); the outcome is an update;
    // the files are put (multipart) under the exports prefix only.
    needs: { table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], indexes: [EVENT_LOG_INDEX], exportBucket: true },
  },
  {
    name: 'alert-webhook',
    entry: 'functions/jobs/alert-webhook.handler.ts',
    description: "Delivers each cost alert to its org's webhook, signed; retried, then dead-lettered",
    trigger: { detailTypes: [...WEBHOOK_ALERT_TYPES] },
    // A slow receiver holds an instance for its timeouts: a ceiling keeps a storm of alerts to a few at once.
    reservedConcurrency: 5,
    // The org's webhook (GetItem); the signing key its secret is derived from. Nothing is written.
    needs: { table: ['dynamodb:GetItem'], webhookSigningKey: true },
  },
];
