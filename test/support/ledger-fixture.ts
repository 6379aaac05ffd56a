// A ledger on DynamoDB Local for one test file: its own table, real SDK calls, injectable faults.

import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { inject } from 'vitest';
import { createDocumentClient, createDynamoDbClient } from '../../shared/adapters/dynamodb/client';
import { buildLedgerDependencies, type LedgerDependencies } from '../../shared/composition';
import type { Clock } from '../../shared/ports/runtime';
import { ensureLedgerTable } from '../../infra/local/dynamodb-local';
import { probeClient, type SdkProbe } from './sdk-faults';

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

export async function createTestLedger(options: { clock?: Clock } = {}): Promise<TestLedger> {
  const endpoint = inject('dynamoDbEndpoint');
  const tableName = `ledger-${randomUUID()}`;
  const client = createDynamoDbClient({ endpoint });
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
    async scanAll() {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },
    anotherProcess() {
      return buildLedgerDependencies({ tableName, endpoint }, { retry: fastRetry, ...(options.clock ? { clock: options.clock } : {}) });
    },
  };
}

/** A clock the test moves by hand. */
export function manualClock(start: string): Clock & { set(iso: string): void } {
  let now = new Date(start);
  return { now: () => new Date(now), set: (iso: string) => void (now = new Date(iso)) };
}

/** The event API Gateway hands a Lambda for a service-principal call (IAM already verified). */
export function serviceEvent(
  routeKey: string,
  options: { body?: unknown; rawBody?: string; pathParameters?: Record<string, string>; query?: Record<string, string>; principal?: boolean } = {},
): APIGatewayProxyEventV2 {
  const [method, path] = routeKey.split(' ') as [string, string];
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'test',
      domainPrefix: 'test',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      ...(options.principal === false ? {} : { authorizer: { iam: { userArn: 'arn:aws:iam::000000000000:role/platform-backend' } } }),
    },
  } as APIGatewayProxyEventV2;
}

export function parseBody(result: { body?: string }): any {
  return JSON.parse(result.body ?? 'null');
}
