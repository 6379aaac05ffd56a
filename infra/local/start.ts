// `npm start`: the whole service on this machine. DynamoDB Local with the ledger table, and the Lambda handlers
// behind a local API Gateway on 127.0.0.1. Data persists under DATA_DIR unless --in-memory (or IN_MEMORY=1).

import { randomBytes } from 'node:crypto';
import { mkdirSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createDynamoDbClient } from '../../shared/adapters/dynamodb/client';
import { API_AREAS } from '../api-routes';
import { createLocalApi } from './api-gateway';
import { ensureLedgerTable, startDynamoDbLocal, type RunningDynamoDbLocal } from './dynamodb-local';

export interface LocalRunnerOptions {
  readonly port: number;
  readonly host?: string;
  /** undefined: in memory. */
  readonly dataDirectory?: string | undefined;
  readonly serviceToken: string;
  readonly tableName: string;
}

export interface LocalRunner {
  readonly url: string;
  readonly dynamoDb: RunningDynamoDbLocal;
  readonly server: Server;
  stop(): Promise<void>;
}

export async function startLocalRunner(options: LocalRunnerOptions): Promise<LocalRunner> {
  if (options.dataDirectory) mkdirSync(options.dataDirectory, { recursive: true });
  const dynamoDb = await startDynamoDbLocal({ dataDirectory: options.dataDirectory });
  const server = createLocalApi({ areas: API_AREAS, serviceToken: options.serviceToken });
  const host = options.host ?? '127.0.0.1';
  try {
    process.env.TABLE_NAME = options.tableName;
    process.env.DYNAMODB_ENDPOINT = dynamoDb.endpoint;
    const client = createDynamoDbClient({ endpoint: dynamoDb.endpoint });
    try {
      await ensureLedgerTable(client, options.tableName);
    } finally {
      client.destroy();
    }
    await new Promise<void>((listening, failed) => {
      server.once('error', failed);
      server.listen(options.port, host, () => listening());
    });
  } catch (error) {
    await dynamoDb.stop();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    dynamoDb,
    server,
    async stop() {
      await new Promise<void>((closed) => server.close(() => closed()));
      await dynamoDb.stop();
    },
  };
}

async function main(): Promise<void> {
  const inMemory = process.argv.includes('--in-memory') || process.env.IN_MEMORY === '1';
  const generatedToken = !process.env.SERVICE_TOKEN;
  const serviceToken = process.env.SERVICE_TOKEN || randomBytes(24).toString('base64url');
  const runner = await startLocalRunner({
    port: Number(process.env.PORT ?? 8787),
    dataDirectory: inMemory ? undefined : (process.env.DATA_DIR ?? '.data/dynamodb'),
    serviceToken,
    tableName: process.env.TABLE_NAME ?? 'cu-ledger',
  });
  console.log(`CU Ledger local runner listening on ${runner.url}`);
  console.log(`DynamoDB Local at ${runner.dynamoDb.endpoint} (${inMemory ? 'in memory' : `data in ${process.env.DATA_DIR ?? '.data/dynamodb'}`})`);
  if (generatedToken) console.log(`SERVICE_TOKEN=${serviceToken}`);
  else console.log('Using SERVICE_TOKEN from the environment.');
  const shutdown = () => {
    void runner.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

const startedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (startedDirectly) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
