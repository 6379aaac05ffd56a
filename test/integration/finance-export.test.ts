// Finance exports on DynamoDB Local and s3rver: the exact bytes of a fixture month's files (expected values worked out
// by hand from the fixture below), byte-identical re-runs, an interrupted run completed by the next, manifests whose
// checksums match the bytes that landed, closed periods' exports, and the monthly job's requests.

import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { financeExportRoutes, type FinanceExportRouteDependencies } from '../../functions/exports/finance-exports.handler';
import { areaHandler } from '../../shared/http/lambda';
import type { GatewayEvent } from '../../shared/http/principal';
import type { PublishedEvent } from '../../shared/ports/event-publisher';
import { putMember } from '../../shared/use-cases/provisioning';
import { parseBody, readerEvent, serviceEvent } from '../support/api-events';
import { toEventRecord } from '../../shared/adapters/dynamodb/item-mapping';
import { createS3Client, s3ObjectStore } from '../../shared/adapters/s3/object-store';
import { exportKeys, monthlyExportDue, monthTarget, type ExportManifest } from '../../shared/domain/finance-export';
import { ValidationError } from '../../shared/domain/errors';
import type { ObjectStore } from '../../shared/ports/object-store';
import { consume } from '../../shared/use-cases/consume';
import { exportClosedPeriod, exportRange, runFinanceExport, runMonthlyExport } from '../../shared/use-cases/finance-export';
import { dueReset, rollOrgPeriod } from '../../shared/use-cases/jobs';
import { refund } from '../../shared/use-cases/refund';
import { startS3Local, type RunningS3Local } from '../../infra/local/s3-local';
import { createTestLedger, manualClock, type TestLedger } from '../support/ledger-fixture';
import { consumeRequest, provisionOrg } from '../support/provision';

const ORG = `fin-${randomUUID().slice(0, 8)}`;
const clock = manualClock('2026-03-20T10:00:00.000Z');
let ledger: TestLedger;
let s3: RunningS3Local;
let objects: ObjectStore;
/** Event ids, by request id (the ledger draws them at random). */
const eventIds = new Map<string, string>();

async function consumeAt(at: string, requestId: string, fields: { userId: string; projectId: string; cu: number; jobType?: string; modelId?: string; modelName?: string }) {
  clock.set(at);
  const result = await consume({ ...consumeRequest(ORG, fields), requestId }, ledger.deps);
  eventIds.set(requestId, result.eventId);
}

async function refundAt(at: string, requestId: string, refundOf: string) {
  clock.set(at);
  const result = await refund({ requestId, orgId: ORG, refundOf }, ledger.deps);
  eventIds.set(requestId, result.eventId);
}

beforeAll(async () => {
  [ledger, s3] = await Promise.all([createTestLedger({ clock }), startS3Local()]);
  objects = s3ObjectStore(createS3Client({ endpoint: s3.endpoint }), s3.bucket);
  await provisionOrg(ledger.deps, ORG, { allowanceCu: 100_000, billingAnchor: '2026-03-01' });
  await putMember({ orgId: ORG, id: 'olga', role: 'org_admin' }, ledger.deps);
  await putMember({ orgId: ORG, id: 'carl', role: 'contributor' }, ledger.deps);
  await consumeAt('2026-03-31T23:59:59.999Z', 'c0', { userId: 'ana', projectId: 'web', cu: 2, modelId: 'gpt-image', modelName: 'GPT Image' });
  await consumeAt('2026-04-01T00:00:00.000Z', 'c1', { userId: 'ana', projectId: 'web', cu: 5, modelId: 'gpt-image', modelName: 'GPT Image' });
  await consumeAt('2026-04-10T12:00:00.000Z', 'c2', { userId: 'apiu_bot', projectId: 'web', cu: 3.5, modelId: 'gpt-image', modelName: 'GPT Image' });
  await consumeAt('2026-04-15T08:30:00.000Z', 'c3', { userId: 'ana', projectId: 'batch', cu: 1.25, jobType: 'upscale' });
  await refundAt('2026-04-20T09:00:00.000Z', 'r1', 'c2');
  await consumeAt('2026-04-30T23:59:59.999Z', 'c4', { userId: 'apiu_ops', projectId: 'batch', cu: 2, jobType: 'chat', modelId: 'llm-x', modelName: 'LLM X' });
  // A refund in May of an April job: a negative row in May, April's files keep the job whole.
  await refundAt('2026-05-02T10:00:00.000Z', 'r2', 'c1');
  // What the table's stream does for each event (this file runs no stream poller).
  for (const item of await ledger.scanAll()) if (item.entity === 'event') await ledger.deps.store.applyRollup(toEventRecord(item));
  clock.set('2026-05-03T00:00:00.000Z');
});

