// Least privilege that still works: every route of each area, run against DynamoDB Local, needs exactly the table
// actions that area's registry entry declares, which are the actions the stack grants its Lambda (test/infra).
// Too few and the function fails on AWS with AccessDenied; too many and the grant is wider than the code.

import { describe, expect, it } from 'vitest';
import { ANALYTICS_AUTHORIZER, API_AREAS, type ApiArea } from '../../infra/api-routes';
import { analyticsKeyRoutes, type AnalyticsKeyDependencies } from '../../functions/analytics/analytics-keys.handler';
import { localKeyStore, localPepper } from '../../shared/adapters/local/file-key-store';
import { newSecret } from '../../shared/domain/analytics-keys';
import type { GatewayEvent } from '../../shared/http/principal';
import { SERVICE_ACTOR } from '../../shared/ports/ledger-records';
import { createAnalyticsKey } from '../../shared/use-cases/analytics-keys';
import { KeyCheckMemory, verifyAnalyticsKey } from '../../shared/use-cases/analytics-key-auth';
import { areaHandler, type Routes } from '../../shared/http/lambda';
import { adminRoutes } from '../../functions/admin/admin.handler';
import { meterRoutes } from '../../functions/meter/meter.handler';
import { openApiRoutes } from '../../functions/openapi/openapi.handler';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { analyticsRoutes } from '../../functions/analytics/analytics.handler';
import { exportRoutes } from '../../functions/analytics/export.handler';
import { financeExportRoutes, type FinanceExportRouteDependencies } from '../../functions/exports/finance-exports.handler';
import { peopleAdminRoutes } from '../../functions/people-admin/people-admin.handler';
import { alertRoutes, type AlertRouteDependencies } from '../../functions/alerts/alerts.handler';
import { deliverAlert, setAlertWebhook } from '../../shared/use-cases/alert-webhooks';
import { streamingAreaHandler, type StreamingHandler } from '../../shared/http/streaming';
import { readerEvent } from '../support/api-events';
import type { LedgerDependencies } from '../../shared/composition';
import { buildLedgerDependencies } from '../../shared/composition';
import { lambdaContext } from '../../infra/local/api-gateway';
import { createTestDynamoDbClient, createTestLedger, serviceEvent } from '../support/ledger-fixture';
import { recordIamActions } from '../support/iam-recorder';
import { BACKGROUND_JOBS } from '../../infra/scheduled-jobs';
import { startStreamPoller } from '../../infra/local/stream-poller';
import { ledgerChangeOf } from '../../shared/adapters/dynamodb/stream-records';
import { toMilli } from '../../shared/domain/compute-units';
import type { PublishedEvent } from '../../shared/ports/event-publisher';
import { changePlan, setAutoRefill } from '../../shared/use-cases/billing';
import { consume } from '../../shared/use-cases/consume';
import { handleLedgerChange, runPeriodRollover, runTopUpExpiry } from '../../shared/use-cases/jobs';
import { requestFinanceExport, runFinanceExport } from '../../shared/use-cases/finance-export';
import { toEventRecord } from '../../shared/adapters/dynamodb/item-mapping';
import { manualClock } from '../support/ledger-fixture';
import { consumeRequest, provisionOrg } from '../support/provision';

const ROUTES: Record<string, Routes<LedgerDependencies>> = { meter: meterRoutes, admin: adminRoutes, openapi: openApiRoutes };
/** Stands for the id of the key the session created last. */
const CREATED_KEY = '<created key>';

type SessionCall = {
  routeKey: string;
  pathParameters?: Record<string, string>;
  body?: unknown;
  status?: number;
  /** An analytics route: who reads (an org admin), and the query string. */
  reader?: string;
  query?: Record<string, string>;
};

/**
 * A valid call of every route, in an order that makes each one succeed, plus a replay and a refused charge. The
 * clock moves past the org's first reset before the plan change, which then rolls the period over first.
 */
