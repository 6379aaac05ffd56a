// Translating what the SDK throws: transport faults, throttling and conflicts become a TransientStoreError the use
// cases retry; a cancelled transaction's reasons are read per leg (transaction-legs.ts).

import { TransactionCanceledException, type AttributeValue, type CancellationReason } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { TransientStoreError } from '../../ports/ledger-records';

const TRANSIENT_ERROR_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
  'TimeoutError',
]);
const TRANSIENT_REASON_CODES = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);
const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

/** The reasons of a cancelled transaction, in the order of its items; undefined for any other error. */
export function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if (error instanceof TransactionCanceledException || (error as Error | undefined)?.name === 'TransactionCanceledException') {
    return (error as TransactionCanceledException).CancellationReasons ?? [];
  }
  return undefined;
}

export function isTransientReason(reason: CancellationReason | undefined): boolean {
  return TRANSIENT_REASON_CODES.has(reason?.Code ?? '');
}

export function failedCondition(reason: CancellationReason | undefined): boolean {
  return reason?.Code === 'ConditionalCheckFailed';
}

export function isConditionalCheckFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

/** The item a failed condition saw, when the request asked for it (ReturnValuesOnConditionCheckFailure: ALL_OLD). */
export function conditionFailureItem(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> } | undefined)?.Item;
  return item ? unmarshall(item) : undefined;
}

/** Transport faults, throttling and conflicts become a TransientStoreError; everything else passes unchanged. */
export function translate(error: unknown): unknown {
  if (error instanceof TransientStoreError) return error;
  const candidate = error as { name?: string; code?: string; cause?: { code?: string } } | undefined;
  if (
    TRANSIENT_ERROR_NAMES.has(candidate?.name ?? '') ||
    TRANSIENT_NETWORK_CODES.has(candidate?.code ?? candidate?.cause?.code ?? '') ||
    (cancellationReasons(error)?.some(isTransientReason) ?? false)
  ) {
    return new TransientStoreError(`DynamoDB: ${candidate?.name ?? 'error'}`, { cause: error });
  }
  return error;
}