afterAll(async () => {
  await s3?.stop();
});

const deps = (store: ObjectStore = objects) => ({ store: ledger.deps.store, clock, objects: store });
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const id = (requestId: string) => eventIds.get(requestId);

function expectedApril() {
  const usage = `${JSON.stringify(
    {
      totals: { totalCU: 8.25, users: 2, startDate: '2026-04-01', endDate: '2026-04-30' },
      consumption: [
        { userId: 'ana', value: 6.25, total: 6.25 },
        { userId: 'apiu_ops', value: 2, total: 2 },
      ],
      modelUsages: [
        { modelName: 'GPT Image', totalCU: 5, totalJobs: 1, totalApiKeyCU: 0 },
        { modelName: 'LLM X', totalCU: 2, totalJobs: 1, totalApiKeyCU: 2 },
      ],
      assetUsages: [],
    },
    null,
    2,
  )}\n`;
  const events = [
    'createdAt,userId,amount,resourceType,poolCategory,ioType,requestId,endpoint,projectId,jobType,modelName,modelId,kind,refundOf,eventId',
    `2026-04-01T00:00:00.000Z,ana,5,,allocated,,c1,,web,image_generation,GPT Image,gpt-image,consume,,${id('c1')}`,
    `2026-04-10T12:00:00.000Z,apiu_bot,3.5,,allocated,,c2,,web,image_generation,GPT Image,gpt-image,consume,,${id('c2')}`,
    `2026-04-15T08:30:00.000Z,ana,1.25,,allocated,,c3,,batch,upscale,,,consume,,${id('c3')}`,
    `2026-04-20T09:00:00.000Z,apiu_bot,-3.5,,allocated,,r1,,web,image_generation,GPT Image,gpt-image,refund,c2,${id('r1')}`,
    `2026-04-30T23:59:59.999Z,apiu_ops,2,,allocated,,c4,,batch,chat,LLM X,llm-x,consume,,${id('c4')}`,
    '',
  ].join('\n');
  // The refunded API-key job nets to nothing: apiu_bot has no row of its own, and adds nothing to web's.
  const byProject = ['projectId,cu,jobs,humanCu,apiKeyCu', 'web,5,1,5,0', 'batch,3.25,2,1.25,2', ''].join('\n');
  const byUser = ['userId,apiKey,cu,jobs,humanCu,apiKeyCu', 'ana,false,6.25,2,6.25,0', 'apiu_ops,true,2,1,0,2', ''].join('\n');
  const byModel = ['modelId,modelName,cu,jobs,humanCu,apiKeyCu', 'gpt-image,GPT Image,5,1,5,0', 'llm-x,LLM X,2,1,0,2', ',,1.25,1,1.25,0', ''].join('\n');
  return { usage, events, byProject, byUser, byModel };
}

async function landed(month: string) {
  const keys = exportKeys(ORG, monthTarget(month));
  const entries = await Promise.all(Object.entries(keys).map(async ([name, key]) => [name, await objects.getText(key)] as const));
  return Object.fromEntries(entries) as Record<keyof typeof keys, string | undefined>;
}

