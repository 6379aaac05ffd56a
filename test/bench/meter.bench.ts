// `npm run bench:meter`: the consume hot path against DynamoDB Local, in one run.
//   1. latency p50/p99 of sequential consumes, in-process (the middy handler) and over HTTP (the local runner)
//   2. throughput with 1, 16 and 64 concurrent clients on one org (in-process consume() with its dependencies)
//   3. overspend check: 64 concurrent clients against tight limits; counters read back and reconciled with events
//   4. DynamoDB round trips per consume (SDK middleware count) during the steady-state throughput runs
//   5. write units per consume from the stored items' sizes (DynamoDB Local under-reports transactional capacity)
//   6. the same four-item TransactWriteItems written bare (no validation, cache or use case), as the ceiling
//   7. top-up batches: throughput, round trips and write units per consume with 0, 1 and 10 live batches on the org
//   8. auto-refill: from the consume that crosses the threshold until the refill's batch pays for a consume
// Prints a table, then one JSON line with every figure as the last line of stdout. Never fails on speed.

process.env.LOG_LEVEL = 'silent';

import { randomBytes, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetItemCommand, TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createDynamoDbClient } from '../../shared/adapters/dynamodb/client';
import { eventKey, eventLogKey, orgKey, scopeKey, usageAttribute, type ItemKey } from '../../shared/adapters/dynamodb/ledger-table';
import { buildLedgerDependencies, type LedgerDependencies } from '../../shared/composition';
import { termsAt } from '../../shared/domain/billing-terms';
import { LimitReachedError } from '../../shared/domain/errors';
import { counterName } from '../../shared/ports/ledger-records';
import { addTopUp, setAutoRefill } from '../../shared/use-cases/billing';
import { consume, type ConsumeRequest } from '../../shared/use-cases/consume';
import { handler as adminHandler, putMemberRoute, putOrgRoute, putProjectRoute } from '../../functions/admin/admin.handler';
import { handler as meterHandler } from '../../functions/meter/meter.handler';
import { ensureLedgerTable } from '../../infra/local/dynamodb-local';
import { startLocalRunner, type LocalRunner } from '../../infra/local/start';
import { probeClient, type SdkProbe } from '../support/sdk-faults';
import { scanAll } from '../support/table-scan';
import { settle } from '../support/provision';
import { auditLedger } from '../support/ledger-audit';
import {
  cpuSample,
  findDynamoDbLocalPid,
  foreignCores,
  itemSize,
  lambdaContext,
  latencyStats,
  prng,
  round,
  serviceEvent,
  table,
  writeUnits,
  type LatencyStats,
} from './bench-support';

// ---- Parameters --------------------------------------------------------------------------------------------------

const LATENCY_WARMUP = 30;
const LATENCY_SAMPLES = 300;
/** Requests per measured pass, by number of concurrent clients. */
const THROUGHPUT_PLAN: ReadonlyArray<{ concurrency: number; requests: number }> = [
  { concurrency: 1, requests: 300 },
  { concurrency: 16, requests: 1200 },
  { concurrency: 64, requests: 1600 },
];
/** Both sides are warmed up (JIT of the JVM and of V8) before anything is measured. */
const JVM_WARMUP_REQUESTS = 400;
const RATIO_TARGET = 0.6;
const ROUND_TRIP_TARGET = 1;
/** Round trips per consume count as "1" up to this (cache refreshes of the 30 s limit-cache TTL add a few reads). */
const ROUND_TRIP_TOLERANCE = 0.05;

const BILLING_ANCHOR = '2024-01-01';
const MAX_CU = 1_000_000_000;
const JOB = { jobType: 'image_generation', modelId: 'flux-1-dev', modelName: 'FLUX.1 [dev]', assetKind: 'image' as const };
const CHARGE_CU = 1.5;

// Tight limits for the overspend check.
const TIGHT = {
  orgId: 'org-tight',
  allowanceCu: 500,
  projects: [
    { id: 'proj-a', capCu: 300 },
    { id: 'proj-b', capCu: 300 },
  ],
  members: [
    { id: 'user-1', capCu: 150 },
    { id: 'user-2', capCu: 150 },
    { id: 'user-3', capCu: 150 },
    { id: 'user-4', capCu: 150 },
  ],
  clients: 64,
  requestsPerClient: 12,
  chargeCu: 5,
};

// The throughput org: limits far above anything the bench spends, every level capped so every condition is checked.
const FAST = {
  orgId: 'org-fast',
  projectId: 'proj-main',
  members: Array.from({ length: 8 }, (_, index) => `user-${index + 1}`),
};

/** Orgs like the throughput org (allowance 0 CU) holding this many live top-up batches, measured beside it. */
const BATCH_CASES = [
  { batches: 1, orgId: 'org-batches-1' },
  { batches: 10, orgId: 'org-batches-10' },
] as const;
/** The batch cases run inside the throughput passes of this many clients, between its bare and 0-batch passes. */
const BATCH_CLIENTS = 16;
/** The soonest-expiring batch pays for every consume of the run; the others expire later and are never drawn. */
const DRAWN_BATCH_CU = 1_000_000;
const SPARE_BATCH_CU = 1_000;
const DAY_MS = 86_400_000;

// Auto-refill: each crossing on an org of its own (one refill per period), the first one not counted (warm-up).
const REFILL = {
  crossings: 10,
  allowanceCu: 100,
  thresholdCu: 50,
  amountCu: 100,
  /** The wait between two tries of the consume only the refill can pay for, doubled from first to max. */
  firstPollMs: 2,
  maxPollMs: 20,
  timeoutMs: 30_000,
} as const;

const TABLES = { http: 'bench-http', ours: 'bench-ours', bare: 'bench-bare', tight: 'bench-tight' };

// ---- Provisioning -----------------------------------------------------------------------------------------------

async function expectOk(result: Promise<{ statusCode?: number | undefined; body?: string | undefined }>, what: string): Promise<void> {
  const response = await result;
  if (response.statusCode !== 200) throw new Error(`${what}: HTTP ${response.statusCode} ${response.body ?? ''}`);
}

interface OrgPlan {
  readonly orgId: string;
  readonly allowanceCu: number;
  readonly projects: ReadonlyArray<{ id: string; capCu?: number }>;
  readonly members: ReadonlyArray<{ id: string; capCu?: number }>;
}

