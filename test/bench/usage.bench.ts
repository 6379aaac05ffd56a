// `npm run bench:usage`: the analytics reads over one org's history at two sizes, against DynamoDB Local.
//   1. loads 10k events into one org, then 1M (or the most this machine loads in 10 minutes, at least 250k) into
//      another: event items by BatchWriteItem exactly as a consume or refund stores them (so the log and by-day
//      indexes hold them), and the rollup cells folded in memory by the domain's own rollup (usageDeltaOf/rollUp),
//      written whole; never through the table stream
//   2. times each view in-process, as the analytics Lambda serves it, and counts the DynamoDB items it reads: the
//      31-day /v1/usage, the day series, power users, events pages 1 and 10 by createdAt and by amount. The small
//      org is timed once loaded, then beside the large one (interleaved): the ratio compares those two
//   3. freshness: from a consume's 200 (the meter handler) until /v1/usage shows it, with the stream poller running
//      the real stream handler
// Both orgs use one fixed set of users, projects and models, so the rollup's cells saturate: a view reads days x
// active combinations, however many events there were. Prints tables, then one JSON line with every figure as the
// last line of stdout. Never fails on speed.
//
// Sizes (env): USAGE_BENCH_SMALL (10000), USAGE_BENCH_LARGE (unset: 1M, or fewer if the 10k load rate says 1M
// would not load within USAGE_BENCH_LOAD_BUDGET_S, 600 s), USAGE_BENCH_WARMUP (20000 events into a third org first,
// so the 10k rate is not a cold JVM's), USAGE_BENCH_REPS (30 timed calls per view), USAGE_BENCH_FRESHNESS (20
// consumes). A quick run: USAGE_BENCH_WARMUP=0 USAGE_BENCH_SMALL=2000 USAGE_BENCH_LARGE=20000.

process.env.LOG_LEVEL = 'silent';

import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { analyticsRoutes } from '../../functions/analytics/analytics.handler';
import { handler as ledgerStreamHandler } from '../../functions/jobs/ledger-stream.handler';
import { handler as meterHandler } from '../../functions/meter/meter.handler';
import { createDocumentClient, createDynamoDbClient } from '../../shared/adapters/dynamodb/client';
import { buildLedgerDependencies, forRequest, useLocalPublisher, type LedgerDependencies } from '../../shared/composition';
import type { OrgTermsSource } from '../../shared/domain/billing-terms';
import { actorKindOf } from '../../shared/domain/limits';
import { addDays, dayOf } from '../../shared/domain/usage-filters';
import { areaHandler } from '../../shared/http/lambda';
import { putMember } from '../../shared/use-cases/provisioning';
import { ensureLedgerTable, startDynamoDbLocal, type RunningDynamoDbLocal } from '../../infra/local/dynamodb-local';
import { publishedEventLog } from '../../infra/local/published-events';
import { startStreamPoller, type StreamPoller } from '../../infra/local/stream-poller';
import { parseBody, readerEvent } from '../support/api-events';
import { provisionOrg } from '../support/provision';
import { cpuSample, findDynamoDbLocalPid, foreignCores, itemSize, lambdaContext, latencyStats, prng, round, serviceEvent, sizeFromEnv, table, type LatencyStats } from './bench-support';
import { BATCHES_IN_FLIGHT, COMBINATIONS, loadOrg, MODELS, PROJECTS, USERS, type History, type Item, type LoadResult } from './event-history';

// ---- Parameters --------------------------------------------------------------------------------------------------

const SMALL_EVENTS = sizeFromEnv('USAGE_BENCH_SMALL', 10_000)!;
/** A cold DynamoDB Local writes at half its later rate for its first 10-20k items: a throwaway org takes that. */
const WARMUP_EVENTS = process.env.USAGE_BENCH_WARMUP === '0' ? 0 : sizeFromEnv('USAGE_BENCH_WARMUP', 20_000)!;
/** undefined: chosen from the small load's rate (see chooseLargeSize). */
const LARGE_EVENTS_GIVEN = sizeFromEnv('USAGE_BENCH_LARGE', undefined);
const LARGE_TARGET = 1_000_000;
/** The issue's floor when 1M does not fit in the budget. */
const LARGE_FLOOR = 250_000;
const LOAD_BUDGET_S = sizeFromEnv('USAGE_BENCH_LOAD_BUDGET_S', 600)!;
const REPS = sizeFromEnv('USAGE_BENCH_REPS', 30)!;
/** Untimed calls of each view first: DynamoDB Local's JIT warms up slowly. */
const WARMUP_REPS = 10;
const FRESHNESS_CONSUMES = sizeFromEnv('USAGE_BENCH_FRESHNESS', 20)!;
const FRESHNESS_POLL_MS = 20;
const FRESHNESS_TIMEOUT_MS = 10_000;
const FRESHNESS_TARGET_MS = 2_000;
const RATIO_TARGET = 1.5;

