// Every usage route against a brute-force recomputation from the event log (test/support/usage-oracle.ts), for random
// event streams: many users and API keys, projects, models (renamed on the way), job types, outputs, partial and full
// refunds, across day, month and billing-period boundaries. The rollups are written by the real stream handler from
// DynamoDB Local's stream, as on AWS.

import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyticsRoutes } from '../../functions/analytics/analytics.handler';
import { eventTableRow } from '../../shared/domain/usage-rows';
import { handleStreamRecords } from '../../functions/jobs/ledger-stream.handler';
import { startStreamPoller, type StreamPoller } from '../../infra/local/stream-poller';
import { toEventRecord } from '../../shared/adapters/dynamodb/item-mapping';
import { toMilli } from '../../shared/domain/compute-units';
import { ConflictError } from '../../shared/domain/errors';
import { areaHandler } from '../../shared/http/lambda';
import type { MeterEventRecord } from '../../shared/ports/ledger-records';
import { putMember } from '../../shared/use-cases/provisioning';
import { consume } from '../../shared/use-cases/consume';
import { refund } from '../../shared/use-cases/refund';
import { parseBody, readerEvent } from '../support/api-events';
import { createTestDynamoDbClient, createTestLedger, manualClock, type TestLedger } from '../support/ledger-fixture';
import { connectionReset, probeClient } from '../support/sdk-faults';
import { ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { buildLedgerDependencies } from '../../shared/composition';
import { handleLedgerChange } from '../../shared/use-cases/jobs';
import { provisionOrg, settle } from '../support/provision';
import { oracleBreakdown, oracleEvents, oraclePowerUsers, oracleSeries, oracleTotals, oracleUsage, type OracleQuery } from '../support/usage-oracle';

const USERS = ['u1', 'u2', 'u3', 'apiu_k1', 'apiu_k2'] as const;
const PROJECTS = ['p1', 'p2', 'p3'] as const;
/** An API key charges only its own project: each key's jobs go there, whatever project the stream drew. */
const KEY_PROJECTS: Readonly<Record<string, (typeof PROJECTS)[number]>> = { apiu_k1: 'p1', apiu_k2: 'p3' };
const MODELS = ['m1', 'm2', 'm3'] as const;
const JOB_TYPES = ['image_generation', 'video_generation', 'training', 'upscale'] as const;
/** Where every stream starts: the evening before a month's end; the period resets on the 2nd (anchor). */
const START = Date.parse('2026-01-30T18:00:00.000Z');
const FIRST_DAY = '2026-01-29';
/** The project admin administers these. */
const PAT_PROJECTS = ['p1', 'p3'];

const clock = manualClock('2026-01-30T00:00:00.000Z');
let ledger: TestLedger;
let poller: StreamPoller;
const handler = () => areaHandler(analyticsRoutes, () => ledger.deps);

beforeAll(async () => {
  ledger = await createTestLedger({ clock });
  const publisher = { publish: async () => undefined };
  poller = await startStreamPoller({
    endpoint: ledger.endpoint,
    tableName: ledger.tableName,
    handler: (event) => handleStreamRecords(event.Records, { store: ledger.deps.store, clock, publisher }),
    retryBackoff: { initialMs: 10, maxMs: 50 },
  });
});

afterAll(async () => {
  await poller?.stop();
});

const operation = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('consume' as const),
      gapMs: fc.integer({ min: 1, max: 8 * 3_600_000 }),
      userId: fc.constantFrom(...USERS),
      projectId: fc.constantFrom(...PROJECTS),
      modelId: fc.option(fc.constantFrom(...MODELS), { nil: undefined }),
      nameVersion: fc.integer({ min: 1, max: 2 }),
      jobType: fc.constantFrom(...JOB_TYPES),
      cuMilli: fc.integer({ min: 1, max: 40_000 }),
      asset: fc.option(fc.record({ kind: fc.constantFrom('image' as const, 'video' as const, '3d' as const, 'audio' as const), count: fc.integer({ min: 0, max: 4 }) }), { nil: undefined }),
      resourceType: fc.option(fc.constantFrom('tokens', 'storage'), { nil: undefined }),
      ioType: fc.option(fc.constantFrom('input' as const, 'output' as const), { nil: undefined }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('refund' as const),
      gapMs: fc.integer({ min: 1, max: 8 * 3_600_000 }),
      target: fc.nat(),
      /** Percent of what is left; undefined: all of it. */
      part: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
    }),
  },
);