/** Provisions through the admin routes, with the given dependencies. */
async function provision(deps: LedgerDependencies, plan: OrgPlan): Promise<void> {
  const orgPath = { orgId: plan.orgId };
  await expectOk(
    putOrgRoute(serviceEvent('PUT /v1/orgs/{orgId}', { pathParameters: orgPath, body: { plan: { name: 'bench', allowanceCu: plan.allowanceCu }, billingAnchor: BILLING_ANCHOR } }), deps),
    `put org ${plan.orgId}`,
  );
  for (const project of plan.projects) {
    await expectOk(
      putProjectRoute(
        serviceEvent('PUT /v1/orgs/{orgId}/projects/{projectId}', { pathParameters: { ...orgPath, projectId: project.id }, body: project.capCu === undefined ? {} : { capCu: project.capCu } }),
        deps,
      ),
      `put project ${project.id}`,
    );
  }
  for (const member of plan.members) {
    await expectOk(
      putMemberRoute(
        serviceEvent('PUT /v1/orgs/{orgId}/members/{userId}', {
          pathParameters: { ...orgPath, userId: member.id },
          body: { role: 'contributor', ...(member.capCu === undefined ? {} : { capCu: member.capCu }) },
        }),
        deps,
      ),
      `put member ${member.id}`,
    );
  }
}

/** The throughput org's limits, far above anything the bench spends, on `orgId` with `allowanceCu`. */
function fastOrgPlan(orgId: string, allowanceCu: number): OrgPlan {
  return {
    orgId,
    allowanceCu,
    projects: [{ id: FAST.projectId, capCu: MAX_CU / 2 }],
    members: FAST.members.map((id) => ({ id, capCu: MAX_CU / 10 })),
  };
}

/** A throughput org with no allowance and `batches` live top-ups, the soonest-expiring one large enough for the run. */
async function provisionBatchOrg(deps: LedgerDependencies, orgId: string, batches: number): Promise<void> {
  await provision(deps, fastOrgPlan(orgId, 0));
  const now = Date.now();
  for (let index = 0; index < batches; index++) {
    await addTopUp(
      {
        orgId,
        // The length of a payment provider's id (e.g. a Stripe payment intent): it is spelled twice on the org item.
        purchaseId: `pi_${randomBytes(18).toString('base64url')}`,
        cuMilli: (index === 0 ? DRAWN_BATCH_CU : SPARE_BATCH_CU) * 1000,
        expiresAt: new Date(now + (60 + 10 * index) * DAY_MS).toISOString(),
      },
      deps,
    );
  }
}

// ---- Concurrent runs --------------------------------------------------------------------------------------------

type Outcome = 'ok' | 'refused' | 'failed';

interface RunResult {
  readonly concurrency: number;
  readonly requests: number;
  readonly successes: number;
  readonly refused: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly elapsedMs: number;
  readonly perSecond: number;
  /** Cores other processes on the machine kept busy during the run (noise); null without /proc. */
  readonly foreignCores: number | null;
}

/** This process and its DynamoDB Local: CPU they use is ours, the rest of the machine's is noise. */
const ownPids: number[] = [process.pid];
/** Above this many cores used by other processes, a figure is flagged as disturbed. */
const NOISE_WARNING_CORES = 0.25;