const TABLE_NAME = 'bench-usage';
const BILLING_ANCHOR = '2025-01-15';
const ALLOWANCE_CU = 1_000_000_000;
/** The history ends a minute ago and reaches this far back: more than the 31 days every view reads. */
const HISTORY_DAYS = 35;
const DAY_MS = 86_400_000;
const READER = 'bench-admin';

// ---- Items read ------------------------------------------------------------------------------------------------

interface ReadTally {
  /** DynamoDB calls, by command. */
  readonly calls: Record<string, number>;
  /** Items read: a Query's ScannedCount (what a filter drops is still read), a GetItem's item, a BatchGetItem's items. */
  items: number;
  /** The items returned, kept to be sized after the timed call. */
  readonly returned: Item[][];
  /** When each call was sent and answered (unmarshalled), ms. */
  readonly spans: Array<readonly [number, number]>;
}

const emptyTally = (): ReadTally => ({ calls: {}, items: 0, returned: [], spans: [] });

/** How long the view waited on DynamoDB (calls in parallel counted once): the rest of its time is this process's work. */
function storeWaitMs(tally: ReadTally): number {
  let total = 0;
  let coveredTo = -Infinity;
  for (const [start, end] of [...tally.spans].sort((a, b) => a[0] - b[0])) {
    if (end <= coveredTo) continue;
    total += end - Math.max(start, coveredTo);
    coveredTo = end;
  }
  return total;
}

/** Bytes of the items a call returned, by DynamoDB's size rules. */
function bytesReturned(tally: ReadTally): number {
  return tally.returned.flat().reduce((sum: number, item) => sum + itemSize(marshall(item, { removeUndefinedValues: true })), 0);
}

/** Counts what the client reads, inside the SDK's retry loop (a retried call reads again). */
function tallyReads(client: DynamoDBClient): { take(): ReadTally } {
  let tally = emptyTally();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const sent = performance.now();
      const result = await next(args);
      tally.spans.push([sent, performance.now()]);
      const command = context.commandName ?? 'unknown';
      // The document client's items, already unmarshalled at this step.
      const output = result.output as { ScannedCount?: number; Items?: Item[]; Item?: Item; Responses?: Record<string, Item[]> };
      tally.calls[command] = (tally.calls[command] ?? 0) + 1;
      const returned = output.Items ?? (output.Item ? [output.Item] : Object.values(output.Responses ?? {}).flat());
      tally.items += output.ScannedCount ?? returned.length;
      tally.returned.push(returned);
      return result;
    },
    { step: 'deserialize', name: 'readTally', priority: 'high' },
  );
  return {
    take() {
      const taken = tally;
      tally = emptyTally();
      return taken;
    },
  };
}

// ---- The views -------------------------------------------------------------------------------------------------

type AnalyticsHandler = ReturnType<typeof analyticsHandler>;

function analyticsHandler(deps: LedgerDependencies) {
  // As the analytics Lambda composes it (ledgerDependencies), on a client whose reads are counted.
  return areaHandler(analyticsRoutes, (signal) => forRequest(deps, signal));
}

async function callView(handler: AnalyticsHandler, orgId: string, routeKey: string, query: Record<string, string>): Promise<any> {
  const response = await handler(readerEvent(routeKey, { orgId, userId: READER }, { query }) as APIGatewayProxyEvent, lambdaContext('cu-ledger-analytics'));
  if (response.statusCode !== 200) throw new Error(`${routeKey} ${JSON.stringify(query)}: HTTP ${response.statusCode} ${response.body ?? ''}`);
  return parseBody(response);
}

interface View {
  readonly name: string;
  readonly routeKey: string;
  readonly query: Record<string, string>;
}