function session(orgId: string): (SessionCall | { clockTo: string })[] {
  const org = { orgId };
  return [
    { routeKey: 'PUT /v1/orgs/{orgId}', pathParameters: org, body: { plan: { name: 'pro', allowanceCu: 100 }, billingAnchor: '2026-01-15' } },
    { routeKey: 'PUT /v1/orgs/{orgId}/default-limit', pathParameters: org, body: { capCu: 50 } },
    { routeKey: 'PUT /v1/orgs/{orgId}/projects/{projectId}', pathParameters: { ...org, projectId: 'web' }, body: { capCu: 40 } },
    { routeKey: 'PUT /v1/orgs/{orgId}/members/{userId}', pathParameters: { ...org, userId: 'alice' }, body: { role: 'contributor', capCu: 30 } },
    { routeKey: 'PUT /v1/orgs/{orgId}/api-keys/{keyId}', pathParameters: { ...org, keyId: 'apiu_1' }, body: { projectId: 'web', capCu: 20 } },
    { clockTo: '2026-03-20T00:00:00.000Z' },
    { routeKey: 'PUT /v1/orgs/{orgId}/plan', pathParameters: org, body: { name: 'max', allowanceCu: 200, change: 'upgrade' } },
    { routeKey: 'POST /v1/orgs/{orgId}/top-ups', pathParameters: org, body: { purchaseId: 'buy-1', cu: 10, expiresAt: '2026-06-01T00:00:00.000Z' }, status: 201 },
    { routeKey: 'PUT /v1/orgs/{orgId}/auto-refill', pathParameters: org, body: { enabled: true, thresholdCu: 5, amountCu: 10 } },
    { routeKey: 'GET /v1/orgs/{orgId}/auto-refill', pathParameters: org },
    { routeKey: 'PUT /v1/orgs/{orgId}/alerts', pathParameters: org, body: { thresholds: [{ id: 'pool-80', scope: { kind: 'org' }, percent: 80 }] } },
    { routeKey: 'GET /v1/orgs/{orgId}/alerts', pathParameters: org },
    { routeKey: 'POST /v1/meter/check', body: { orgId, projectId: 'web', userId: 'alice', cu: 1 } },
    { routeKey: 'POST /v1/meter/consume', body: { requestId: 'job-1', orgId, projectId: 'web', userId: 'alice', jobType: 'image_generation', cu: 2 } },
    { routeKey: 'POST /v1/meter/consume', body: { requestId: 'job-1', orgId, projectId: 'web', userId: 'alice', jobType: 'image_generation', cu: 2 } },
    { routeKey: 'POST /v1/meter/consume', body: { requestId: 'job-2', orgId, projectId: 'web', userId: 'alice', jobType: 'image_generation', cu: 31 }, status: 402 },
    { routeKey: 'POST /v1/meter/refund', body: { requestId: 'refund-1', orgId, refundOf: 'job-1' } },
    { routeKey: 'GET /v1/orgs/{orgId}/members', pathParameters: org },
    { routeKey: 'GET /v1/orgs/{orgId}/projects', pathParameters: org },
    { routeKey: 'GET /v1/orgs/{orgId}/api-keys', pathParameters: org },
    { routeKey: 'GET /v1/orgs/{orgId}/balance', pathParameters: org },
    { routeKey: 'GET /v1/orgs/{orgId}/events', pathParameters: org },
    { routeKey: 'POST /v1/activity', body: { eventId: 'ev-1', orgId, userId: 'alice', action: 'asset.deleted' }, status: 201 },
    { routeKey: 'POST /v1/activity', body: { eventId: 'ev-1', orgId, userId: 'alice', action: 'asset.deleted' } },
    { routeKey: 'PUT /v1/orgs/{orgId}/members/{userId}', pathParameters: { ...org, userId: 'olga' }, body: { role: 'org_admin' } },
    ...analyticsCalls(orgId),
    // An org admin changes caps and the default limit as a person, on the Analytics API.
    { routeKey: 'PUT /v1/orgs/{orgId}/projects/{projectId}/cap', reader: 'olga', pathParameters: { ...org, projectId: 'web' }, body: { capCu: 45 } },
    { routeKey: 'PUT /v1/orgs/{orgId}/members/{userId}/cap', reader: 'olga', pathParameters: { ...org, userId: 'alice' }, body: { capCu: 35 } },
    { routeKey: 'PUT /v1/orgs/{orgId}/api-keys/{keyId}/cap', reader: 'olga', pathParameters: { ...org, keyId: 'apiu_1' }, body: { capCu: null } },
    { routeKey: 'PUT /v1/orgs/{orgId}/default-limit/cap', reader: 'olga', pathParameters: org, body: { capCu: 55 } },
    // The service manages an analytics key (org admins do the same on the Analytics API): create, list, rotate, revoke.
    { routeKey: 'POST /v1/orgs/{orgId}/analytics-keys', pathParameters: org, body: { name: 'bi' }, status: 201 },
    { routeKey: 'GET /v1/orgs/{orgId}/analytics-keys', pathParameters: org },
    { routeKey: 'POST /v1/orgs/{orgId}/analytics-keys/{keyId}/rotate', pathParameters: { ...org, keyId: CREATED_KEY }, body: { graceSeconds: 60 } },
    { routeKey: 'DELETE /v1/orgs/{orgId}/analytics-keys/{keyId}', pathParameters: { ...org, keyId: CREATED_KEY } },
    // The service asks for the current month's export (the job runs it) and lists the exports.
    { routeKey: 'POST /v1/orgs/{orgId}/exports', pathParameters: org, body: { month: '2026-03' }, status: 202 },
    { routeKey: 'GET /v1/orgs/{orgId}/exports', pathParameters: org },
    // The service sets the org's alert webhook, reads it and removes it.
    { routeKey: 'PUT /v1/orgs/{orgId}/alerts/webhook', pathParameters: org, body: { url: 'https://hooks.example.com/cu-ledger', format: 'slack' } },
    { routeKey: 'GET /v1/orgs/{orgId}/alerts/webhook', pathParameters: org },
    { routeKey: 'DELETE /v1/orgs/{orgId}/alerts/webhook', pathParameters: org },
    { routeKey: 'GET /v1/openapi.json' },
  ];
}

