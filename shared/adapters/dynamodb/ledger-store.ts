// The ledger's ports on DynamoDB, together: the meter store and the admin store over one table access.

import type { AdminStore } from '../../ports/admin-store';
import type { MeterStore } from '../../ports/meter-store';
import { dynamoDbAdminStore } from './admin-store';
import { dynamoDbMeterStore } from './meter-store';
import type { LedgerTableAccess } from './table-access';

export interface DynamoDbLedgerStore extends MeterStore, AdminStore {
  /** The same stores for one request: their calls end when `signal` aborts. */
  forRequest(signal: AbortSignal): DynamoDbLedgerStore;
}

export function dynamoDbLedgerStore(table: LedgerTableAccess): DynamoDbLedgerStore {
  return {
    ...dynamoDbMeterStore(table),
    ...dynamoDbAdminStore(table),
    forRequest: (signal) => dynamoDbLedgerStore(table.forRequest(signal)),
  };
}
