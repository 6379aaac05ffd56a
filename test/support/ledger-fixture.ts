// A ledger on DynamoDB Local for one test file: its own table, real SDK calls, injectable faults.

import { randomUUID } from 'node:crypto';
import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { createDocumentClient, createDynamoDbClient } from '../../shared/adapters/dynamodb/client';
import { buildLedgerDependencies, type LedgerDependencies } from '../../shared/composition';
import type { Clock } from '../../shared/ports/runtime';
import { ensureLedgerTable } from '../../infra/local/dynamodb-local';
import { probeClient, type SdkProbe } from './sdk-faults';
import { scanAll } from './table-scan';

export interface TestLedger {
  readonly deps: LedgerDependencies;
  readonly tableName: string;
  readonly endpoint: string;
  readonly probe: SdkProbe;
  /** Every item in the table, for brute-force checks against counters. */
  scanAll(): Promise<Record<string, unknown>[]>;
  /** Fresh dependencies on the same table: another Lambda container with a cold cache. */
  anotherProcess(): LedgerDependencies;
}

/**
 * Timeouts for one DynamoDB Local shared by every test file on a 2-core machine that may be busy: a call that waits
 * behind hundreds of racing transactions is slow, not lost. Production's 2 s request timeout would turn that wait
 * into an unknown outcome (a 503) that the test did not mean to provoke. Tests of the timeout itself
 * (store-unreachable) build their clients with the production settings on purpose.
 */
export const LOADED_EMULATOR_TIMEOUTS = { connectionTimeout: 10_000, requestTimeout: 30_000, throwOnRequestTimeout: true } as const;

/** A client on DynamoDB Local with timeouts fit for a loaded emulator (see LOADED_EMULATOR_TIMEOUTS). */
export function createTestDynamoDbClient(endpoint: string, overrides: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
  return createDynamoDbClient({ endpoint }, { requestHandler: LOADED_EMULATOR_TIMEOUTS, ...overrides });
}

export async function createTestLedger(options: { clock?: Clock } = {}): Promise<TestLedger> {
  const endpoint = inject('dynamoDbEndpoint');
  const tableName = `ledger-${randomUUID()}`;
  const client = createTestDynamoDbClient(endpoint);
  await ensureLedgerTable(client, tableName);
  const probe = probeClient(client);
  const fastRetry = { attempts: 8, baseDelayMs: 1, maxDelayMs: 20 };
  const deps = buildLedgerDependencies({ tableName, endpoint }, { client, retry: fastRetry, ...(options.clock ? { clock: options.clock } : {}) });
  const documents = createDocumentClient(client);
  return {
    deps,
    tableName,
    endpoint,
    probe,
    scanAll: () => scanAll(documents, tableName),
    anotherProcess() {
      return buildLedgerDependencies({ tableName, endpoint }, { client: createTestDynamoDbClient(endpoint), retry: fastRetry, ...(options.clock ? { clock: options.clock } : {}) });
    },
  };
}

/** A clock the test moves by hand. */
export function manualClock(start: string): Clock & { set(iso: string): void } {
  let now = new Date(start);
  return { now: () => new Date(now), set: (iso: string) => void (now = new Date(iso)) };
}

export { parseBody, serviceEvent } from './api-events';