/** The views the issue names, over the 31 days that end today; the events pages' cursors are followed from page 1. */
async function viewsFor(handler: AnalyticsHandler, orgId: string, range: { startDate: string; endDate: string }): Promise<View[]> {
  const events = 'GET /v1/usage/events';
  const eventPages = async (sort: 'createdAt' | 'amount'): Promise<View[]> => {
    const query = { ...range, sort, order: 'desc' };
    let cursor: string | undefined;
    for (let page = 1; page < 10; page++) {
      const body = await callView(handler, orgId, events, cursor === undefined ? query : { ...query, cursor });
      if (typeof body.nextCursor !== 'string') throw new Error(`${orgId}: events by ${sort} end before page 10`);
      cursor = body.nextCursor;
    }
    return [
      { name: `events by ${sort} desc, page 1`, routeKey: events, query },
      { name: `events by ${sort} desc, page 10`, routeKey: events, query: { ...query, cursor: cursor! } },
    ];
  };
  return [
    { name: '/v1/usage, 31 days', routeKey: 'GET /v1/usage', query: range },
    { name: 'timeseries, day, 31 days', routeKey: 'GET /v1/usage/timeseries', query: { ...range, granularity: 'day' } },
    { name: 'power users, 31 days', routeKey: 'GET /v1/usage/power-users', query: range },
    ...(await eventPages('createdAt')),
    ...(await eventPages('amount')),
  ];
}

interface ViewFigures {
  readonly name: string;
  readonly latency: LatencyStats;
  /** Of each call's time, how long it waited on DynamoDB Local. */
  readonly storeWait: LatencyStats;
  readonly read: ReadTally;
}

interface ViewTarget {
  readonly orgId: string;
  readonly views: readonly View[];
}

/**
 * Each org's views WARMUP_REPS times, then REPS timed calls, everything interleaved (the orgs in turn, in
 * alternating order), so a slow moment of this shared machine falls on all of them alike. One call at a time; what
 * the last call read is its count (the same on every call). Figures per org, per view.
 */
async function measureViews(handler: AnalyticsHandler, tally: { take(): ReadTally }, targets: readonly ViewTarget[]): Promise<ViewFigures[][]> {
  const slots = targets.map((target) => target.views.map(() => ({ samples: [] as number[], waits: [] as number[], read: emptyTally() })));
  for (let rep = 0; rep < WARMUP_REPS + REPS; rep++) {
    const order = targets.map((_, index) => index);
    if (rep % 2 === 1) order.reverse();
    for (const targetIndex of order) {
      const target = targets[targetIndex]!;
      for (const [index, view] of target.views.entries()) {
        const slot = slots[targetIndex]![index]!;
        tally.take();
        const started = performance.now();
        await callView(handler, target.orgId, view.routeKey, view.query);
        const elapsed = performance.now() - started;
        slot.read = tally.take();
        if (rep < WARMUP_REPS) continue;
        slot.samples.push(elapsed);
        slot.waits.push(storeWaitMs(slot.read));
      }
    }
  }
  return targets.map((target, targetIndex) =>
    target.views.map((view, index) => {
      const slot = slots[targetIndex]![index]!;
      return { name: view.name, latency: latencyStats(slot.samples), storeWait: latencyStats(slot.waits), read: slot.read };
    }),
  );
}

// ---- Freshness -------------------------------------------------------------------------------------------------

const FRESHNESS_USER = USERS[0]!;
const FRESHNESS_MODEL = MODELS[0]!;

/**
 * From a consume's 200 (the meter Lambda's handler) until /v1/usage, polled every FRESHNESS_POLL_MS, shows it: the
 * stream poller hands the event to the stream handler, which rolls it into its cell. Today's usage of the consuming
 * user is polled (a view of one day's cells), so a poll costs little next to the wait.
 */