describe('exportRange of a month', () => {
  it('writes the fixture month byte for byte, the manifest last, under the documented keys', async () => {
    const manifest = await exportRange(ORG, monthTarget('2026-04'), deps());

    const expected = expectedApril();
    const files = await landed('2026-04');
    expect(files.usage).toBe(expected.usage);
    expect(files.events).toBe(expected.events);
    expect(files.byProject).toBe(expected.byProject);
    expect(files.byUser).toBe(expected.byUser);
    expect(files.byModel).toBe(expected.byModel);
    const keys = exportKeys(ORG, monthTarget('2026-04'));
    expect(keys.events).toBe(`exports/events/org_id=${ORG}/month=2026-04/events.csv`);
    expect(keys.manifest).toBe(`exports/${ORG}/2026-04/manifest.json`);
    const file = (key: string, text: string, rows: number) => ({ key, rows, bytes: Buffer.byteLength(text), sha256: sha256(text) });
    const expectedManifest: ExportManifest = {
      schemaVersion: 1,
      orgId: ORG,
      month: '2026-04',
      partial: false,
      timeRange: { from: '2026-04-01T00:00:00.000Z', to: '2026-05-01T00:00:00.000Z' },
      files: [
        file(keys.usage, expected.usage, 1),
        file(keys.events, expected.events, 5),
        file(keys.byProject, expected.byProject, 2),
        file(keys.byUser, expected.byUser, 2),
        file(keys.byModel, expected.byModel, 3),
      ],
    };
    expect(manifest).toEqual(expectedManifest);
    expect(files.manifest).toBe(`${JSON.stringify(expectedManifest, null, 2)}\n`);
  });

  it("lists checksums in the manifest that verify against the bytes that landed", async () => {
    const manifest = await exportRange(ORG, monthTarget('2026-04'), deps());
    for (const file of manifest.files) {
      const text = await objects.getText(file.key);
      expect(text, file.key).toBeDefined();
      expect(sha256(text!), file.key).toBe(file.sha256);
      expect(Buffer.byteLength(text!), file.key).toBe(file.bytes);
    }
  });

  it('writes the same bytes when a closed month is exported again later', async () => {
    await exportRange(ORG, monthTarget('2026-04'), deps());
    const first = await landed('2026-04');
    clock.set('2026-07-09T13:14:15.000Z');
    try {
      await exportRange(ORG, monthTarget('2026-04'), deps());
    } finally {
      clock.set('2026-05-03T00:00:00.000Z');
    }
    expect(await landed('2026-04')).toEqual(first);
  });

  it('completes a run cut short before the manifest on the next run', async () => {
    clock.set('2026-06-01T02:00:00.000Z');
    try {
      const failing: ObjectStore = {
        ...objects,
        put: (key, body, contentType) => (key.endsWith('/manifest.json') ? Promise.reject(new Error('the function timed out')) : objects.put(key, body, contentType)),
      };
      await expect(exportRange(ORG, monthTarget('2026-05'), deps(failing))).rejects.toThrow('the function timed out');
      const cut = await landed('2026-05');
      expect(cut.manifest).toBeUndefined();
      expect(cut.events).toBeDefined();

      const manifest = await exportRange(ORG, monthTarget('2026-05'), deps());
      const done = await landed('2026-05');
      expect(done.manifest).toBe(`${JSON.stringify(manifest, null, 2)}\n`);
      // May holds April's job refunded in May, as a negative row of its own.
      expect(done.events).toBe(
        [
          'createdAt,userId,amount,resourceType,poolCategory,ioType,requestId,endpoint,projectId,jobType,modelName,modelId,kind,refundOf,eventId',
          `2026-05-02T10:00:00.000Z,ana,-5,,allocated,,r2,,web,image_generation,GPT Image,gpt-image,refund,c1,${id('r2')}`,
          '',
        ].join('\n'),
      );
      expect(manifest.files.map((file) => file.rows)).toEqual([1, 1, 1, 1, 1]);
    } finally {
      clock.set('2026-05-03T00:00:00.000Z');
    }
  });

  it('exports the current month as partial, cut off at the instant it ran', async () => {
    const manifest = await exportRange(ORG, monthTarget('2026-05'), deps());
    expect(manifest.partial).toBe(true);
    expect(manifest.timeRange).toEqual({ from: '2026-05-01T00:00:00.000Z', to: '2026-05-03T00:00:00.000Z' });
  });

  it.each([
    ['a future month', '2026-06'],
    ['a month before the org existed', '2026-02'],
    ['a month that is not one', '2026-13'],
  ])('refuses %s with a 400 on month', async (_name, month) => {
    const refused = exportRange(ORG, monthTarget(month), deps());
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toMatchObject({ field: 'month' });
  });
});