const query = fc.record({
  reader: fc.constantFrom('olga', 'pat'),
  startOffset: fc.integer({ min: 0, max: 8 }),
  length: fc.integer({ min: 0, max: 9 }),
  projects: fc.subarray([...PROJECTS]),
  users: fc.subarray([...USERS]),
  jobTypes: fc.subarray([...JOB_TYPES]),
  models: fc.subarray([...MODELS]),
  metric: fc.constantFrom('cu' as const, 'jobs' as const),
  granularity: fc.constantFrom('hour' as const, 'day' as const, 'week' as const, 'month' as const),
  groupBy: fc.shuffledSubarray(['userId', 'projectId', 'modelId', 'jobType'] as const, { minLength: 1 }),
  sort: fc.constantFrom('createdAt' as const, 'amount' as const, 'userId' as const),
  order: fc.constantFrom('asc' as const, 'desc' as const),
  limit: fc.integer({ min: 1, max: 7 }),
  poolCategories: fc.subarray(['allocated', 'surplus', 'hybrid']),
  resourceTypes: fc.subarray(['tokens', 'storage']),
  minCu: fc.option(fc.integer({ min: -20, max: 20 }), { nil: undefined }),
  maxCu: fc.option(fc.integer({ min: 20, max: 60 }), { nil: undefined }),
});

const addDays = (day: string, days: number) => new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

let orgs = 0;

/** Runs the operations through the real use cases, the clock moving forward each time, and waits for the rollups. */
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

async function play(operations: Operation[]): Promise<{ orgId: string; log: MeterEventRecord[] }> {
  const orgId = `usage-${process.pid}-${++orgs}`;
  clock.set(new Date(START - 3_600_000).toISOString());
  await provisionOrg(ledger.deps, orgId, { allowanceCu: 1_000_000, billingAnchor: '2026-01-02' });
  await putMember({ orgId, id: 'olga', role: 'org_admin' }, ledger.deps);
  await putMember({ orgId, id: 'pat', role: 'project_admin', adminOfProjectIds: PAT_PROJECTS }, ledger.deps);
  let time = START;
  const consumes: { requestId: string; cuMilli: number; refunded: number }[] = [];
  for (const [index, op] of operations.entries()) {
    time += op.gapMs;
    clock.set(new Date(time).toISOString());
    const requestId = `${orgId}-op${index}`;
    if (op.kind === 'consume') {
      await settle(() =>
        consume(
          {
            requestId,
            orgId,
            projectId: KEY_PROJECTS[op.userId] ?? op.projectId,
            userId: op.userId,
            jobType: op.jobType,
            cuMilli: op.cuMilli,
            ...(op.modelId ? { modelId: op.modelId, modelName: `Model ${op.modelId} v${op.nameVersion}` } : {}),
            ...(op.asset ? { assetKind: op.asset.kind, assetCount: op.asset.count } : {}),
            ...(op.resourceType ? { resourceType: op.resourceType } : {}),
            ...(op.ioType ? { ioType: op.ioType } : {}),
          },
          ledger.deps,
        ),
      );
      consumes.push({ requestId, cuMilli: op.cuMilli, refunded: 0 });
    } else if (consumes.length > 0) {
      const target = consumes[op.target % consumes.length]!;
      const left = target.cuMilli - target.refunded;
      if (left === 0) continue;
      const amount = op.part === undefined ? left : Math.max(1, Math.floor((left * op.part) / 100));
      try {
        await settle(() => refund({ requestId, orgId, refundOf: target.requestId, cuMilli: op.part === undefined ? undefined : amount }, ledger.deps));
        target.refunded += amount;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
  }
  await poller.drain(120_000);
  const items = await ledger.scanAll();
  const log = items.filter((item) => item.entity === 'event' && item.orgId === orgId).map(toEventRecord);
  return { orgId, log };
}

async function call(routeKey: string, orgId: string, userId: string, parameters: Record<string, string | readonly string[] | undefined>) {
  const answer = await handler()(readerEvent(routeKey, { orgId, userId }, { query: parameters }) as APIGatewayProxyEvent, {} as Context);
  return { status: answer.statusCode, body: parseBody(answer) };
}

describe('usage analytics equal a recomputation from the event log', () => {
  it('for random event streams and random filters, on every route', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 5, maxLength: 30 }), fc.array(query, { minLength: 2, maxLength: 4 }), async (operations, queries) => {
        const { orgId, log } = await play(operations);
        for (const q of queries) {
          const startDate = addDays(FIRST_DAY, q.startOffset);
          const endDate = addDays(startDate, q.length);
          const allowed = q.reader === 'pat' ? q.projects.filter((project) => PAT_PROJECTS.includes(project)) : q.projects;
          const oracleQuery: OracleQuery = {
            startDate,
            endDate,
            projects: allowed.length > 0 ? allowed : q.reader === 'pat' ? PAT_PROJECTS : 'all',
            users: q.users,
            jobTypes: q.jobTypes,
            models: q.models,
          };
          const filters = { startDate, endDate, projectId: allowed, userId: q.users, jobType: q.jobTypes, modelId: q.models };

          const usage = await call('GET /v1/usage', orgId, q.reader, filters);
          expect(usage).toEqual({ status: 200, body: oracleUsage(log, oracleQuery) });
          const totals = await call('GET /v1/usage/totals', orgId, q.reader, filters);
          expect(totals).toEqual({ status: 200, body: oracleTotals(log, oracleQuery) });
          const power = await call('GET /v1/usage/power-users', orgId, q.reader, { ...filters, limit: String(q.limit) });
          expect(power).toEqual({ status: 200, body: oraclePowerUsers(log, oracleQuery, q.limit) });
          const breakdown = await call('GET /v1/usage/breakdown', orgId, q.reader, { ...filters, groupBy: q.groupBy.join(',') });
          expect(breakdown).toEqual({ status: 200, body: oracleBreakdown(log, oracleQuery, q.groupBy) });
          const series = await call('GET /v1/usage/timeseries', orgId, q.reader, { ...filters, metric: q.metric, granularity: q.granularity });
          expect(series).toEqual({
            status: 200,
            body: { startDate, endDate, metric: q.metric, granularity: q.granularity, buckets: oracleSeries(log, oracleQuery, q.metric, q.granularity) },
          });

          // The events table, every page of it: exactly the matching rows, in order, full pages until the last.
          const tableQuery = { ...oracleQuery, poolCategories: q.poolCategories, resourceTypes: q.resourceTypes, minCu: q.minCu, maxCu: q.maxCu, sort: q.sort, order: q.order };
          const expected = oracleEvents(log, tableQuery).map(eventTableRow);
          const rows: unknown[] = [];
          let cursor: string | undefined;
          for (let page = 0; page < 200; page++) {
            const answer = await call('GET /v1/usage/events', orgId, q.reader, {
              ...filters,
              poolCategory: q.poolCategories,
              resourceType: q.resourceTypes,
              minCu: q.minCu === undefined ? undefined : String(q.minCu),
              maxCu: q.maxCu === undefined ? undefined : String(q.maxCu),
              sort: q.sort,
              order: q.order,
              limit: String(q.limit),
              cursor,
            });
            expect(answer.status).toBe(200);
            rows.push(...answer.body.items);
            if (answer.body.nextCursor === null) break;
            expect(answer.body.items).toHaveLength(q.limit);
            cursor = answer.body.nextCursor;
          }
          expect(rows).toEqual(expected);
        }
      }),
      { numRuns: 6, endOnFailure: true },
    );
  });
});

