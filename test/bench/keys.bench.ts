// `npm run bench:keys`: the Analytics API's authorizer checking analytics keys, in-process, against DynamoDB Local
// and the runner's key store (files in memory):
//   1. the time of one check for each kind of caller, cold (no record cache: the local runner, a cold instance) and
//      warm (records cached 60 s, unknown ids too): a valid key, a wrong secret, an unknown key, a revoked key, a
//      secret whose checksum fails (refused before any lookup). The kinds refused alike should take alike: the same
//      HMAC work (two digests), one key-store read, and a failure's count written after the answer;
//   2. what checks write: lastUsedAt for 1,000 valid checks in one minute, and the feed entry's writes for 1,000
//      wrong secrets in one minute.
// Prints tables, then one JSON line with every figure as the last line of stdout. Never fails on speed. On AWS the
// key store is Secrets Manager (one GetSecretValue per uncached check, some ms more) and the gateway caches answers
// for 60 s per Authorization header, so most requests never reach the authorizer at all.
//
// Sizes (env): KEYS_BENCH_REPS (500 timed checks per kind), KEYS_BENCH_BURST (1000).

process.env.LOG_LEVEL = 'silent';

import { performance } from 'node:perf_hooks';
import { authorizeAnalyticsRequest } from '../../functions/auth/analytics-authorizer.handler';
import { localKeyStore, localPepper } from '../../shared/adapters/local/file-key-store';
import { buildLedgerDependencies } from '../../shared/composition';
import { UnauthorizedError } from '../../shared/domain/errors';
import { newKeyId, newSecret } from '../../shared/domain/analytics-keys';
import { SERVICE_ACTOR } from '../../shared/ports/ledger-records';
import type { AnalyticsKeyLedger } from '../../shared/ports/analytics-keys';
import { createAnalyticsKey, revokeAnalyticsKey } from '../../shared/use-cases/analytics-keys';
import { KeyCheckMemory, verifyAnalyticsKey } from '../../shared/use-cases/analytics-key-auth';
import { ensureLedgerTable, startDynamoDbLocal } from '../../infra/local/dynamodb-local';
import { createDynamoDbClient } from '../../shared/adapters/dynamodb/client';
import { authorizerEvent } from '../support/api-events';
import { provisionOrg } from '../support/provision';
import { latencyStats, round, table, type LatencyStats } from './bench-support';

const REPS = Number(process.env.KEYS_BENCH_REPS ?? 500);
const BURST = Number(process.env.KEYS_BENCH_BURST ?? 1000);
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:bench/api/GET/v1/usage';
const basic = (keyId: string, secret: string) => `Basic ${Buffer.from(`${keyId}:${secret}`).toString('base64')}`;