describe('POST and GET /v1/orgs/{orgId}/exports', () => {
  const published: PublishedEvent[] = [];
  const routes = () => areaHandler<FinanceExportRouteDependencies, GatewayEvent>(financeExportRoutes, () => ({ ...ledger.deps, publisher: { publish: async (events) => void published.push(...events) } }));
  const path = { orgId: ORG };
  const asPerson = (userId: string, routeKey: string, body?: unknown) => routes()(readerEvent(routeKey, { orgId: ORG, userId }, { pathParameters: path, body }), {} as never);
  const asService = (routeKey: string, body?: unknown) => routes()(serviceEvent(routeKey, { pathParameters: path, body }), {} as never);

  it('answers 202 with an id at once; the job run by the published request records the manifest', async () => {
    const answer = await asPerson('olga', 'POST /v1/orgs/{orgId}/exports', { month: '2026-04' });
    expect(answer.statusCode, answer.body).toBe(202);
    const { exportId } = parseBody(answer);
    expect(parseBody(answer)).toEqual({ exportId, month: '2026-04', status: 'requested', requestedAt: '2026-05-03T00:00:00.000Z' });
    const requested = published.find((event) => event.id === exportId)!;
    expect(requested).toMatchObject({ detailType: 'FinanceExportRequested', detail: { orgId: ORG, month: '2026-04', exportId } });

    const before = parseBody(await asService('GET /v1/orgs/{orgId}/exports'));
    expect(before.items).toContainEqual({ kind: 'month', exportId, month: '2026-04', status: 'requested', requestedAt: '2026-05-03T00:00:00.000Z', finishedAt: null, manifest: null });

    const manifest = await runFinanceExport({ orgId: ORG, target: monthTarget('2026-04'), exportId }, deps());
    const after = parseBody(await asPerson('olga', 'GET /v1/orgs/{orgId}/exports'));
    expect(after.items).toContainEqual({ kind: 'month', exportId, month: '2026-04', status: 'done', requestedAt: '2026-05-03T00:00:00.000Z', finishedAt: '2026-05-03T00:00:00.000Z', manifest });
  });

  it('lets the service ask too, and records a failed run as failed', async () => {
    const answer = await asService('POST /v1/orgs/{orgId}/exports', { month: '2026-05' });
    expect(answer.statusCode, answer.body).toBe(202);
    const { exportId } = parseBody(answer);
    const broken: ObjectStore = { ...objects, put: () => Promise.reject(new Error('bucket gone')) };
    await expect(runFinanceExport({ orgId: ORG, target: monthTarget('2026-05'), exportId }, deps(broken))).rejects.toThrow('bucket gone');
    const listed = parseBody(await asService('GET /v1/orgs/{orgId}/exports')).items;
    expect(listed.find((item: { month: string }) => item.month === '2026-05')).toMatchObject({ exportId, status: 'failed', manifest: null });
  });

  it.each([
    ['a future month', '2026-06'],
    ['a month before the org existed', '2026-02'],
    ['no month at all', 'May'],
  ])('refuses %s with 400 on month, filing nothing', async (_name, month) => {
    const count = published.length;
    const answer = await asPerson('olga', 'POST /v1/orgs/{orgId}/exports', { month });
    expect(answer.statusCode, answer.body).toBe(400);
    expect(parseBody(answer).error.field).toBe('month');
    expect(published.length).toBe(count);
  });

  it('refuses anyone but an org admin or the service (403)', async () => {
    expect((await asPerson('carl', 'POST /v1/orgs/{orgId}/exports', { month: '2026-04' })).statusCode).toBe(403);
    expect((await asPerson('carl', 'GET /v1/orgs/{orgId}/exports')).statusCode).toBe(403);
  });
});

