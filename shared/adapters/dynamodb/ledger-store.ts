// The ledger's ports on DynamoDB, together: the meter, admin, job, usage and alert stores, the analytics keys' ledger
// side and the finance exports' records, over one table access.

import type { AdminStore } from '../../ports/admin-store';
import type { AlertStore } from '../../ports/alert-store';
import type { AlertWebhookStore } from '../../ports/alert-webhook-store';
import type { AnalyticsKeyLedger } from '../../ports/analytics-keys';
import type { FinanceExportStore } from '../../ports/finance-export-store';
import type { JobStore } from '../../ports/job-store';
import type { MeterStore } from '../../ports/meter-store';
import type { RollupStore, UsageStore } from '../../ports/usage-store';
import { dynamoDbUsageStore } from './usage-store';
import { dynamoDbAnalyticsKeyLedger } from './analytics-key-ledger';
import { dynamoDbAdminStore } from './admin-store';
import { dynamoDbAlertStore } from './alert-store';
import { dynamoDbFinanceExportStore } from './finance-export-store';
import { dynamoDbJobStore } from './job-store';
import { dynamoDbMeterStore } from './meter-store';
import type { LedgerTableAccess } from './table-access';

export interface DynamoDbLedgerStore extends MeterStore, AdminStore, JobStore, UsageStore, RollupStore, AnalyticsKeyLedger, AlertStore, AlertWebhookStore, FinanceExportStore {
  /** The same stores for one request: their calls end when `signal` aborts. */
  forRequest(signal: AbortSignal): DynamoDbLedgerStore;
}

export function dynamoDbLedgerStore(table: LedgerTableAccess): DynamoDbLedgerStore {
  return {
    ...dynamoDbMeterStore(table),
    ...dynamoDbJobStore(table),
    ...dynamoDbAdminStore(table),
    ...dynamoDbUsageStore(table),
    ...dynamoDbAnalyticsKeyLedger(table),
    ...dynamoDbAlertStore(table),
    ...dynamoDbFinanceExportStore(table),
    forRequest: (signal) => dynamoDbLedgerStore(table.forRequest(signal)),
  };
}
