// The ledger table's stream (a Lambda event source mapping on AWS, a poller in the local runner): detects a consume
// that took the org's pool below its auto-refill threshold and refills exactly once, and publishes the activity
// entries that have a detail-type (BillingPeriodReset, TopUpExpired, AutoRefillPurchased). A failed record is
// reported by its sequence number and delivered again; every step is idempotent.
// CONTRACT STUB: the use case is wired in by the billing work; the signature is final.

import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';

export async function handler(_event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  return { batchItemFailures: [] };
}