async function main(): Promise<void> {
  const dynamoDb = await startDynamoDbLocal();
  try {
    const client = createDynamoDbClient({ endpoint: dynamoDb.endpoint });
    await ensureLedgerTable(client, 'keys-bench');
    let now = new Date('2026-05-01T08:00:00.000Z');
    // The clock stands still through the timed checks: lastUsedAt is written once, failure counts at 1, 2, 4, ...
    const clock = { now: () => new Date(now) };
    const deps = buildLedgerDependencies({ tableName: 'keys-bench', endpoint: dynamoDb.endpoint }, { client, clock });
    const vault = { keys: localKeyStore(undefined), pepper: localPepper(undefined) };
    await provisionOrg(deps, 'acme', { allowanceCu: 1000 });
    const live = await createAnalyticsKey({ orgId: 'acme', name: 'bi', actor: SERVICE_ACTOR }, { ...deps, vault });
    const revoked = await createAnalyticsKey({ orgId: 'acme', name: 'gone', actor: SERVICE_ACTOR }, { ...deps, vault });
    await revokeAnalyticsKey({ orgId: 'acme', keyId: revoked.keyId, actor: SERVICE_ACTOR }, { ...deps, vault });

    /** Counts the ledger writes the checks make. */
    const writes = { lastUsed: 0, failures: 0 };
    const store: Pick<AnalyticsKeyLedger, 'noteKeyUsed' | 'recordAuthFailures'> = {
      noteKeyUsed: (...args) => (writes.lastUsed++, deps.store.noteKeyUsed(...args)),
      recordAuthFailures: (...args) => (writes.failures++, deps.store.recordAuthFailures(...args)),
    };
    const authorizer = (memory: KeyCheckMemory) => (authorization: string) =>
      authorizeAnalyticsRequest(authorizerEvent(authorization, { methodArn: METHOD_ARN }), {
        people: { verify: async () => Promise.reject(new UnauthorizedError('no people here')) },
        keys: (credentials) => verifyAnalyticsKey(credentials, { vault, store, clock, memory }),
      });

    const brokenChecksum = `${live.secret.slice(0, -1)}${live.secret.endsWith('0') ? '1' : '0'}`;
    const unknownKey = newKeyId();
    const kinds: [string, () => string][] = [
      ['valid', () => basic(live.keyId, live.secret)],
      ['wrong secret', () => basic(live.keyId, newSecret())],
      ['unknown key', () => basic(unknownKey, newSecret())],
      ['revoked key', () => basic(revoked.keyId, revoked.secret)],
      ['checksum fails (no lookup)', () => basic(live.keyId, brokenChecksum)],
    ];
    const results: Record<string, Record<'cold' | 'warm', LatencyStats & { allowed: number }>> = {};
    for (const [name, header] of kinds) {
      results[name] = {} as Record<'cold' | 'warm', LatencyStats & { allowed: number }>;
      // cold: no record cache (the local runner; a cold instance on AWS); warm: records cached 60 s (a warm instance).
      for (const [variant, memory] of [['cold', new KeyCheckMemory(0)], ['warm', new KeyCheckMemory(60_000)]] as const) {
        const check = authorizer(memory);
        const samples: number[] = [];
        let allowed = 0;
        for (let rep = 0; rep < REPS + 50; rep++) {
          const authorization = header();
          const started = performance.now();
          const outcome = await check(authorization).then(
            () => 'allow',
            (error: Error) => error.message,
          );
          if (rep >= 50) samples.push(performance.now() - started);
          if (outcome === 'allow') allowed++;
          else if (outcome !== 'Unauthorized') throw new Error(`${name}: the authorizer answered ${outcome}`);
          // The failure counts written after the answers are not this check's time: let them land between checks.
          await memory.settled();
        }
        results[name][variant] = { ...latencyStats(samples), allowed };
      }
    }
    console.log(
      table(
        `One check (${REPS} each, after 50 untimed): the authorizer function, in-process; cold: no record cache, warm: records cached 60 s`,
        ['caller', 'cold p50 ms', 'cold p95 ms', 'warm p50 ms', 'warm p95 ms', 'allowed'],
        Object.entries(results).map(([name, { cold, warm }]) => [name, cold.p50Ms, cold.p95Ms, warm.p50Ms, warm.p95Ms, cold.allowed + warm.allowed]),
      ),
    );

    // Writes: a burst of valid checks and one of wrong secrets, each within one minute.
    now = new Date('2026-06-01T08:00:00.000Z');
    writes.lastUsed = 0;
    writes.failures = 0;
    const burstMemory = new KeyCheckMemory(60_000);
    const check = authorizer(burstMemory);
    for (let index = 0; index < BURST; index++) await check(basic(live.keyId, live.secret));
    const lastUsedWrites = writes.lastUsed;
    for (let index = 0; index < BURST; index++) await check(basic(live.keyId, newSecret())).catch(() => undefined);
    await burstMemory.settled();
    const failureWrites = writes.failures;
    const burstEntry = async () => {
      const feed = (await deps.store.listEvents('acme', 100, null)).items.find((entry) => entry.kind === 'analytics_key_auth_failed' && entry.createdAt.startsWith('2026-06-01T08:00'));
      return feed && 'failures' in feed ? feed.failures : 0;
    };
    const recorded = await burstEntry();
    // The minute's rest is written when the instance next refuses a secret, in a later minute.
    now = new Date('2026-06-01T08:01:00.000Z');
    await check(basic(live.keyId, newSecret())).catch(() => undefined);
    await burstMemory.settled();
    const recordedAfter = await burstEntry();
    console.log(
      table(`Ledger writes in one minute (${BURST} checks each)`, ['burst', 'writes', 'feed entry says'], [
        ['valid checks: lastUsedAt', lastUsedWrites, '-'],
        ['wrong secrets: auth_failed entry', failureWrites, `${recorded} failures; ${recordedAfter} after a refusal in the next minute`],
      ]),
    );

    const refused = ['wrong secret', 'unknown key', 'revoked key'].flatMap((name) => [results[name]!.cold.p50Ms]);
    const refusedWarm = ['wrong secret', 'unknown key', 'revoked key'].flatMap((name) => [results[name]!.warm.p50Ms]);
    const figures = {
      reps: REPS,
      burst: BURST,
      checks: Object.fromEntries(
        Object.entries(results).map(([name, { cold, warm }]) => [name, { coldP50Ms: cold.p50Ms, coldP95Ms: cold.p95Ms, warmP50Ms: warm.p50Ms, warmP95Ms: warm.p95Ms }]),
      ),
      refusedColdP50SpreadMs: round(Math.max(...refused) - Math.min(...refused), 3),
      refusedWarmP50SpreadMs: round(Math.max(...refusedWarm) - Math.min(...refusedWarm), 3),
      lastUsedWritesPerBurst: lastUsedWrites,
      failureWritesPerBurst: failureWrites,
      failuresRecorded: recorded,
      failuresRecordedAfterNextMinute: recordedAfter,
    };
    console.log(`\nThe refused kinds' p50s are within ${figures.refusedColdP50SpreadMs} ms of each other cold, ${figures.refusedWarmP50SpreadMs} ms warm.`);
    console.log(JSON.stringify(figures));
    client.destroy();
  } finally {
    await dynamoDb.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
