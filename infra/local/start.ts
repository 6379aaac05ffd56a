// `npm start`: the whole service on this machine. DynamoDB Local with the ledger table, the Lambda handlers behind a
// local API Gateway on 127.0.0.1, and the jobs on their AWS triggers: the scheduled ones on a timer
// (JOB_INTERVAL_SECONDS, 300 as on AWS), the stream handler on the table's stream. Data persists under DATA_DIR
// unless --in-memory (or IN_MEMORY=1). People sign in with tokens of the runner's own dev issuer (`npm run token`).

import { randomBytes } from 'node:crypto';
import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { handler as ledgerStream } from '../../functions/jobs/ledger-stream.handler';
import { createDynamoDbClient } from '../../shared/adapters/dynamodb/client';
import { ALLOW_LOCAL_WEBHOOKS_ENV, useLocalKeyVault, useLocalPublisher, useLocalWebhookSigningKey, useProcessClock } from '../../shared/composition';
import { localKeyStore, localPepper } from '../../shared/adapters/local/file-key-store';
import { systemClock } from '../../shared/ports/runtime';
import { DEFAULT_ORG_CLAIM } from '../../shared/http/principal';
import { ANALYTICS_AUTHORIZER, API_AREAS } from '../api-routes';
import { createLocalApi } from './api-gateway';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_ISSUER_JWKS_PATH, devIssuerKeyFile, openDevIssuer } from './dev-issuer';
import { DASHBOARD_CLIENT_ID, DEV_OIDC_BASE_PATH, DEV_OIDC_DISCOVERY_PATH, devOidcProvider, ledgerMembers } from './dev-oidc-provider';
import { ensureLedgerTable, startDynamoDbLocal, type RunningDynamoDbLocal } from './dynamodb-local';
import { DEFAULT_JOB_INTERVAL_MS, LOCAL_JOBS, startJobSchedule, type JobSchedule } from './jobs';
import { localOnlyRoutes } from './local-routes';
import { ancestorsToWatch, watchProcesses } from './parent-watch';
import { publishedEventLog } from './published-events';
import { withBusJobs } from './bus-jobs';
import { startS3Local, type RunningS3Local } from './s3-local';
import { settableClock } from './settable-clock';
import { startStreamPoller, type StreamPoller } from './stream-poller';
import { buildDashboardAssets } from '../dashboard-assets';
import { DASHBOARD_PATH, dashboardPages } from './dashboard-pages';

export interface LocalRunnerOptions {
  readonly port: number;
  readonly host?: string;
  /** undefined: in memory. */
  readonly dataDirectory?: string | undefined;
  readonly serviceToken: string;
  readonly tableName: string;
  /** How often the scheduled jobs run; 5 minutes (as on AWS) unless set. */
  readonly jobIntervalMs?: number;
  /** The dev issuer's key; where `npm run token` finds it unless set. */
  readonly devIssuerKeyFile?: string;
  /** Lets cost-alert webhooks be http://127.0.0.1 or http://localhost (tests, demos); never so on AWS. */
  readonly allowLocalWebhooks?: boolean;
}

export interface LocalRunner {
  readonly url: string;
  readonly dynamoDb: RunningDynamoDbLocal;
  /** s3rver with the export bucket: where finance exports land. */
  readonly s3: RunningS3Local;
  readonly server: Server;
  stop(): Promise<void>;
}

