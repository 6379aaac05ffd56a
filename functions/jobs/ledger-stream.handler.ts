// The ledger table's stream (a Lambda event source mapping on AWS, a poller in the local runner): a consume that took
// the org's pool below its auto-refill threshold refills exactly once, activity entries with a detail-type
// (BillingPeriodReset, TopUpExpired, AutoRefillPurchased) are published, and every consume and refund is rolled up
// into the usage cells exactly once. A failed record is reported by its sequence number and delivered again with
// everything after it; every step is idempotent, so what succeeded after it does nothing the second time.

import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ledgerChangeOf } from '../../shared/adapters/dynamodb/stream-records';
import { jobDependencies } from '../../shared/job-composition';
import { log } from '../../shared/http/log';
import type { LedgerChange } from '../../shared/ports/job-store';
import { handleLedgerChange, type StreamDependencies } from '../../shared/use-cases/jobs';

/** Rollups of one batch written at once: they touch different cells (or ADD to the same one, which commutes). */
const ROLLUPS_IN_PARALLEL = 10;

export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  return handleStreamRecords(event.Records, jobDependencies());
}

/**
 * Rollups run concurrently (their order does not matter, and a redelivered one adds nothing); refills and publishing
 * run in stream order and stop at the first failure. The earliest failed record is the one reported.
 */
export async function handleStreamRecords(records: readonly DynamoDBRecord[], streamDeps: StreamDependencies): Promise<DynamoDBBatchResponse> {
  // Each org's thresholds are read once per batch: a batch of one org's charges reads them once, not per record.
  const deps: StreamDependencies = { ...streamDeps, thresholdsRead: new Map() };
  const failed = new Set<number>();
  const changes: (LedgerChange | undefined)[] = records.map((record, index) => {
    try {
      return ledgerChangeOf(record);
    } catch (error) {
      fail(index, error);
      return undefined;
    }
  });
  function fail(index: number, error: unknown): void {
    log('error', 'ledger stream record failed', { errorName: (error as Error).name, sequenceNumber: records[index]?.dynamodb?.SequenceNumber });
    failed.add(index);
  }
  const handle = async (index: number) => {
    try {
      await handleLedgerChange(changes[index]!, deps);
    } catch (error) {
      fail(index, error);
    }
  };

  const rollups = changes.flatMap((change, index) => (change?.kind === 'metered' ? [index] : []));
  const rolling = (async () => {
    for (let start = 0; start < rollups.length; start += ROLLUPS_IN_PARALLEL) await Promise.all(rollups.slice(start, start + ROLLUPS_IN_PARALLEL).map(handle));
  })();
  for (const [index, change] of changes.entries()) {
    if (failed.has(index)) break;
    if (change && change.kind !== 'metered') {
      await handle(index);
      if (failed.has(index)) break;
    }
  }
  await rolling;
  const first = Math.min(...failed);
  return { batchItemFailures: failed.size === 0 ? [] : [{ itemIdentifier: records[first]?.dynamodb?.SequenceNumber ?? '' }] };
}