/** How the stack spells the same grants: table actions, and Query on each index named. */
function declared(area: ApiArea): string[] {
  return [...area.needs.table, ...(area.needs.indexes ?? []).map((index) => `dynamodb:Query@${index}`)].sort();
}

/** Every analytics route, read by an org admin; the events table in each order (each has its own index); the listings. */
function analyticsCalls(orgId: string): SessionCall[] {
  const window = { startDate: '2026-02-01', endDate: '2026-03-31' };
  const read = (routeKey: string, query: Record<string, string> = {}): SessionCall => ({ routeKey, reader: 'olga', pathParameters: { orgId }, query: { ...window, ...query } });
  return [
    read('GET /v1/usage'),
    read('GET /v1/usage/timeseries'),
    read('GET /v1/usage/totals'),
    read('GET /v1/usage/power-users'),
    read('GET /v1/usage/breakdown', { groupBy: 'userId,modelId' }),
    read('GET /v1/usage/events', { startDate: '2026-03-01' }),
    read('GET /v1/usage/events', { startDate: '2026-03-01', sort: 'amount' }),
    read('GET /v1/usage/events', { startDate: '2026-03-01', sort: 'userId' }),
    read('GET /v1/activity', { projectId: 'web' }),
    read('GET /v1/usage/export.csv', { startDate: '2026-03-01' }),
    read('GET /v1/usage/export.csv', { startDate: '2026-03-01', sort: 'amount' }),
    read('GET /v1/usage/export.csv', { startDate: '2026-03-01', sort: 'userId' }),
    read('GET /v1/usage/export.csv', { groupBy: 'projectId' }),
    // The org's listings with their usage bars, as JSON and CSV (they take no window).
    ...['members', 'projects', 'api-keys'].flatMap((listing) =>
      [`GET /v1/orgs/{orgId}/usage/${listing}`, `GET /v1/orgs/{orgId}/usage/${listing}.csv`].map((routeKey): SessionCall => ({ routeKey, reader: 'olga', pathParameters: { orgId } })),
    ),
  ];
}