/** `concurrency` clients, each sending its next request as soon as the previous answered, until `requests` were sent. */
async function runConcurrent(concurrency: number, requests: number, send: (index: number, client: number) => Promise<Outcome>): Promise<RunResult> {
  let next = 0;
  let successes = 0;
  let refused = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  const cpuBefore = cpuSample(ownPids);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, client) => {
      while (next < requests) {
        const index = next++;
        try {
          const outcome = await send(index, client);
          if (outcome === 'ok') successes++;
          else if (outcome === 'refused') refused++;
          else failed++;
        } catch (error) {
          failed++;
          const name = (error as Error | undefined)?.name ?? 'unknown';
          failures[name] = (failures[name] ?? 0) + 1;
        }
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  const noise = foreignCores(cpuBefore, cpuSample(ownPids), elapsedMs);
  return { concurrency, requests, successes, refused, failed, failures, elapsedMs, perSecond: (successes / elapsedMs) * 1000, foreignCores: noise };
}

/** A measured pass and the DynamoDB round trips it made, by command. */
interface MeasuredRun extends RunResult {
  readonly roundTrips: ReadonlyMap<string, number>;
  /** Reads beyond the one transaction per consume: limit-cache refreshes (30 s TTL), one per client in flight. */
  readonly extraReads: number;
}

async function measuredPass(probe: SdkProbe, concurrency: number, requests: number, send: (index: number, client: number) => Promise<Outcome>): Promise<MeasuredRun> {
  probe.reset();
  const result = await runConcurrent(concurrency, requests, send);
  const roundTrips = new Map(probe.roundTrips);
  return { ...result, roundTrips, extraReads: roundTrips.get('BatchGetItemCommand') ?? 0 };
}

/** Successful consumes per second over several passes. */
function passRate(runs: readonly RunResult[]): number {
  return (runs.reduce((sum, run) => sum + run.successes, 0) / runs.reduce((sum, run) => sum + run.elapsedMs, 0)) * 1000;
}

/** Round trips over several passes: by command, in all, and per successful consume. */
function roundTripsOf(runs: readonly MeasuredRun[]) {
  const byCommand: Record<string, number> = {};
  for (const run of runs) for (const [command, count] of run.roundTrips) byCommand[command] = (byCommand[command] ?? 0) + count;
  const total = Object.values(byCommand).reduce((sum, count) => sum + count, 0);
  const successes = runs.reduce((sum, run) => sum + run.successes, 0);
  return { byCommand, total, successes, perConsume: total / successes };
}

// ---- Our path: consume() with its dependencies -----------------------------------------------------------------

function oursSender(deps: LedgerDependencies, runId: string, orgId: string = FAST.orgId) {
  return async (index: number, client: number): Promise<Outcome> => {
    const request: ConsumeRequest = {
      requestId: `${runId}-${index}`,
      orgId,
      projectId: FAST.projectId,
      userId: FAST.members[client % FAST.members.length]!,
      cuMilli: CHARGE_CU * 1000,
      ...JOB,
    };
    await consume(request, deps);
    return 'ok';
  };
}

// ---- The bare loop: the same four items, straight to the document client ------------------------------------------
// Expressions copied from shared/adapters/dynamodb/charge-legs.ts and the named conditions in ledger-table.ts.

const EVENT_IS_NEW = 'attribute_not_exists(#pk)';
const USAGE_FITS = '(attribute_not_exists(#used) OR #used <= :max)';
const ORG_UNCHANGED_AND_POOL_FITS = `#configVersion = :configVersion AND ${USAGE_FITS}`;
const CAP_UNCHANGED_AND_USAGE_FITS = `#capMilli = :cap AND ${USAGE_FITS}`;

interface BareSetup {
  readonly tableName: string;
  readonly orgId: string;
  readonly projectId: string;
  readonly members: readonly string[];
  readonly periodId: string;
  readonly configVersion: number;
  readonly allowanceMilli: number;
  readonly projectCapMilli: number;
  readonly memberCapMilli: number;
}

function bareCounterUpdate(setup: BareSetup, key: ItemKey, entity: string, scopeId: string, now: string, amount: number, capMilli: number, extra?: [string, string]) {
  const names: Record<string, string> = { '#used': usageAttribute(setup.periodId), '#capMilli': 'capMilli', '#entity': 'entity', '#scopeId': 'scopeId', '#createdAt': 'createdAt' };
  const values: Record<string, unknown> = { ':amount': amount, ':entity': entity, ':scopeId': scopeId, ':now': now, ':cap': capMilli, ':max': capMilli - amount };
  const sets = ['#entity = :entity', '#scopeId = :scopeId', '#createdAt = if_not_exists(#createdAt, :now)'];
  if (extra) {
    names[`#${extra[0]}`] = extra[0];
    values[`:${extra[0]}`] = extra[1];
    sets.push(`#${extra[0]} = if_not_exists(#${extra[0]}, :${extra[0]})`);
  }
  return {
    TableName: setup.tableName,
    Key: key,
    UpdateExpression: `ADD #used :amount SET ${sets.join(', ')}`,
    ConditionExpression: CAP_UNCHANGED_AND_USAGE_FITS,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

/** A fixed 43-character stand-in for the request fingerprint (a base64url SHA-256), so the event item is the same size. */
const BARE_FINGERPRINT = randomBytes(32).toString('base64url');

function bareTransaction(setup: BareSetup, requestId: string, userId: string) {
  const now = new Date().toISOString();
  const amount = CHARGE_CU * 1000;
  const eventId = `evt_${randomUUID().replaceAll('-', '')}`;
  const event = {
    ...eventKey(setup.orgId, requestId),
    ...eventLogKey(setup.orgId, now, eventId),
    entity: 'event',
    kind: 'consume',
    orgId: setup.orgId,
    requestId,
    eventId,
    createdAt: now,
    periodId: setup.periodId,
    projectId: setup.projectId,
    userId,
    actorKind: 'member',
    ...JOB,
    cuMilli: amount,
    poolCategory: 'allocated',
    draws: [{ ref: { kind: 'allowance' }, milli: amount }],
    counters: ['team', `project:${setup.projectId}`, `member:${userId}`],
    fingerprint: BARE_FINGERPRINT,
    attemptId: randomUUID(),
    availableAfterMilli: setup.memberCapMilli - amount,
  };
  return new TransactWriteCommand({
    TransactItems: [
      { Put: { TableName: setup.tableName, Item: event, ConditionExpression: EVENT_IS_NEW, ExpressionAttributeNames: { '#pk': 'pk' }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
      {
        Update: {
          TableName: setup.tableName,
          Key: orgKey(setup.orgId),
          UpdateExpression: 'ADD #used :amount',
          ConditionExpression: ORG_UNCHANGED_AND_POOL_FITS,
          ExpressionAttributeNames: { '#used': usageAttribute(setup.periodId), '#configVersion': 'configVersion' },
          ExpressionAttributeValues: { ':amount': amount, ':configVersion': setup.configVersion, ':max': setup.allowanceMilli - amount },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      { Update: bareCounterUpdate(setup, scopeKey(setup.orgId, 'project', setup.projectId), 'project', setup.projectId, now, amount, setup.projectCapMilli) },
      { Update: bareCounterUpdate(setup, scopeKey(setup.orgId, 'member', userId), 'member', userId, now, amount, setup.memberCapMilli, ['role', 'contributor']) },
    ],
  });
}

let bareConflicts = 0;

function bareSender(documents: DynamoDBDocumentClient, setup: BareSetup, runId: string) {
  return async (index: number, client: number): Promise<Outcome> => {
    const userId = setup.members[client % setup.members.length]!;
    // Only a transaction conflict is retried (DynamoDB Local serialises transactions, so none are expected).
    for (let attempt = 0; ; attempt++) {
      try {
        await documents.send(bareTransaction(setup, `${runId}-${index}`, userId));
        return 'ok';
      } catch (error) {
        const conflict =
          error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict');
        if (!conflict || attempt >= 8) throw error;
        bareConflicts++;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(250, 10 * 2 ** attempt)));
      }
    }
  };
}

// ---- Reading items back ----------------------------------------------------------------------------------------

async function rawItem(client: DynamoDBClient, tableName: string, key: ItemKey) {
  const result = await client.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: key.pk }, sk: { S: key.sk } }, ConsistentRead: true }));
  if (!result.Item) throw new Error(`no item ${key.pk} / ${key.sk} in ${tableName}`);
  return result.Item;
}


interface ItemCost {
  readonly item: string;
  readonly bytes: number;
  readonly wcu: number;
  readonly gsiBytes: number | null;
  readonly gsiWcu: number;
}

/** The four items one consume writes, their sizes as stored, and the write units DynamoDB would bill for them. */
async function consumeWriteCost(client: DynamoDBClient, tableName: string, orgId: string, projectId: string, userId: string, requestId: string): Promise<{ items: ItemCost[]; wcu: number }> {
  const read = async (item: string, key: ItemKey, inGsi: boolean): Promise<ItemCost> => {
    const bytes = itemSize(await rawItem(client, tableName, key));
    // All attributes are projected into gsi1, so its entry is the same size; a GSI write is a standard write.
    return { item, bytes, wcu: writeUnits(bytes, true), gsiBytes: inGsi ? bytes : null, gsiWcu: inGsi ? writeUnits(bytes, false) : 0 };
  };
  const items = [
    await read('event (Put, + gsi1)', eventKey(orgId, requestId), true),
    await read('org / team pool (Update)', orgKey(orgId), false),
    await read('project counter (Update)', scopeKey(orgId, 'project', projectId), false),
    await read('member counter (Update)', scopeKey(orgId, 'member', userId), false),
  ];
  return { items, wcu: items.reduce((sum, item) => sum + item.wcu + item.gsiWcu, 0) };
}

// ---- Latency ---------------------------------------------------------------------------------------------------

function consumeBody(requestId: string, orgId: string, projectId: string, userId: string) {
  return { requestId, orgId, projectId, userId, cu: CHARGE_CU, ...JOB };
}

async function handlerLatency(orgId: string, projectId: string, userId: string): Promise<LatencyStats> {
  const samples: number[] = [];
  for (let index = 0; index < LATENCY_WARMUP + LATENCY_SAMPLES; index++) {
    const event = serviceEvent('POST /v1/meter/consume', { body: consumeBody(`lat-inproc-${index}`, orgId, projectId, userId) });
    const started = performance.now();
    const response = await meterHandler(event, lambdaContext());
    const elapsed = performance.now() - started;
    if (response.statusCode !== 200) throw new Error(`in-process consume: HTTP ${response.statusCode} ${response.body ?? ''}`);
    if (index >= LATENCY_WARMUP) samples.push(elapsed);
  }
  return latencyStats(samples);
}

