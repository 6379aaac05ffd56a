// The ledger table's stream (a Lambda event source mapping on AWS, a poller in the local runner): a consume that took
// the org's pool below its auto-refill threshold refills exactly once, and activity entries with a detail-type
// (BillingPeriodReset, TopUpExpired, AutoRefillPurchased) are published. A failed record is reported by its
// sequence number and delivered again with everything after it; every step is idempotent.

import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { ledgerChangeOf } from '../../shared/adapters/dynamodb/stream-records';
import { jobDependencies } from '../../shared/job-composition';
import { log } from '../../shared/http/log';
import { handleLedgerChange } from '../../shared/use-cases/jobs';

export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const deps = jobDependencies();
  for (const record of event.Records) {
    try {
      const change = ledgerChangeOf(record);
      if (change) await handleLedgerChange(change, deps);
    } catch (error) {
      log('error', 'ledger stream record failed', { errorName: (error as Error).name, sequenceNumber: record.dynamodb?.SequenceNumber });
      // This record and every later one are delivered again, in order.
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
}