/** A streamed answer, collected: its status and body. */
async function streamed(handler: StreamingHandler<APIGatewayProxyEvent>, event: APIGatewayProxyEvent): Promise<{ statusCode: number; body: string }> {
  const answer = { statusCode: 0, body: '' };
  await handler(event, { start: (status) => void (answer.statusCode = status), write: async (chunk) => void (answer.body += chunk), end: () => undefined, abort: () => undefined }, {});
  return answer;
}

describe('table grants', () => {
  it('the session calls every route of every area', () => {
    const called = new Set(session('any').flatMap((call) => ('routeKey' in call ? [call.routeKey] : [])));
    expect([...called].sort()).toEqual(API_AREAS.flatMap((area) => area.routeKeys).sort());
  });

  // An area without routes yet (analytics, until its first route lands) calls nothing that could be recorded.
  it.each(API_AREAS.filter((area) => area.routeKeys.length > 0).map((area) => [area.name, area] as const))('%s needs exactly the actions its entry declares', async (name, area) => {
    const clock = manualClock('2026-02-10T09:00:00.000Z');
    const ledger = await createTestLedger({ clock });
    // Each area is its own Lambda with its own client: record only what this area's routes call.
    const client = createTestDynamoDbClient(ledger.endpoint);
    const recorder = recordIamActions(client);
    const own = buildLedgerDependencies({ tableName: ledger.tableName, endpoint: ledger.endpoint }, { client, clock });
    const handlers = Object.fromEntries(
      Object.entries(ROUTES).map(([areaName, routes]) => [areaName, areaHandler(routes, () => (areaName === name ? own : ledger.deps))]),
    );
    const areaOf = (routeKey: string) => API_AREAS.find((candidate) => candidate.routeKeys.includes(routeKey))!.name;
    const vault = { keys: localKeyStore(undefined), pepper: localPepper(undefined) };
    let createdKey = '';
    for (const step of session(`grants-${name}-${Date.now()}`)) {
      if ('clockTo' in step) {
        clock.set(step.clockTo);
        continue;
      }
      const call = step.pathParameters?.keyId === CREATED_KEY ? { ...step, pathParameters: { ...step.pathParameters, keyId: createdKey } } : step;
      const depsFor = (areaName: string) => (name === areaName ? own : ledger.deps);
      const event = () => readerEvent(call.routeKey, { orgId: call.pathParameters!.orgId!, userId: call.reader! }, { query: call.query ?? {}, pathParameters: call.pathParameters });
      const noBus = { publish: async () => undefined };
      const response = call.routeKey in alertRoutes
        ? await areaHandler<AlertRouteDependencies, GatewayEvent>(alertRoutes, () => ({ ...depsFor('alerts'), signingKey: vault.pepper, urlRules: { allowLocal: false } }))(serviceEvent(call.routeKey, call), lambdaContext('alerts'))
        : call.routeKey in financeExportRoutes
        ? await areaHandler<FinanceExportRouteDependencies, GatewayEvent>(financeExportRoutes, () => ({ ...depsFor('finance-exports'), publisher: noBus }))(serviceEvent(call.routeKey, call), lambdaContext('finance-exports'))
        : call.routeKey in analyticsKeyRoutes
        ? await areaHandler<AnalyticsKeyDependencies, GatewayEvent>(analyticsKeyRoutes, () => ({ ...depsFor('analytics-keys'), vault }))(serviceEvent(call.routeKey, call), lambdaContext('analytics-keys'))
        : call.routeKey in peopleAdminRoutes
        ? await areaHandler(peopleAdminRoutes, () => depsFor('people-admin'))(
            readerEvent(call.routeKey, { orgId: call.pathParameters!.orgId!, userId: call.reader! }, { pathParameters: call.pathParameters, body: call.body }),
            lambdaContext('people-admin'),
          )
        : !call.reader
          ? await handlers[areaOf(call.routeKey)]!(serviceEvent(call.routeKey, call), lambdaContext(areaOf(call.routeKey)))
          : call.routeKey in exportRoutes
            ? await streamed(streamingAreaHandler(exportRoutes, () => depsFor('export')), event())
            : await areaHandler(analyticsRoutes, () => depsFor('analytics'))(event(), lambdaContext(areaOf(call.routeKey)));
      if (call.status) expect(response.statusCode, `${call.routeKey}: ${response.body}`).toBe(call.status);
      else expect(response.statusCode, `${call.routeKey}: ${response.body}`).toBeLessThan(300);
      if (call.routeKey === 'POST /v1/orgs/{orgId}/analytics-keys') createdKey = JSON.parse(response.body!).keyId;
    }
    expect([...recorder.actions].sort()).toEqual(declared(area));
  });
});