async function freshness(handler: AnalyticsHandler, orgId: string, seed: number): Promise<{ stats: LatencyStats; missed: number }> {
  const random = prng(seed);
  const samples: number[] = [];
  let missed = 0;
  const todayOnly = () => {
    const today = dayOf(new Date());
    return { startDate: today, endDate: today, userId: FRESHNESS_USER.id };
  };
  const totalMilli = async () => Math.round((await callView(handler, orgId, 'GET /v1/usage', todayOnly())).totals.totalCU * 1000);
  for (let index = 0; index < FRESHNESS_CONSUMES; index++) {
    // A random moment of the poller's idle interval.
    await sleep(Math.floor(random() * 250));
    const before = await totalMilli();
    const cu = 1 + index / 1000;
    const body = {
      requestId: `fresh-${orgId}-${index}`,
      orgId,
      projectId: FRESHNESS_USER.projectId,
      userId: FRESHNESS_USER.id,
      jobType: FRESHNESS_MODEL.jobType,
      modelId: FRESHNESS_MODEL.id,
      modelName: FRESHNESS_MODEL.names[0],
      cu,
    };
    const response = await meterHandler(serviceEvent('POST /v1/meter/consume', { body }), lambdaContext('cu-ledger-meter'));
    if (response.statusCode !== 200) throw new Error(`freshness consume: HTTP ${response.statusCode} ${response.body ?? ''}`);
    const answeredAt = performance.now();
    let seen = false;
    while (performance.now() - answeredAt < FRESHNESS_TIMEOUT_MS) {
      if ((await totalMilli()) >= before + Math.round(cu * 1000)) {
        seen = true;
        break;
      }
      await sleep(FRESHNESS_POLL_MS);
    }
    if (seen) samples.push(performance.now() - answeredAt);
    else missed++;
  }
  return { stats: latencyStats(samples), missed };
}

// ---- Setup -----------------------------------------------------------------------------------------------------

/** The org as the routes need it: provisioned with its projects, members and API keys, and an org admin to read. */
async function provisionBenchOrg(deps: LedgerDependencies, orgId: string): Promise<OrgTermsSource> {
  await provisionOrg(deps, orgId, {
    allowanceCu: ALLOWANCE_CU,
    billingAnchor: BILLING_ANCHOR,
    projects: Object.fromEntries(PROJECTS.map((project) => [project, null])),
    members: Object.fromEntries(USERS.filter((user) => actorKindOf(user.id) === 'member').map((user) => [user.id, null])),
    apiKeys: Object.fromEntries(USERS.filter((user) => actorKindOf(user.id) === 'api_key').map((user) => [user.id, { projectId: user.projectId, capCu: null }])),
  });
  await putMember({ orgId, id: READER, role: 'org_admin' }, deps);
  const org = await deps.store.getOrg(orgId);
  if (!org) throw new Error(`${orgId} was not provisioned`);
  return org;
}

/**
 * The large size: LARGE_TARGET if the small load's rate loads it within the budget, else the most that rate loads in
 * the budget, in steps of 50k, and never below LARGE_FLOOR. Past the warm-up the rate still climbs as the JIT matures
 * (10k's was below the large load's own in every run), and the load stops at the budget anyway.
 */
function chooseLargeSize(smallRate: number): { events: number; reason: string } {
  if (LARGE_EVENTS_GIVEN !== undefined) return { events: LARGE_EVENTS_GIVEN, reason: 'USAGE_BENCH_LARGE' };
  const fits = smallRate * LOAD_BUDGET_S;
  const rate = `${Math.round(smallRate)} events/s over the second half of the ${SMALL_EVENTS.toLocaleString('en-US')} load`;
  const oneMillionS = Math.round(LARGE_TARGET / smallRate);
  if (fits >= LARGE_TARGET) return { events: LARGE_TARGET, reason: `${rate}: 1M loads in about ${oneMillionS} s, within the ${LOAD_BUDGET_S} s budget` };
  const events = Math.max(LARGE_FLOOR, Math.floor(fits / 50_000) * 50_000);
  return {
    events,
    reason: `${rate}: 1M would take about ${oneMillionS} s, past the ${LOAD_BUDGET_S} s budget; ${events.toLocaleString('en-US')} is the most that fits${fits < LARGE_FLOOR ? ' (the 250k floor)' : ''}`,
  };
}