describe('exportRange of a closed period', () => {
  const april = { kind: 'period' as const, periodStart: '2026-04-01T00:00:00.000Z', periodEnd: '2026-05-01T00:00:00.000Z' };

  it('writes the files of a period that is a calendar month byte for byte as the month, under periods/<start>/, events outside the month partitions', async () => {
    const manifest = await exportRange(ORG, april, deps());
    const keys = exportKeys(ORG, april);
    const folder = `exports/${ORG}/periods/2026-04-01T00:00:00.000Z`;
    expect(Object.values(keys).every((key) => key.startsWith(`${folder}/`))).toBe(true);
    const expected = expectedApril();
    const landedFile = (key: string) => objects.getText(key);
    expect(await landedFile(keys.usage)).toBe(expected.usage);
    expect(await landedFile(keys.events)).toBe(expected.events);
    expect(await landedFile(keys.byProject)).toBe(expected.byProject);
    expect(await landedFile(keys.byUser)).toBe(expected.byUser);
    expect(await landedFile(keys.byModel)).toBe(expected.byModel);
    expect(manifest).toMatchObject({ orgId: ORG, period: { start: april.periodStart, end: april.periodEnd }, partial: false, timeRange: { from: april.periodStart, to: april.periodEnd } });
    expect(manifest).not.toHaveProperty('month');
    expect(await landedFile(keys.manifest)).toBe(`${JSON.stringify(manifest, null, 2)}\n`);
  });

  it('cuts the events at the instants of a period that starts and ends inside a day, and rewrites the same bytes later', async () => {
    const upgraded = { kind: 'period' as const, periodStart: '2026-04-10T12:00:00.000Z', periodEnd: '2026-04-20T09:00:00.000Z' };
    const manifest = await exportRange(ORG, upgraded, deps());
    const events = (await objects.getText(exportKeys(ORG, upgraded).events))!.split('\n');
    // c2 at the start instant is in; r1 at the end instant is not (the next period's).
    expect(events.slice(1, -1).map((row) => row.split(',')[6])).toEqual(['c2', 'c3']);
    expect(manifest.timeRange).toEqual({ from: upgraded.periodStart, to: upgraded.periodEnd });
    clock.set('2026-08-01T00:00:00.000Z');
    try {
      expect(await exportRange(ORG, upgraded, deps())).toEqual(manifest);
    } finally {
      clock.set('2026-05-03T00:00:00.000Z');
    }
  });

  it('refuses a period that has not closed (400 on period)', async () => {
    const open = exportRange(ORG, { kind: 'period', periodStart: '2026-05-01T00:00:00.000Z', periodEnd: '2026-06-01T00:00:00.000Z' }, deps());
    await expect(open).rejects.toMatchObject({ field: 'period' });
  });
});

describe('exportClosedPeriod (BillingPeriodReset)', () => {
  const close = { orgId: ORG, previousPeriodStart: '2026-03-01T00:00:00.000Z', periodStart: '2026-04-01T00:00:00.000Z', eventId: 'act_reset_april' };
  const periodItems = async () => (await ledger.deps.store.listFinanceExports(ORG)).filter((record) => record.target.kind === 'period');

  it('files the export under the reset event id, runs it, and lists it as a period beside the months', async () => {
    const manifest = await exportClosedPeriod(close, deps());
    expect(manifest).toMatchObject({ period: { start: close.previousPeriodStart, end: close.periodStart } });
    const recorded = (await periodItems()).find((record) => record.exportId === close.eventId);
    expect(recorded).toMatchObject({ status: 'done', target: { kind: 'period', periodStart: close.previousPeriodStart, periodEnd: close.periodStart }, manifest });

    const routes = areaHandler<FinanceExportRouteDependencies, GatewayEvent>(financeExportRoutes, () => ({ ...ledger.deps, publisher: { publish: async () => undefined } }));
    const listed = parseBody(await routes(serviceEvent('GET /v1/orgs/{orgId}/exports', { pathParameters: { orgId: ORG } }), {} as never)).items;
    expect(listed).toContainEqual({ kind: 'period', exportId: close.eventId, period: { start: close.previousPeriodStart, end: close.periodStart }, status: 'done', requestedAt: expect.any(String), finishedAt: expect.any(String), manifest });
    // Months first, then periods.
    const kinds = listed.map((item: { kind: string }) => item.kind);
    expect(kinds.indexOf('period')).toBeGreaterThan(kinds.lastIndexOf('month'));
  });

  it('leaves one record and the same bytes when the reset event is delivered again', async () => {
    const first = await exportClosedPeriod(close, deps());
    const again = await exportClosedPeriod(close, deps());
    expect(again).toEqual(first);
    expect((await periodItems()).filter((record) => record.target.kind === 'period' && record.target.periodStart === close.previousPeriodStart)).toHaveLength(1);
  });
});