describe('authorizer grants', () => {
  it("the analytics authorizer needs exactly its entry's actions: a key's lastUsedAt, and a burst entry of wrong secrets", async () => {
    const clock = manualClock('2026-02-10T09:00:00.000Z');
    const ledger = await createTestLedger({ clock });
    await provisionOrg(ledger.deps, 'org-keys', { allowanceCu: 10, billingAnchor: '2026-01-15' });
    const vault = { keys: localKeyStore(undefined), pepper: localPepper(undefined) };
    const { keyId, secret } = await createAnalyticsKey({ orgId: 'org-keys', name: 'bi', actor: SERVICE_ACTOR }, { ...ledger.deps, vault });

    const client = createTestDynamoDbClient(ledger.endpoint);
    const recorder = recordIamActions(client);
    const own = buildLedgerDependencies({ tableName: ledger.tableName, endpoint: ledger.endpoint }, { client, clock });
    const memory = new KeyCheckMemory(0);
    const check = async (presented: string) => {
      const verified = await verifyAnalyticsKey({ keyId, secret: presented }, { vault, store: own.store, clock, memory });
      await memory.settled();
      return verified;
    };
    expect(await check(secret)).toEqual({ orgId: 'org-keys', keyId });
    expect(await check(secret)).toEqual({ orgId: 'org-keys', keyId });
    expect(await check(newSecret())).toBeUndefined();
    expect(await check(newSecret())).toBeUndefined();
    expect([...recorder.actions].sort()).toEqual([...ANALYTICS_AUTHORIZER.needs.table].sort());
  });
});