// ---- Main ------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const benchStarted = performance.now();
  const stderr = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  // DynamoDB Local in memory with the ledger table, as the local runner starts it, but the stream poller only once a
  // load is done: the runner's poller starts with the table, at its first record, and would roll every loaded event
  // up a second time on top of the loaded cells. From a load's end on, the poller runs the deployed stream handler
  // from LATEST, as the runner does on a table kept from an earlier run.
  const dynamoDb: RunningDynamoDbLocal = await startDynamoDbLocal();
  let poller: StreamPoller | undefined;
  try {
    const endpoint = dynamoDb.endpoint;
    process.env.TABLE_NAME = TABLE_NAME;
    process.env.DYNAMODB_ENDPOINT = endpoint;
    useLocalPublisher(publishedEventLog());
    const dynamoDbPid = findDynamoDbLocalPid(dynamoDb.port);
    const ownPids = dynamoDbPid === undefined ? [process.pid] : [process.pid, dynamoDbPid];

    const client = createDynamoDbClient({ endpoint });
    const tally = tallyReads(client);
    await ensureLedgerTable(client, TABLE_NAME);
    const deps = buildLedgerDependencies({ tableName: TABLE_NAME, endpoint }, { client });
    const handler = analyticsHandler(deps);
    const loaderClient = createDynamoDbClient({ endpoint });
    const documents = createDocumentClient(loaderClient);

    const now = Date.now();
    const today = dayOf(new Date(now));
    const range = { startDate: addDays(today, -30), endDate: today };
    const historyOf = (orgId: string, terms: OrgTermsSource): History => ({ orgId, terms, fromMs: now - HISTORY_DAYS * DAY_MS, toMs: now - 60_000 });
    const startPoller = async () =>
      startStreamPoller({ endpoint, tableName: TABLE_NAME, handler: ledgerStreamHandler, startingPosition: 'LATEST' });

    /** Times the views of the orgs, interleaved, and says how busy the rest of the machine kept itself meanwhile. */
    const timeViews = async (targets: readonly ViewTarget[]) => {
      stderr(`timing the views of ${targets.map((target) => target.orgId).join(' and ')}, ${WARMUP_REPS} + ${REPS} calls each`);
      const cpuBefore = cpuSample(ownPids);
      const started = performance.now();
      const figures = await measureViews(handler, tally, targets);
      return { figures, noiseCores: foreignCores(cpuBefore, cpuSample(ownPids), performance.now() - started) };
    };

    /** Provisions and loads the org, then runs the stream poller from LATEST: the live path from here on. */
    const loadSize = async (label: string, orgId: string, count: number, seed: number, limits: { deadlineS?: number; floor?: number } = {}): Promise<LoadResult> => {
      const terms = await provisionBenchOrg(deps, orgId);
      stderr(`${label}: loading ${count.toLocaleString('en-US')} events into ${orgId}`);
      const load = await loadOrg(documents, TABLE_NAME, historyOf(orgId, terms), count, seed, range, { dynamoDbPid, ...limits });
      stderr(
        `${label}: ${load.events.toLocaleString('en-US')} events in ${round(load.loadS, 1)} s (${Math.round(load.eventsPerS)} events/s, ${Math.round(load.steadyEventsPerS)}/s over its second half), ${load.cells} cells, ` +
          `${load.batchCalls} BatchWriteItem calls, ${load.resent} items resent${load.cutShort ? ' (cut short at the time budget)' : ''}`,
      );
      // The loaded rollup as the service reads it: its total must be the in-memory fold's.
      const answered = Math.round((await callView(handler, orgId, 'GET /v1/usage', range)).totals.totalCU * 1000);
      if (answered !== load.cuMilliInRange) throw new Error(`${orgId}: /v1/usage answers ${answered} mCU over the 31 days, the loaded rollup holds ${load.cuMilliInRange}`);
      poller = await startPoller();
      return load;
    };
    const measureFreshness = async (orgId: string, seed: number) => {
      stderr(`freshness: ${FRESHNESS_CONSUMES} consumes on ${orgId}`);
      const fresh = await freshness(handler, orgId, seed);
      await poller?.stop();
      poller = undefined;
      return fresh;
    };

    // 0. JIT warm-up of the write path, in an org of its own that nothing reads.
    const warmup =
      WARMUP_EVENTS > 0 ? await loadOrg(documents, TABLE_NAME, historyOf('org-usage-warmup', await provisionBenchOrg(deps, 'org-usage-warmup')), WARMUP_EVENTS, 3, range, { dynamoDbPid }) : undefined;
    // 1. The small org, measured before the large one is loaded.
    const smallLoad = await loadSize('small', 'org-usage-small', SMALL_EVENTS, 1);
    const smallViews = await viewsFor(handler, smallLoad.orgId, range);
    const smallFirst = await timeViews([{ orgId: smallLoad.orgId, views: smallViews }]);
    const smallFreshness = await measureFreshness(smallLoad.orgId, 11);

    // 2. The large org; then both orgs' views side by side, in the same table, JVM and moment: the ratio's two sides.
    const choice = chooseLargeSize(smallLoad.steadyEventsPerS);
    stderr(`large size: ${choice.events.toLocaleString('en-US')} (${choice.reason})`);
    const largeLoad = await loadSize('large', 'org-usage-large', choice.events, 2, LARGE_EVENTS_GIVEN === undefined ? { deadlineS: LOAD_BUDGET_S, floor: LARGE_FLOOR } : {});
    const largeViews = await viewsFor(handler, largeLoad.orgId, range);
    const side = await timeViews([
      { orgId: smallLoad.orgId, views: smallViews },
      { orgId: largeLoad.orgId, views: largeViews },
    ]);
    const largeFreshness = await measureFreshness(largeLoad.orgId, 12);
    const small = { label: 'small', load: smallLoad, freshness: smallFreshness };
    const large = { label: 'large', load: largeLoad, freshness: largeFreshness };

    loaderClient.destroy();
    client.destroy();
    const runtimeS = (performance.now() - benchStarted) / 1000;

    // ---- Report ----
    const sizeName = (run: { load: LoadResult }) => (run.load.events >= 1_000_000 ? `${round(run.load.events / 1_000_000, 2)}M` : `${round(run.load.events / 1000, 1)}k`);
    const [smallName, largeName] = [sizeName(small), sizeName(large)];
    const rows = side.figures[0]!.map((view, index) => {
      const big = side.figures[1]![index]!;
      const ratio = big.latency.p50Ms / view.latency.p50Ms;
      return { name: view.name, small: view, large: big, before: smallFirst.figures[0]![index]!, ratio, within: ratio <= RATIO_TARGET };
    });
    const out: string[] = [];
    out.push(`CU Ledger usage bench — DynamoDB Local ${dynamoDb.endpoint} (in memory), Node ${process.version}, ${availableParallelism()} CPU(s), ${REPS} timed calls per view`);
    out.push(
      `Dimensions (both orgs): ${USERS.length} users (${USERS.filter((user) => actorKindOf(user.id) === 'api_key').length} API keys), each in one of ${PROJECTS.length} projects, ` +
        `${MODELS.length} models with one job type each; each user works with 2 or 3 models: ${COMBINATIONS} (user, model) combinations, so at most ${COMBINATIONS} cells a day.`,
    );
    out.push(
      `The views read day cells, so they cost days x active combinations, not events: over the 31 days ${small.load.cellsInRange} day cells at ${smallName} (with ${round(small.load.hoursPerCell, 1)} hour cells each), ` +
        `${large.load.cellsInRange} at ${largeName} (${round(large.load.hoursPerCell, 1)}); at most ${COMBINATIONS * 31}. Hours are cells of their own, read only by the graph by hour, so a day cell stays one small item.`,
    );
    out.push(
      table('1. Load (event items by BatchWriteItem, 25 a call, ' + BATCHES_IN_FLIGHT + ' calls in flight; then cells and model names' + (warmup ? '; the warm-up org only warms DynamoDB Local up' : '') + ')', ['org', 'events', 'refunds', 'cells', 'items written', 'calls', 'resent', 'load s', 'events/s', '2nd half /s', 'cut short', 'cores: node / DynamoDB Local / others'], [...(warmup ? [{ load: warmup }] : []), small, large].map((run) => [
        run.load.orgId,
        run.load.events,
        run.load.refunds,
        run.load.cells,
        run.load.items,
        run.load.batchCalls,
        run.load.resent,
        round(run.load.loadS, 1),
        Math.round(run.load.eventsPerS),
        Math.round(run.load.steadyEventsPerS),
        run.load.cutShort,
        [run.load.cores.node, run.load.cores.dynamoDb, run.load.cores.others].map((cores) => nullableRound(cores) ?? '-').join(' / '),
      ])),
    );
    out.push(`   large size: ${large.load.events.toLocaleString('en-US')} — ${choice.reason}${large.load.cutShort ? `; the load was cut short at the ${LOAD_BUDGET_S} s budget` : ''}`);
    const p50p95 = (latency: LatencyStats) => `${latency.p50Ms} / ${latency.p95Ms}`;
    out.push(
      table(`2. Views in-process (analytics handler), ms p50 / p95, and DynamoDB items read per call; ratio = ${largeName} p50 / ${smallName} p50`, ['view', `${smallName} ms`, 'items', `${largeName} ms`, 'items', 'ratio', `within ${RATIO_TARGET}x?`], rows.map((row) => [
        row.name,
        p50p95(row.small.latency),
        row.small.read.items,
        p50p95(row.large.latency),
        row.large.read.items,
        round(row.ratio, 2),
        row.within ? 'yes' : 'NO',
      ])),
    );
    out.push(`   both orgs timed side by side (interleaved) after the ${largeName} load; noise (cores other processes kept busy meanwhile): ${nullableRound(side.noiseCores)}`);
    out.push(
      table(
        `3. What each call reads: DynamoDB calls, items read, KB returned, and of its p50 time the p50 spent waiting on DynamoDB Local (the rest is the handler's own work)`,
        ['view', `${smallName} calls`, 'items', 'KB', 'wait ms', `${largeName} calls`, 'items', 'KB', 'wait ms', `${smallName} before the ${largeName} load, ms p50 / p95`],
        rows.map((row) => [
          row.name,
          callsOf(row.small.read),
          row.small.read.items,
          round(bytesReturned(row.small.read) / 1024, 1),
          row.small.storeWait.p50Ms,
          callsOf(row.large.read),
          row.large.read.items,
          round(bytesReturned(row.large.read) / 1024, 1),
          row.large.storeWait.p50Ms,
          p50p95(row.before.latency),
        ]),
      ),
    );
    out.push(`   noise while the ${smallName} org was timed before the ${largeName} load: ${nullableRound(smallFirst.noiseCores)} cores`);
    out.push(
      table(`4. Freshness: a consume's 200 until /v1/usage shows it (stream poller + stream handler; polled every ${FRESHNESS_POLL_MS} ms)`, ['org', 'n', 'p50 ms', 'p95 ms', 'max ms', 'missed', `< ${FRESHNESS_TARGET_MS} ms?`], [small, large].map((run) => [
        run.load.orgId,
        run.freshness.stats.n,
        run.freshness.stats.p50Ms,
        run.freshness.stats.p95Ms,
        run.freshness.stats.maxMs,
        run.freshness.missed,
        run.freshness.missed === 0 && run.freshness.stats.maxMs < FRESHNESS_TARGET_MS ? 'yes' : 'NO',
      ])),
    );
    out.push(`   runtime ${round(runtimeS, 1)} s`);
    const summary = {
      bench: 'usage',
      sizes: { small: small.load.events, large: large.load.events, largeReason: choice.reason, cutShort: large.load.cutShort },
      dimensions: { users: USERS.length, projects: PROJECTS.length, models: MODELS.length, combinations: COMBINATIONS },
      load: Object.fromEntries([small, large].map((run) => [run.label, { ...run.load, loadS: round(run.load.loadS, 1), eventsPerS: Math.round(run.load.eventsPerS), steadyEventsPerS: Math.round(run.load.steadyEventsPerS), hoursPerCell: round(run.load.hoursPerCell, 2) }])),
      views: rows.map((row) => ({
        view: row.name,
        small: { p50Ms: row.small.latency.p50Ms, p95Ms: row.small.latency.p95Ms, storeWaitP50Ms: row.small.storeWait.p50Ms, items: row.small.read.items, bytes: bytesReturned(row.small.read), calls: row.small.read.calls },
        large: { p50Ms: row.large.latency.p50Ms, p95Ms: row.large.latency.p95Ms, storeWaitP50Ms: row.large.storeWait.p50Ms, items: row.large.read.items, bytes: bytesReturned(row.large.read), calls: row.large.read.calls },
        smallBeforeLarge: { p50Ms: row.before.latency.p50Ms, p95Ms: row.before.latency.p95Ms },
        ratio: round(row.ratio, 3),
        within: row.within,
      })),
      freshness: Object.fromEntries([small, large].map((run) => [run.label, { ...run.freshness.stats, missed: run.freshness.missed }])),
      targets: { ratio: RATIO_TARGET, allWithin: rows.every((row) => row.within), freshnessMs: FRESHNESS_TARGET_MS },
      noise: { sideBySide: nullableRound(side.noiseCores), smallBeforeLarge: nullableRound(smallFirst.noiseCores) },
      runtimeS: round(runtimeS, 1),
    };
    process.stdout.write(`${out.join('\n')}\n`);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await poller?.stop();
    await dynamoDb.stop();
  }
}

function callsOf(tally: ReadTally): string {
  return Object.entries(tally.calls)
    .map(([command, count]) => `${count} ${command.replace(/Command$/, '')}`)
    .join(', ');
}

function nullableRound(value: number | null): number | null {
  return value === null ? null : round(value, 2);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