async function httpLatency(runner: LocalRunner, serviceToken: string, orgId: string, projectId: string, userId: string): Promise<LatencyStats> {
  const samples: number[] = [];
  for (let index = 0; index < LATENCY_WARMUP + LATENCY_SAMPLES; index++) {
    const body = JSON.stringify(consumeBody(`lat-http-${index}`, orgId, projectId, userId));
    const started = performance.now();
    const response = await fetch(`${runner.url}/v1/meter/consume`, {
      method: 'POST',
      headers: { authorization: `Bearer ${serviceToken}`, 'content-type': 'application/json' },
      body,
    });
    const text = await response.text();
    const elapsed = performance.now() - started;
    if (response.status !== 200) throw new Error(`HTTP consume: ${response.status} ${text}`);
    if (index >= LATENCY_WARMUP) samples.push(elapsed);
  }
  return latencyStats(samples);
}

// ---- Overspend -------------------------------------------------------------------------------------------------

async function overspendCheck(endpoint: string) {
  const client = createDynamoDbClient({ endpoint });
  await ensureLedgerTable(client, TABLES.tight);
  const admin = buildLedgerDependencies({ tableName: TABLES.tight, endpoint }, { client });
  await provision(admin, { orgId: TIGHT.orgId, allowanceCu: TIGHT.allowanceCu, projects: TIGHT.projects, members: TIGHT.members });

  // Every client is its own process as far as the cache goes: 64 cold, then stale, caches racing on one org.
  const clients = Array.from({ length: TIGHT.clients }, () => buildLedgerDependencies({ tableName: TABLES.tight, endpoint }, { client }));
  const random = prng(20240101);
  const choices = Array.from({ length: TIGHT.clients * TIGHT.requestsPerClient }, () => ({
    projectId: TIGHT.projects[Math.floor(random() * TIGHT.projects.length)]!.id,
    userId: TIGHT.members[Math.floor(random() * TIGHT.members.length)]!.id,
  }));
  const refusals: Record<string, number> = {};
  const acceptedIds = new Set<string>();
  // A 503 is an unknown outcome: like a well-behaved caller, ask again with the same requestId until it is known.
  const unknownOutcomes = { count: 0 };
  const run = await runConcurrent(TIGHT.clients, choices.length, async (index, clientIndex) => {
    const { projectId, userId } = choices[index]!;
    const requestId = `tight-${index}`;
    try {
      await settle(() => consume({ requestId, orgId: TIGHT.orgId, projectId, userId, cuMilli: TIGHT.chargeCu * 1000, ...JOB }, clients[clientIndex]!), unknownOutcomes);
      acceptedIds.add(requestId);
      return 'ok';
    } catch (error) {
      if (error instanceof LimitReachedError) {
        refusals[error.code] = (refusals[error.code] ?? 0) + 1;
        return 'refused';
      }
      throw error;
    }
  });

  // Read everything back: the counters, and the events they must add up to.
  const items = await scanAll(createDocumentClient(client), TABLES.tight);
  const periodStart = termsAt((await admin.store.getOrg(TIGHT.orgId))!, new Date()).period.id.slice(0, 10);
  const audit = auditLedger(items, TIGHT.orgId);
  const events = audit.consumes;
  const counters = [
    { name: counterName({ kind: 'team', id: '' }), limitMilli: TIGHT.allowanceCu * 1000 },
    ...TIGHT.projects.map((project) => ({ name: counterName({ kind: 'project', id: project.id }), limitMilli: project.capCu * 1000 })),
    ...TIGHT.members.map((member) => ({ name: counterName({ kind: 'member', id: member.id }), limitMilli: member.capCu * 1000 })),
  ].map(({ name, limitMilli }) => {
    const usedMilli = audit.counters.get(`${name}@${periodStart}`) ?? 0;
    const eventsMilli = audit.fromEvents.get(`${name}@${periodStart}`) ?? 0;
    return { name, limitMilli, usedMilli, eventsMilli, overMilli: Math.max(0, usedMilli - limitMilli), matches: usedMilli === eventsMilli };
  });
  const teamMax = TIGHT.allowanceCu;
  const projectsMax = TIGHT.projects.reduce((sum, project) => sum + project.capCu, 0);
  const membersMax = TIGHT.members.reduce((sum, member) => sum + member.capCu, 0);
  const allowedMax = Math.floor(Math.min(teamMax, projectsMax, membersMax) / TIGHT.chargeCu);
  const eventIds = new Set(events.map((event) => String(event.requestId)));
  client.destroy();
  return {
    run,
    unknownOutcomes: unknownOutcomes.count,
    refusals,
    counters,
    allowedMax,
    events: events.length,
    eventsMatchAnswers: eventIds.size === acceptedIds.size && [...acceptedIds].every((id) => eventIds.has(id)),
    overspendCount: counters.filter((counter) => counter.overMilli > 0).length,
    overspendMilli: counters.reduce((sum, counter) => sum + counter.overMilli, 0),
    countersMatchEvents: counters.every((counter) => counter.matches),
  };
}

// ---- Auto-refill ---------------------------------------------------------------------------------------------

/**
 * From a consume that takes the pool below the auto-refill threshold until a consume only the refill's batch can pay
 * for succeeds. The refill is the local runner's own: its stream poller hands the org change to the ledger-stream
 * handler, whose dependencies come from TABLE_NAME, so the orgs live in the runner's table.
 */
async function refillLatency(endpoint: string, tableName: string) {
  const client = createDynamoDbClient({ endpoint });
  const deps = buildLedgerDependencies({ tableName, endpoint }, { client });
  const samples: number[] = [];
  const tries: number[] = [];
  let missed = 0;
  // Crossing 0 is not counted: it warms the path and waits out what the stream still holds from the earlier phases.
  for (let crossing = 0; crossing <= REFILL.crossings; crossing++) {
    const orgId = `org-refill-${crossing}`;
    const projectId = 'proj-refill';
    const userId = 'user-refill';
    await provision(deps, { orgId, allowanceCu: REFILL.allowanceCu, projects: [{ id: projectId }], members: [{ id: userId }] });
    await setAutoRefill(
      orgId,
      { enabled: true, thresholdMilli: REFILL.thresholdCu * 1000, amountMilli: REFILL.amountCu * 1000, expiresInDays: 30, maxPerPeriod: 1 },
      deps,
    );
    const request = (requestId: string, cu: number): ConsumeRequest => ({ requestId, orgId, projectId, userId, cuMilli: cu * 1000, ...JOB });
    // Leaves threshold - 1 CU in the pool.
    await consume(request(`refill-${crossing}-cross`, REFILL.allowanceCu - REFILL.thresholdCu + 1), deps);
    const crossedAt = performance.now();
    // More than the pool holds without the refill; a refused consume writes nothing, so the same request is tried again.
    const onlyTheRefillPays = request(`refill-${crossing}-spend`, REFILL.thresholdCu);
    let attempts = 0;
    let paid = false;
    for (let wait: number = REFILL.firstPollMs; performance.now() - crossedAt < REFILL.timeoutMs; wait = Math.min(REFILL.maxPollMs, wait * 2)) {
      attempts++;
      try {
        const result = await consume(onlyTheRefillPays, deps);
        if (!result.draws.some((draw) => draw.ref.kind === 'top_up')) throw new Error(`${orgId}: the consume was paid without the refill ${JSON.stringify(result.draws)}`);
        paid = true;
        break;
      } catch (error) {
        if (!(error instanceof LimitReachedError)) throw error;
      }
      await sleep(wait);
    }
    const elapsedMs = performance.now() - crossedAt;
    if (crossing === 0) continue;
    if (!paid) {
      missed++;
      continue;
    }
    samples.push(elapsedMs);
    tries.push(attempts);
  }
  client.destroy();
  return { stats: latencyStats(samples), meanTries: tries.reduce((sum, count) => sum + count, 0) / Math.max(1, tries.length), missed };
}