describe('job grants', () => {
  const jobNeeds = (name: string) => [...BACKGROUND_JOBS.find((job) => job.name === name)!.needs.table].sort();

  it('the rollover, expiry and stream jobs need exactly the actions their entries declare', async () => {
    const clock = manualClock('2026-02-10T09:00:00.000Z');
    const ledger = await createTestLedger({ clock });
    await provisionOrg(ledger.deps, 'org-jobs', { allowanceCu: 10, billingAnchor: '2026-01-15', members: { ana: 5 } });
    await setAutoRefill('org-jobs', { enabled: true, thresholdMilli: toMilli(8), amountMilli: toMilli(5), expiresInDays: 3, maxPerPeriod: 2 }, ledger.deps);
    await consume(consumeRequest('org-jobs', { userId: 'ana', projectId: 'web', cu: 1 }), ledger.deps);
    await changePlan({ orgId: 'org-jobs', planName: 'lite', allowanceMilli: toMilli(5), change: 'downgrade' }, ledger.deps);

    // The stream job: the consume that crosses the threshold, as the stream delivers it.
    const streamClient = createTestDynamoDbClient(ledger.endpoint);
    const streamActions = recordIamActions(streamClient);
    const streamDeps = buildLedgerDependencies({ tableName: ledger.tableName, endpoint: ledger.endpoint }, { client: streamClient, clock });
    const published: PublishedEvent[] = [];
    const poller = await startStreamPoller({
      endpoint: ledger.endpoint,
      tableName: ledger.tableName,
      handler: async (event) => {
        for (const record of event.Records) {
          const change = ledgerChangeOf(record);
          if (change) await handleLedgerChange(change, { store: streamDeps.store, clock, publisher: { publish: async (events) => void published.push(...events) } });
        }
        return { batchItemFailures: [] };
      },
    });
    try {
      await consume(consumeRequest('org-jobs', { userId: 'ana', projectId: 'web', cu: 2 }), ledger.deps);
      await poller.drain();
    } finally {
      await poller.stop();
    }
    expect(published.map((event) => event.detailType)).toContain('AutoRefillPurchased');
    expect([...streamActions.actions].sort()).toEqual(jobNeeds('ledger-stream'));

    // The scheduled jobs, a month and more later: two resets (one applies the downgrade, both prune) and an expiry.
    clock.set('2026-03-16T00:00:00.000Z');
    for (const [name, run] of [['period-rollover', runPeriodRollover], ['top-up-expiry', runTopUpExpiry]] as const) {
      const client = createTestDynamoDbClient(ledger.endpoint);
      const recorder = recordIamActions(client);
      const summary = await run(buildLedgerDependencies({ tableName: ledger.tableName, endpoint: ledger.endpoint }, { client, clock }));
      expect(summary.handled, name).toBeGreaterThan(0);
      expect([...recorder.actions].sort(), name).toEqual(jobNeeds(name));
    }
  });

  it('the finance-export job needs exactly the actions and indexes its entry declares', async () => {
    const clock = manualClock('2026-02-10T09:00:00.000Z');
    const ledger = await createTestLedger({ clock });
    await provisionOrg(ledger.deps, 'org-export', { allowanceCu: 10, billingAnchor: '2026-01-15' });
    await consume(consumeRequest('org-export', { userId: 'ana', projectId: 'web', cu: 1, modelId: 'm1' }), ledger.deps);
    for (const item of await ledger.scanAll()) if (item.entity === 'event') await ledger.deps.store.applyRollup(toEventRecord(item));
    clock.set('2026-03-02T00:00:00.000Z');
    const requested = await requestFinanceExport('org-export', '2026-02', { ...ledger.deps, publisher: { publish: async () => undefined } });

    const client = createTestDynamoDbClient(ledger.endpoint);
    const recorder = recordIamActions(client);
    const own = buildLedgerDependencies({ tableName: ledger.tableName, endpoint: ledger.endpoint }, { client, clock });
    const objects = {
      put: async (_key: string, body: AsyncIterable<Uint8Array>) => {
        for await (const _chunk of body); // the bucket is not what this test records
      },
      getText: async () => undefined,
    };
    const manifest = await runFinanceExport(requested, { store: own.store, clock, objects });
    expect(manifest.files[1]!.rows).toBe(1);
    const job = BACKGROUND_JOBS.find((candidate) => candidate.name === 'finance-export')!;
    expect([...recorder.actions].sort()).toEqual([...job.needs.table, ...(job.needs.indexes ?? []).map((index) => `dynamodb:Query@${index}`)].sort());
  });

  it('the alert-webhook job needs exactly the actions its entry declares: the webhook, read', async () => {
    const clock = manualClock('2026-02-10T09:00:00.000Z');
    const ledger = await createTestLedger({ clock });
    await provisionOrg(ledger.deps, 'org-webhook', { allowanceCu: 10, billingAnchor: '2026-01-15' });
    const signingKey = localPepper(undefined);
    await setAlertWebhook({ orgId: 'org-webhook', url: 'https://hooks.example.com/cu', format: 'json', rotateSecret: false }, { store: ledger.deps.store, clock, signingKey, urlRules: { allowLocal: false } });

    const client = createTestDynamoDbClient(ledger.endpoint);
    const recorder = recordIamActions(client);
    const own = buildLedgerDependencies({ tableName: ledger.tableName, endpoint: ledger.endpoint }, { client, clock });
    const notice = { detailType: 'UsageThresholdCrossed', time: clock.now().toISOString(), detail: { eventId: 'alert:org-webhook:p:t', orgId: 'org-webhook' } };
    const sender = { post: async () => ({ status: 200 }) };
    const delivered = await deliverAlert(notice, { store: own.store, clock, signingKey, sender, urlRules: { allowLocal: false } });
    expect(delivered.outcome).toBe('delivered');
    expect([...recorder.actions].sort()).toEqual(jobNeeds('alert-webhook'));
  });
});