describe('runMonthlyExport', () => {
  const OTHER = `fin2-${randomUUID().slice(0, 8)}`;
  const published: PublishedEvent[] = [];
  const monthly = () => runMonthlyExport({ ...ledger.deps, clock, publisher: { publish: async (events) => void published.push(...events) } });
  const requested = () => published.filter((event) => event.detailType === 'FinanceExportRequested').map((event) => event.detail);
  const exportDue = async () =>
    (await ledger.scanAll())
      .filter((item) => item.pk === 'DUE#export' && (item.orgId === ORG || item.orgId === OTHER))
      .map((item) => [item.orgId, item.ref, item.dueAt]);

  it("requests each ended month's export for every org, once, catching up on missed months, and files the next", async () => {
    // ORG was created in March: March and April have ended by May 3rd, and the run handles both (a late run's catch-up).
    expect(await exportDue()).toEqual([[ORG, '2026-03', '2026-04-01T00:00:00.000Z']]);
    await provisionOrg(ledger.deps, OTHER, { allowanceCu: 10, billingAnchor: '2026-05-03' });
    expect(await monthly()).toEqual({ job: 'monthly-export', handled: 2 });
    expect(requested()).toEqual([
      { orgId: ORG, month: '2026-03', exportId: expect.any(String) },
      { orgId: ORG, month: '2026-04', exportId: expect.any(String) },
    ]);
    expect(await monthly()).toEqual({ job: 'monthly-export', handled: 0 });

    clock.set('2026-06-01T00:15:00.000Z');
    try {
      expect(await monthly()).toEqual({ job: 'monthly-export', handled: 2 });
      expect(requested().slice(2).sort((a, b) => String(a.orgId).localeCompare(String(b.orgId)))).toEqual(
        [
          { orgId: ORG, month: '2026-05', exportId: expect.any(String) },
          { orgId: OTHER, month: '2026-05', exportId: expect.any(String) },
        ].sort((a, b) => a.orgId.localeCompare(b.orgId)),
      );
      expect((await exportDue()).sort()).toEqual(
        [
          [ORG, '2026-06', '2026-07-01T00:00:00.000Z'],
          [OTHER, '2026-06', '2026-07-01T00:00:00.000Z'],
        ].sort(),
      );
      // Each request is filed as the route files one: a record per month, requested.
      const months = (await ledger.deps.store.listFinanceExports(OTHER)).map((record) => [record.target, record.status]);
      expect(months).toEqual([[{ kind: 'month', month: '2026-05' }, 'requested']]);
    } finally {
      clock.set('2026-05-03T00:00:00.000Z');
    }
  });

  it('files the missing monthly export due of an org created before monthly exports at its next period rollover (the backfill)', async () => {
    const OLD = `fin3-${randomUUID().slice(0, 8)}`;
    await provisionOrg(ledger.deps, OLD, { allowanceCu: 10, billingAnchor: '2026-05-03' });
    // As an org provisioned before this change: no export due item.
    await ledger.deps.store.dropDue(monthlyExportDue(OLD, clock.now()));
    const dueOf = async () => (await ledger.scanAll()).filter((item) => item.pk === 'DUE#export' && item.orgId === OLD).map((item) => [item.ref, item.dueAt]);
    expect(await dueOf()).toEqual([]);

    clock.set('2026-06-03T00:01:00.000Z');
    try {
      const org = await ledger.deps.store.getOrg(OLD);
      expect(await rollOrgPeriod(dueReset(org!, clock.now())!, { store: ledger.deps.store, clock })).toBe('handled');
      expect(await dueOf()).toEqual([['2026-06', '2026-07-01T00:00:00.000Z']]);
    } finally {
      clock.set('2026-05-03T00:00:00.000Z');
    }
  });
});