// ---- Main ------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const benchStarted = performance.now();
  const serviceToken = randomBytes(24).toString('base64url');
  // One DynamoDB Local for everything: the local runner's. Its table serves the handler and HTTP latency runs (the
  // handler's dependencies come from TABLE_NAME / DYNAMODB_ENDPOINT, which the runner sets); the other parts use
  // their own tables on the same instance, so every figure comes from the same JVM.
  const runner = await startLocalRunner({ port: 0, serviceToken, tableName: TABLES.http });
  try {
    const endpoint = runner.dynamoDb.endpoint;
    const jvmPid = findDynamoDbLocalPid(runner.dynamoDb.port);
    if (jvmPid !== undefined) ownPids.push(jvmPid);
    const cpuAtStart = cpuSample(ownPids);
    const stderr = (line: string) => process.stderr.write(`[bench] ${line}\n`);

    // The handler / HTTP org, provisioned through the admin Lambda's handler (its dependencies from the environment).
    const latencyOrg = { orgId: 'org-latency', projectId: 'proj-lat', userId: 'user-lat' };
    const ctx = lambdaContext('cu-ledger-admin');
    await expectOk(
      adminHandler(serviceEvent('PUT /v1/orgs/{orgId}', { pathParameters: { orgId: latencyOrg.orgId }, body: { plan: { name: 'bench', allowanceCu: MAX_CU }, billingAnchor: BILLING_ANCHOR } }), ctx),
      'put latency org',
    );
    await expectOk(
      adminHandler(serviceEvent('PUT /v1/orgs/{orgId}/projects/{projectId}', { pathParameters: { orgId: latencyOrg.orgId, projectId: latencyOrg.projectId }, body: { capCu: MAX_CU / 2 } }), ctx),
      'put latency project',
    );
    await expectOk(
      adminHandler(serviceEvent('PUT /v1/orgs/{orgId}/members/{userId}', { pathParameters: { orgId: latencyOrg.orgId, userId: latencyOrg.userId }, body: { role: 'contributor', capCu: MAX_CU / 10 } }), ctx),
      'put latency member',
    );

    // The runner's stream poller must have read a record before any other table with a stream is created: an
    // iterator opened on the still-empty shard fails with TrimmedDataAccessException for good once DynamoDB Local
    // creates another stream (infra/local/stream-poller.ts reopens only an expired iterator), and no refill would
    // ever happen. The local jobs route drains the stream.
    const drained = await fetch(`${runner.url}/local/jobs/run`, { method: 'POST', headers: { authorization: `Bearer ${serviceToken}` } });
    if (drained.status !== 200) throw new Error(`draining the runner's stream: HTTP ${drained.status} ${await drained.text()}`);

    // Our side: a probed client, dependencies built the way the composition root builds them.
    const oursClient = createDynamoDbClient({ endpoint });
    const oursProbe = probeClient(oursClient);
    await ensureLedgerTable(oursClient, TABLES.ours);
    const ours = buildLedgerDependencies({ tableName: TABLES.ours, endpoint }, { client: oursClient });
    const fastPlan = fastOrgPlan(FAST.orgId, MAX_CU);
    await provision(ours, fastPlan);
    for (const batchCase of BATCH_CASES) await provisionBatchOrg(ours, batchCase.orgId, batchCase.batches);

    // The bare side: its own probed client and table, provisioned identically.
    const bareClient = createDynamoDbClient({ endpoint });
    const bareProbe = probeClient(bareClient);
    await ensureLedgerTable(bareClient, TABLES.bare);
    const bareAdmin = buildLedgerDependencies({ tableName: TABLES.bare, endpoint }, { client: bareClient });
    await provision(bareAdmin, fastPlan);
    const bareOrg = (await bareAdmin.store.getOrg(FAST.orgId))!;
    const { period } = termsAt(bareOrg, new Date());
    const bareSetup: BareSetup = {
      tableName: TABLES.bare,
      orgId: FAST.orgId,
      projectId: FAST.projectId,
      members: FAST.members,
      periodId: period.id,
      configVersion: bareOrg.configVersion,
      allowanceMilli: bareOrg.allowanceMilli,
      projectCapMilli: (MAX_CU / 2) * 1000,
      memberCapMilli: (MAX_CU / 10) * 1000,
    };
    const bareDocuments = createDocumentClient(bareClient);

    // A cold first consume: no limits cached yet.
    oursProbe.reset();
    await oursSender(ours, 'cold')(0, 0);
    const coldRoundTrips = Object.fromEntries(oursProbe.roundTrips);
    const coldTotal = oursProbe.totalRoundTrips();

    // Warm-up of both sides (JVM and V8), and of our limit cache for every member the clients use.
    stderr('warming up');
    for (let round = 0; round < 2; round++) {
      await runConcurrent(16, JVM_WARMUP_REQUESTS / 2, oursSender(ours, `warm-ours-${round}`));
      await runConcurrent(16, JVM_WARMUP_REQUESTS / 2, bareSender(bareDocuments, bareSetup, `warm-bare-${round}`));
    }
    for (const batchCase of BATCH_CASES) await runConcurrent(16, JVM_WARMUP_REQUESTS / 4, oursSender(ours, `warm-b${batchCase.batches}`, batchCase.orgId));

    // 1. Latency.
    stderr('latency: in-process handler');
    const latencyCpu = cpuSample(ownPids);
    const latencyStarted = performance.now();
    const inProcess = await handlerLatency(latencyOrg.orgId, latencyOrg.projectId, latencyOrg.userId);
    stderr('latency: HTTP');
    const http = await httpLatency(runner, serviceToken, latencyOrg.orgId, latencyOrg.projectId, latencyOrg.userId);
    const latencyNoise = foreignCores(latencyCpu, cpuSample(ownPids), performance.now() - latencyStarted);

    // 2, 4, 6, 7. Throughput, ours and bare, in ABBA order per concurrency so neither side always runs first; at
    // BATCH_CLIENTS the batch cases run between the 0-batch passes (bare/0/1/10/10/1/0/bare), so one bare loop serves all.
    const throughput: Array<{
      concurrency: number;
      requests: number;
      ours: MeasuredRun[];
      bare: MeasuredRun[];
      oursPerSecond: number;
      barePerSecond: number;
      ratio: number;
    }> = [];
    const batchRuns = new Map<number, MeasuredRun[]>(BATCH_CASES.map((batchCase) => [batchCase.batches, []]));
    const measureOurs = (concurrency: number, requests: number, runId: string) => measuredPass(oursProbe, concurrency, requests, oursSender(ours, runId));
    const measureBare = (concurrency: number, requests: number, runId: string) =>
      measuredPass(bareProbe, concurrency, requests, bareSender(bareDocuments, bareSetup, runId));
    const measureBatchCases = async (concurrency: number, requests: number, pass: number) => {
      for (const batchCase of pass === 1 ? BATCH_CASES : [...BATCH_CASES].reverse()) {
        const runId = `b${batchCase.batches}-c${concurrency}-${pass}`;
        batchRuns.get(batchCase.batches)!.push(await measuredPass(oursProbe, concurrency, requests, oursSender(ours, runId, batchCase.orgId)));
      }
    };
    for (const { concurrency, requests } of THROUGHPUT_PLAN) {
      const withBatches = concurrency === BATCH_CLIENTS;
      stderr(`throughput: ${concurrency} client(s), ${requests} requests per pass, ${withBatches ? 'bare/ours/1/10/10/1/ours/bare (live batches)' : 'bare/ours/ours/bare'}`);
      const bare1 = await measureBare(concurrency, requests, `bare-c${concurrency}-1`);
      const ours1 = await measureOurs(concurrency, requests, `ours-c${concurrency}-1`);
      if (withBatches) await measureBatchCases(concurrency, requests, 1);
      if (withBatches) await measureBatchCases(concurrency, requests, 2);
      const ours2 = await measureOurs(concurrency, requests, `ours-c${concurrency}-2`);
      const bare2 = await measureBare(concurrency, requests, `bare-c${concurrency}-2`);
      const oursPerSecond = passRate([ours1, ours2]);
      const barePerSecond = passRate([bare1, bare2]);
      throughput.push({ concurrency, requests, ours: [ours1, ours2], bare: [bare1, bare2], oursPerSecond, barePerSecond, ratio: oursPerSecond / barePerSecond });
    }
    const oursTrips = roundTripsOf(throughput.flatMap((row) => row.ours));
    const bareTrips = roundTripsOf(throughput.flatMap((row) => row.bare));
    const oursRoundTripsPerConsume = oursTrips.perConsume;
    const bareRoundTripsPerConsume = bareTrips.perConsume;

    // 5. Write units, from the items as stored after the runs.
    const lastOurs = `ours-c64-2-${THROUGHPUT_PLAN.at(-1)!.requests - 1}`;
    const lastBare = `bare-c64-2-${THROUGHPUT_PLAN.at(-1)!.requests - 1}`;
    /** The member a consume charged: its counter is one of the items the consume wrote. */
    const ownerOf = async (tableName: string, orgId: string, requestId: string) => String((await rawItem(oursClient, tableName, eventKey(orgId, requestId))).userId?.S);
    const oursCost = await consumeWriteCost(oursClient, TABLES.ours, FAST.orgId, FAST.projectId, await ownerOf(TABLES.ours, FAST.orgId, lastOurs), lastOurs);
    const bareCost = await consumeWriteCost(bareClient, TABLES.bare, FAST.orgId, FAST.projectId, await ownerOf(TABLES.bare, FAST.orgId, lastBare), lastBare);

    // 7. Live batches: the 0-batch case is the throughput org's passes at BATCH_CLIENTS, its write units those of table 5.
    const batchRow = throughput.find((row) => row.concurrency === BATCH_CLIENTS)!;
    const batchCaseRows = [{ batches: 0, runs: batchRow.ours, cost: oursCost }];
    for (const batchCase of BATCH_CASES) {
      const lastRequest = `b${batchCase.batches}-c${BATCH_CLIENTS}-2-${batchRow.requests - 1}`;
      const owner = await ownerOf(TABLES.ours, batchCase.orgId, lastRequest);
      const cost = await consumeWriteCost(oursClient, TABLES.ours, batchCase.orgId, FAST.projectId, owner, lastRequest);
      batchCaseRows.push({ batches: batchCase.batches, runs: batchRuns.get(batchCase.batches)!, cost });
    }
    const batchCases = batchCaseRows.map(({ batches, runs, cost }) => {
      const perSecond = passRate(runs);
      const orgItem = cost.items.find((item) => item.item.startsWith('org'))!;
      return { batches, runs, perSecond, ratio: perSecond / batchRow.barePerSecond, roundTrips: roundTripsOf(runs), orgBytes: orgItem.bytes, eventBytes: cost.items[0]!.bytes, wcu: cost.wcu };
    });

    // 3. Overspend.
    stderr('overspend check: 64 clients, tight limits');
    const overspend = await overspendCheck(endpoint);

    // 8. Auto-refill.
    stderr(`auto-refill: ${REFILL.crossings} threshold crossings through the runner's stream poller`);
    const refill = await refillLatency(endpoint, TABLES.http);

    oursClient.destroy();
    bareClient.destroy();
    const runtimeS = (performance.now() - benchStarted) / 1000;
    const runNoise = foreignCores(cpuAtStart, cpuSample(ownPids), runtimeS * 1000);
    const noiseOf = (runs: RunResult[]) => (runs.some((run) => run.foreignCores === null) ? null : Math.max(...runs.map((run) => run.foreignCores ?? 0)));
    const measuredRuns = [...throughput.flatMap((row) => [...row.ours, ...row.bare]), ...[...batchRuns.values()].flat()];
    const disturbed = [latencyNoise, ...measuredRuns.map((run) => run.foreignCores)].some(
      (noise) => noise !== null && noise > NOISE_WARNING_CORES,
    );

    // ---- Report ----
    const minRatio = Math.min(...throughput.map((row) => row.ratio));
    const ratioPass = minRatio >= RATIO_TARGET;
    const roundTripsPass = oursRoundTripsPerConsume <= ROUND_TRIP_TARGET + ROUND_TRIP_TOLERANCE;
    const overspendPass = overspend.overspendCount === 0 && overspend.countersMatchEvents && overspend.eventsMatchAnswers;
    const noBatches = batchCases[0]!;
    const withBatches = batchCases.slice(1);
    const drawDownTripsPass = withBatches.every((row) => row.roundTrips.perConsume <= noBatches.roundTrips.perConsume + ROUND_TRIP_TOLERANCE);
    const tenBatches = batchCases.find((row) => row.batches === 10)!;
    const tenBatchesPass = tenBatches.ratio >= RATIO_TARGET;

    const out: string[] = [];
    out.push(`CU Ledger meter bench — DynamoDB Local ${endpoint}, Node ${process.version}, ${availableParallelism()} CPU(s), charge ${CHARGE_CU} CU`);
    out.push(
      table('1. Consume latency (sequential; warm-up ' + LATENCY_WARMUP + ', then ' + LATENCY_SAMPLES + ' samples)', ['path', 'n', 'p50 ms', 'p99 ms', 'mean ms', 'max ms'], [
        ['in-process: middy handler (meter.handler.ts)', inProcess.n, inProcess.p50Ms, inProcess.p99Ms, inProcess.meanMs, inProcess.maxMs],
        ['HTTP: fetch -> local runner -> handler', http.n, http.p50Ms, http.p99Ms, http.meanMs, http.maxMs],
      ]),
    );
    out.push(
      table(
        '2/6. Throughput, one org (successful consumes/s; each side ran 2 passes of <requests>, order bare/ours/ours/bare)',
        ['clients', 'requests', 'ours: consume() in-process', 'passes', 'bare TransactWriteItems', 'passes', 'ratio', 'failed ours/bare', 'ours cache reads', 'noise cores (max)'],
        throughput.map((row) => [
          row.concurrency,
          row.requests,
          round(row.oursPerSecond, 1),
          row.ours.map((run) => round(run.perSecond, 0)).join(' / '),
          round(row.barePerSecond, 1),
          row.bare.map((run) => round(run.perSecond, 0)).join(' / '),
          round(row.ratio, 3),
          `${row.ours.reduce((sum, run) => sum + run.failed, 0)}/${row.bare.reduce((sum, run) => sum + run.failed, 0)}`,
          row.ours.map((run) => run.extraReads).join(' / '),
          nullableRound(noiseOf([...row.ours, ...row.bare])),
        ]),
      ),
    );
    out.push(
      table('4. DynamoDB round trips per consume (SDK middleware count, measured throughput passes)', ['side', 'successes', 'round trips', 'per consume', 'by command'], [
        ['ours (steady state)', oursTrips.successes, oursTrips.total, round(oursRoundTripsPerConsume, 4), JSON.stringify(oursTrips.byCommand)],
        ['bare loop', bareTrips.successes, bareTrips.total, round(bareRoundTripsPerConsume, 4), JSON.stringify(bareTrips.byCommand)],
        ['ours, cold cache (first consume)', 1, coldTotal, coldTotal, JSON.stringify(coldRoundTrips)],
      ]),
    );
    out.push(
      table(
        '5. Write units per consume (sizes of the stored items by DynamoDB rules; transactional write = 2 WCU per started KB; gsi1 standard write)',
        ['item', 'ours bytes', 'ours WCU', 'bare bytes', 'bare WCU'],
        [
          ...oursCost.items.map((item, index) => [item.item, item.bytes, item.wcu, bareCost.items[index]!.bytes, bareCost.items[index]!.wcu]),
          ['gsi1 entry of the event (all attributes)', oursCost.items[0]!.gsiBytes, oursCost.items[0]!.gsiWcu, bareCost.items[0]!.gsiBytes, bareCost.items[0]!.gsiWcu],
          ['total WCU per consume', '', oursCost.wcu, '', bareCost.wcu],
        ],
      ),
    );
    out.push(
      table(
        `3. Overspend check (${TIGHT.clients} clients x ${TIGHT.requestsPerClient} consumes of ${TIGHT.chargeCu} CU, each client its own cache; team ${TIGHT.allowanceCu} CU, projects ${TIGHT.projects.map((project) => project.capCu).join('/')}, members ${TIGHT.members.map((member) => member.capCu).join('/')})`,
        ['counter', 'limit CU', 'used CU', 'sum of events CU', 'over CU', 'matches'],
        overspend.counters.map((counter) => [counter.name, counter.limitMilli / 1000, counter.usedMilli / 1000, counter.eventsMilli / 1000, counter.overMilli / 1000, counter.matches]),
      ),
    );
    out.push(
      `   attempts ${overspend.run.requests}, successes ${overspend.run.successes} (limits allow at most ${overspend.allowedMax}), refused ${overspend.run.refused} ${JSON.stringify(overspend.refusals)}, ` +
        `failed ${overspend.run.failed} ${JSON.stringify(overspend.run.failures)}, 503s asked again with the same requestId ${overspend.unknownOutcomes}, events stored ${overspend.events}, events == 200 answers: ${overspend.eventsMatchAnswers}`,
    );
    out.push(
      table(
        `7. Live top-up batches (${BATCH_CLIENTS} clients, 2 passes of ${batchRow.requests} each, between the 0-batch passes of table 2/6; batch orgs: allowance 0 CU, ` +
          `every consume draws on the soonest-expiring batch only)`,
        ['live batches', 'consumes/s', 'passes', 'ratio to bare', 'failed', 'round trips/consume', 'by command', 'org item bytes', 'event bytes', 'WCU/consume', 'noise cores (max)'],
        batchCases.map((row) => [
          row.batches,
          round(row.perSecond, 1),
          row.runs.map((run) => round(run.perSecond, 0)).join(' / '),
          round(row.ratio, 3),
          row.runs.reduce((sum, run) => sum + run.failed, 0),
          round(row.roundTrips.perConsume, 4),
          JSON.stringify(row.roundTrips.byCommand),
          row.orgBytes,
          row.eventBytes,
          row.wcu,
          nullableRound(noiseOf(row.runs)),
        ]),
      ),
    );
    out.push(`   bare TransactWriteItems loop in the same passes: ${round(batchRow.barePerSecond, 1)} /s (${batchRow.bare.map((run) => round(run.perSecond, 0)).join(' / ')})`);
    out.push(
      table(
        `8. Auto-refill: a threshold crossing until the refill's batch pays for a consume (local runner's stream poller -> ledger-stream handler; ` +
          `${REFILL.crossings} crossings, each on its own org; consume retried every ${REFILL.firstPollMs}-${REFILL.maxPollMs} ms)`,
        ['n', 'p50 ms', 'p95 ms', 'max ms', 'mean ms', 'tries per refill (mean)', 'no refill within ' + REFILL.timeoutMs / 1000 + ' s'],
        [[refill.stats.n, refill.stats.p50Ms, refill.stats.p95Ms, refill.stats.maxMs, refill.stats.meanMs, round(refill.meanTries, 1), refill.missed]],
      ),
    );
    out.push(
      table('Targets', ['target', 'value', 'pass'], [
        [`throughput ratio ours/bare >= ${RATIO_TARGET} (min over 1/16/64 clients)`, round(minRatio, 3), ratioPass],
        [`round trips per consume = ${ROUND_TRIP_TARGET} (steady state, tolerance ${ROUND_TRIP_TOLERANCE})`, round(oursRoundTripsPerConsume, 4), roundTripsPass],
        ['overspend = 0 and counters == sum of events', overspend.overspendCount, overspendPass],
        [
          `draw-down adds no round trip: per consume at 1 / 10 batches <= 0 batches + ${ROUND_TRIP_TOLERANCE}`,
          `${withBatches.map((row) => round(row.roundTrips.perConsume, 4)).join(' / ')} vs ${round(noBatches.roundTrips.perConsume, 4)}`,
          drawDownTripsPass,
        ],
        [`throughput at 10 batches / bare >= ${RATIO_TARGET} (${BATCH_CLIENTS} clients)`, round(tenBatches.ratio, 3), tenBatchesPass],
      ]),
    );
    out.push(
      `\nruntime ${round(runtimeS, 1)} s; bare-loop transaction conflicts retried: ${bareConflicts}; ` +
        `CPU used by other processes: ${runNoise === null ? 'unknown' : `${round(runNoise, 2)} cores on average`} (latency phase ${latencyNoise === null ? 'unknown' : round(latencyNoise, 2)})`,
    );
    if (disturbed) out.push(`WARNING: other processes used more than ${NOISE_WARNING_CORES} cores during some measurements (see "noise"); those figures are disturbed — run again on a quiet machine.`);
    out.push('');

    const summary = {
      bench: 'meter',
      store: 'dynamodb-local',
      node: process.version,
      cpus: availableParallelism(),
      chargeCu: CHARGE_CU,
      latency: {
        inProcessHandler: inProcess,
        http,
      },
      throughput: {
        mode: 'in-process consume() via buildLedgerDependencies (probed client); bare = TransactWriteItems via document client',
        passesPerSide: 2,
        byConcurrency: throughput.map((row) => ({
          clients: row.concurrency,
          requestsPerPass: row.requests,
          oursPerSecond: round(row.oursPerSecond, 1),
          barePerSecond: round(row.barePerSecond, 1),
          ratio: round(row.ratio, 3),
          oursPasses: row.ours.map((run) => round(run.perSecond, 1)),
          barePasses: row.bare.map((run) => round(run.perSecond, 1)),
          oursFailed: row.ours.reduce((sum, run) => sum + run.failed, 0),
          bareFailed: row.bare.reduce((sum, run) => sum + run.failed, 0),
          oursCacheReadsPerPass: row.ours.map((run) => run.extraReads),
          noiseCores: { ours: row.ours.map((run) => nullableRound(run.foreignCores)), bare: row.bare.map((run) => nullableRound(run.foreignCores)) },
        })),
      },
      roundTrips: {
        oursPerConsume: round(oursRoundTripsPerConsume, 4),
        oursByCommand: oursTrips.byCommand,
        oursSuccesses: oursTrips.successes,
        barePerConsume: round(bareRoundTripsPerConsume, 4),
        bareByCommand: bareTrips.byCommand,
        coldFirstConsume: coldTotal,
        coldByCommand: coldRoundTrips,
      },
      writeUnits: {
        ours: { perConsume: oursCost.wcu, items: Object.fromEntries(oursCost.items.map((item) => [item.item, { bytes: item.bytes, wcu: item.wcu, gsiWcu: item.gsiWcu }])) },
        bare: { perConsume: bareCost.wcu, items: Object.fromEntries(bareCost.items.map((item) => [item.item, { bytes: item.bytes, wcu: item.wcu, gsiWcu: item.gsiWcu }])) },
      },
      topUpBatches: {
        clients: BATCH_CLIENTS,
        requestsPerPass: batchRow.requests,
        barePerSecond: round(batchRow.barePerSecond, 1),
        byLiveBatches: batchCases.map((row) => ({
          batches: row.batches,
          perSecond: round(row.perSecond, 1),
          passes: row.runs.map((run) => round(run.perSecond, 1)),
          ratio: round(row.ratio, 3),
          roundTripsPerConsume: round(row.roundTrips.perConsume, 4),
          byCommand: row.roundTrips.byCommand,
          orgItemBytes: row.orgBytes,
          eventBytes: row.eventBytes,
          wcuPerConsume: row.wcu,
          failed: row.runs.reduce((sum, run) => sum + run.failed, 0),
        })),
      },
      autoRefill: { crossings: REFILL.crossings, ...refill.stats, meanTries: round(refill.meanTries, 1), missed: refill.missed },
      overspend: {
        attempts: overspend.run.requests,
        successes: overspend.run.successes,
        allowedMax: overspend.allowedMax,
        refused: overspend.run.refused,
        refusals: overspend.refusals,
        failed: overspend.run.failed,
        failures: overspend.run.failures,
        overspendCount: overspend.overspendCount,
        overspendCu: overspend.overspendMilli / 1000,
        countersMatchEvents: overspend.countersMatchEvents,
        eventsMatchAnswers: overspend.eventsMatchAnswers,
        counters: overspend.counters.map((counter) => ({ counter: counter.name, limitCu: counter.limitMilli / 1000, usedCu: counter.usedMilli / 1000, eventsCu: counter.eventsMilli / 1000 })),
      },
      targets: {
        throughputRatio: { target: RATIO_TARGET, value: round(minRatio, 3), pass: ratioPass },
        roundTripsPerConsume: { target: ROUND_TRIP_TARGET, tolerance: ROUND_TRIP_TOLERANCE, value: round(oursRoundTripsPerConsume, 4), pass: roundTripsPass },
        noOverspend: { value: overspend.overspendCount, pass: overspendPass },
        drawDownAddsNoRoundTrip: {
          tolerance: ROUND_TRIP_TOLERANCE,
          zeroBatches: round(noBatches.roundTrips.perConsume, 4),
          values: withBatches.map((row) => round(row.roundTrips.perConsume, 4)),
          pass: drawDownTripsPass,
        },
        tenBatchesThroughputRatio: { target: RATIO_TARGET, value: round(tenBatches.ratio, 3), pass: tenBatchesPass },
      },
      bareConflictsRetried: bareConflicts,
      noise: { runCores: nullableRound(runNoise), latencyCores: nullableRound(latencyNoise), disturbed },
      runtimeS: round(runtimeS, 1),
    };
    await stopRunner(runner);
    process.stdout.write(`${out.join('\n')}\n`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } catch (error) {
    await stopRunner(runner);
    throw error;
  }
}

function nullableRound(value: number | null): number | null {
  return value === null ? null : round(value, 2);
}

async function stopRunner(runner: LocalRunner): Promise<void> {
  await Promise.race([runner.stop(), new Promise((done) => setTimeout(done, 8000))]);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