export async function startLocalRunner(options: LocalRunnerOptions): Promise<LocalRunner> {
  if (options.dataDirectory) mkdirSync(options.dataDirectory, { recursive: true });
  const host = options.host ?? '127.0.0.1';
  // Fail in a moment, not after DynamoDB Local's start, when another runner holds the port.
  await assertPortFree(host, options.port);
  const devIssuer = await openDevIssuer(options.devIssuerKeyFile ?? devIssuerKeyFile());
  const orgClaim = process.env.ORG_CLAIM || DEFAULT_ORG_CLAIM;
  const dynamoDb = await startDynamoDbLocal({ dataDirectory: options.dataDirectory });
  // The export bucket's objects beside the table's data (in memory with it).
  const s3 = await startS3Local({ dataDirectory: options.dataDirectory ? join(options.dataDirectory, 's3') : undefined }).catch(async (error: unknown) => {
    await dynamoDb.stop();
    throw error;
  });
  // One client for the health check; the handlers build their own from the environment, as on Lambda.
  const client = createDynamoDbClient({ endpoint: dynamoDb.endpoint });
  const clock = settableClock();
  const events = withBusJobs(publishedEventLog());
  useProcessClock(clock);
  useLocalPublisher(events);
  // Analytics keys' records and the pepper, as files beside the table's data (in memory with it): they survive a restart.
  const keyDirectory = options.dataDirectory ? join(options.dataDirectory, 'analytics-keys') : undefined;
  useLocalKeyVault({ keys: localKeyStore(keyDirectory), pepper: localPepper(keyDirectory) });
  // The webhook signing key is a pepper of its own, generated once in its own folder.
  useLocalWebhookSigningKey(localPepper(options.dataDirectory ? join(options.dataDirectory, 'webhook-signing-key') : undefined));
  if (options.allowLocalWebhooks) process.env[ALLOW_LOCAL_WEBHOOKS_ENV] = '1';
  let stream: StreamPoller | undefined;
  let jobs: JobSchedule | undefined;
  /** The jobs first (a run may write to the stream), then the stream, before DynamoDB Local goes. */
  async function stopBackground(): Promise<void> {
    await jobs?.stop();
    await events.settled();
    await stream?.stop();
    client.destroy();
    useProcessClock(systemClock);
    useLocalPublisher(undefined);
    useLocalKeyVault(undefined);
    useLocalWebhookSigningKey(undefined);
  }
  let server: Server;
  // Known once the server listens; the OIDC endpoints name the issuer by it.
  let origin = `http://${host}:${options.port}`;
  try {
    process.env.TABLE_NAME = options.tableName;
    process.env.DYNAMODB_ENDPOINT = dynamoDb.endpoint;
    Object.assign(process.env, { EXPORT_BUCKET: s3.bucket, S3_ENDPOINT: s3.endpoint });
    const table = await ensureLedgerTable(client, options.tableName);
    // A table kept from an earlier run had its records handled then: read only what comes from now on.
    stream = await startStreamPoller({
      endpoint: dynamoDb.endpoint,
      tableName: options.tableName,
      handler: ledgerStream,
      startingPosition: table === 'created' ? 'TRIM_HORIZON' : 'LATEST',
    });
    jobs = startJobSchedule(LOCAL_JOBS, options.jobIntervalMs ?? DEFAULT_JOB_INTERVAL_MS);
    server = createLocalApi({
      areas: API_AREAS,
      serviceToken: options.serviceToken,
      analyticsAuthorizer: ANALYTICS_AUTHORIZER.handler,
      health: () => tableIsReachable(client, options.tableName),
      localRoutes: localOnlyRoutes({ clock, jobs, stream, events }),
      publicDocuments: { [DEV_ISSUER_JWKS_PATH]: devIssuer.jwks },
      publicPages: [
        devOidcProvider({ issuer: devIssuer, origin: () => origin, members: ledgerMembers, orgClaim }),
        // The dashboard's script and stylesheet, built as the stack builds them for the Lambda, on first use.
        dashboardPages({ build: buildDashboardAssets, origin: () => origin, orgClaim }),
      ],
    });
    await new Promise<void>((listening, failed) => {
      server.once('error', (error: NodeJS.ErrnoException) => failed(error.code === 'EADDRINUSE' ? portInUse(host, options.port) : error));
      server.listen(options.port, host, () => {
        // The authorizer is configured as on Lambda, from the environment, with the dev issuer in place of the
        // identity provider; it fetches the JWKS from this server over HTTP. Set before the first request is read.
        const { port } = server.address() as AddressInfo;
        origin = `http://${host}:${port}`;
        Object.assign(process.env, { JWT_ISSUER: DEV_ISSUER, JWT_AUDIENCE: DEV_AUDIENCE, JWKS_URL: `http://${host}:${port}${DEV_ISSUER_JWKS_PATH}` });
        listening();
      });
    });
  } catch (error) {
    await stopBackground();
    await Promise.all([dynamoDb.stop(), s3.stop()]);
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    dynamoDb,
    s3,
    server,
    async stop() {
      const closed = new Promise<void>((done) => server.close(() => done()));
      // Requests in flight get a moment to finish; then their connections are cut.
      setTimeout(() => server.closeAllConnections(), 2_000).unref();
      await closed;
      await stopBackground();
      await Promise.all([dynamoDb.stop(), s3.stop()]);
    },
  };
}

async function tableIsReachable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch {
    return false;
  }
}