describe('usage rollups', () => {
  it('count each event once when the stream delivers it again', async () => {
    const { orgId, log } = await play([{ kind: 'consume', gapMs: 1, userId: 'u1', projectId: 'p1', modelId: 'm1', nameVersion: 1, jobType: 'upscale', cuMilli: toMilli(2.5), asset: { kind: 'image', count: 2 }, resourceType: undefined, ioType: undefined }]);
    // The same record handed over again (a retried batch): the marker makes the second rollup a no-op.
    expect(await ledger.deps.store.applyRollup(log[0]!)).toBe('already_applied');
    const usage = await call('GET /v1/usage', orgId, 'olga', { startDate: FIRST_DAY, endDate: '2026-02-10' });
    expect(usage.body.totals.totalCU).toBe(2.5);
    expect(usage.body.assetUsages).toEqual([{ kind: 'image', total: 2, totalApiKey: 0 }]);
  });

  it('count each event once through conflicts, throttling and a committed write whose answer was lost', async () => {
    // A stream handler of its own, on a client with injected faults; the event is handed over as a record would be.
    const client = createTestDynamoDbClient(ledger.endpoint);
    const probe = probeClient(client);
    const deps = buildLedgerDependencies({ tableName: ledger.tableName, endpoint: ledger.endpoint }, { client, clock });
    const event: MeterEventRecord = {
      kind: 'consume',
      orgId: `faults-${process.pid}`,
      requestId: 'job-faulty',
      eventId: 'evt_faulty',
      createdAt: '2026-03-03T10:15:00.000Z',
      periodId: '2026-03-02T00:00:00.000Z',
      projectId: 'p1',
      userId: 'u1',
      actorKind: 'member',
      jobType: 'upscale',
      cuMilli: 4200,
      poolCategory: 'allocated',
      draws: [{ ref: { kind: 'allowance' }, milli: 4200 }],
      counters: ['team'],
      fingerprint: 'f',
      attemptId: 'a',
    };
    const conflict = () =>
      new TransactionCanceledException({ message: 'conflict', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }] });
    const throttled = () => new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
    probe.inject('TransactWriteItemsCommand', { when: 'before', error: conflict }, { when: 'before', error: throttled }, { when: 'after', error: connectionReset });
    await handleLedgerChange({ kind: 'metered', event }, { store: deps.store, clock, publisher: { publish: async () => undefined } });
    // Delivered again (a retried batch): nothing more.
    await handleLedgerChange({ kind: 'metered', event }, { store: deps.store, clock, publisher: { publish: async () => undefined } });

    expect(probe.roundTrips.get('TransactWriteItemsCommand')).toBeGreaterThanOrEqual(5);
    const range = { startDate: '2026-03-03', endDate: '2026-03-03' };
    const cell = { day: '2026-03-03', projectId: 'p1', userId: 'u1', jobType: 'upscale', modelId: null, cuMilli: 4200, jobs: 1, assets: {} };
    expect(await deps.store.readCells(event.orgId, range, 'day')).toEqual([cell]);
    expect(await deps.store.readCells(event.orgId, range, 'hour')).toEqual([{ ...cell, hour: '10' }]);
  });
});