function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((free, taken) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => taken(error.code === 'EADDRINUSE' ? portInUse(host, port) : error));
    probe.listen(port, host, () => probe.close(() => free()));
  });
}

function portInUse(host: string, port: number): Error {
  return new Error(
    `Port ${port} on ${host} is already in use: another runner (\`curl http://${host}:${port}/health\` tells) or another program. Stop it, or start this one with PORT=<another port>.`,
  );
}

/** JOB_INTERVAL_SECONDS (for demos: run the scheduled jobs more often than AWS's 5 minutes), checked before anything starts. */
function jobIntervalFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_JOB_INTERVAL_MS;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 86_400) {
    throw new Error(`JOB_INTERVAL_SECONDS must be a number of seconds from 1 to 86400; it is ${JSON.stringify(value)}.`);
  }
  return seconds * 1000;
}

/** How long a shutdown may take before the runner exits anyway (DynamoDB Local is killed on exit). */
const SHUTDOWN_DEADLINE_MS = 8_000;

async function main(): Promise<void> {
  const inMemory = process.argv.includes('--in-memory') || process.env.IN_MEMORY === '1';
  const allowLocalWebhooks = process.argv.includes('--allow-local-webhooks') || process.env[ALLOW_LOCAL_WEBHOOKS_ENV] === '1';
  const generatedToken = !process.env.SERVICE_TOKEN;
  const serviceToken = process.env.SERVICE_TOKEN || randomBytes(24).toString('base64url');
  const port = Number(process.env.PORT ?? 8787);
  const jobIntervalMs = jobIntervalFromEnv(process.env.JOB_INTERVAL_SECONDS);
  // Watch whoever started us from the first moment: a runner whose parent is gone must not come up at all.
  const stopWatching = watchProcesses(ancestorsToWatch(), (pid) => shutdown(`process ${pid} that started the runner is gone`));
  let runner: LocalRunner | undefined;
  let stopping = false;
  function shutdown(reason: string): void {
    if (stopping) {
      process.exit(1); // a second signal: stop now (DynamoDB Local is killed on exit)
    }
    stopping = true;
    stopWatching();
    console.log(`Stopping (${reason}).`);
    setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
    void (runner?.stop() ?? Promise.resolve()).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => shutdown(signal));

  runner = await startLocalRunner({
    port,
    dataDirectory: inMemory ? undefined : (process.env.DATA_DIR ?? '.data/dynamodb'),
    serviceToken,
    tableName: process.env.TABLE_NAME ?? 'cu-ledger',
    jobIntervalMs,
    allowLocalWebhooks,
  });
  if (allowLocalWebhooks) console.log('Cost-alert webhooks may be http://127.0.0.1 or http://localhost (--allow-local-webhooks).');
  console.log(`DynamoDB Local at ${runner.dynamoDb.endpoint} (${inMemory ? 'in memory' : `data in ${process.env.DATA_DIR ?? '.data/dynamodb'}`})`);
  console.log(`Exports (s3rver) at ${runner.s3.endpoint}, bucket ${runner.s3.bucket}`);
  if (generatedToken) console.log(`SERVICE_TOKEN=${serviceToken}`);
  else console.log('Using SERVICE_TOKEN from the environment.');
  console.log(
    `People (the analytics routes): \`npm run --silent token -- --org <orgId> --user <userId>\` prints a token for Authorization: Bearer (dev issuer ${DEV_ISSUER}, JWKS at ${runner.url}${DEV_ISSUER_JWKS_PATH})`,
  );
  console.log(
    `The dashboard's OIDC sign-in (authorization code with PKCE, client ${DASHBOARD_CLIENT_ID}): issuer ${runner.url}${DEV_OIDC_BASE_PATH}, discovery at ${runner.url}${DEV_OIDC_DISCOVERY_PATH}`,
  );
  console.log(
    `BI tools (GET /v1/usage*, /v1/activity): an org admin or the service creates an analytics key with POST ${runner.url}/v1/orgs/<orgId>/analytics-keys, then calls with curl -u "$KEY:$SECRET"`,
  );
  console.log(`Usage dashboard: ${runner.url}${DASHBOARD_PATH} (sign in as any member of an org; org and project admins see it)`);
  console.log(`CU Ledger local runner ready on ${runner.url} (GET /health answers 200; Ctrl-C or SIGTERM stops it)`);
}

const startedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (startedDirectly) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
