// Bad input gets a 4xx with a stable code and the field at fault, never a 500, and changes nothing.
// Runs the real middy stack (error mapping included) on DynamoDB Local.

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminRoutes } from '../../functions/admin/admin.handler';
import { meterRoutes } from '../../functions/meter/meter.handler';
import { areaHandler } from '../../shared/http/lambda';
import { createTestLedger, parseBody, serviceEvent, type TestLedger } from '../support/ledger-fixture';
import { provisionOrg } from '../support/provision';

let ledger: TestLedger;
let invoke: (event: ReturnType<typeof serviceEvent>) => Promise<{ statusCode?: number; body?: string }>;

const valid = { requestId: 'req-1', orgId: 'org-bad', projectId: 'p1', userId: 'u1', jobType: 'image_generation', cu: 1.5 };

beforeAll(async () => {
  ledger = await createTestLedger();
  await provisionOrg(ledger.deps, 'org-bad', { allowanceCu: 1000, members: { u1: 100 } });
  const meter = areaHandler(meterRoutes, () => ledger.deps);
  const admin = areaHandler(adminRoutes, () => ledger.deps);
  invoke = async (event) => ((event.routeKey in meterRoutes ? meter : admin) as any)(event, {} as never);
});

async function expectRefused(event: ReturnType<typeof serviceEvent>, status: number, code: string, field?: string) {
  const before = await ledger.scanAll();
  const response = await invoke(event);
  const body = parseBody(response);
  expect({ status: response.statusCode, code: body.error?.code, field: body.error?.field }).toEqual({ status, code, field });
  expect(typeof body.error.message).toBe('string');
  expect(await ledger.scanAll()).toEqual(before);
}

const consumeWith = (body: unknown) => serviceEvent('POST /v1/meter/consume', { body });

describe('bad input on the meter routes', () => {
  it.each([
    ['a missing requestId', { ...valid, requestId: undefined }, 'requestId'],
    ['a missing cu', { ...valid, cu: undefined }, 'cu'],
    ['a zero cu', { ...valid, cu: 0 }, 'cu'],
    ['a negative cu', { ...valid, cu: -1 }, 'cu'],
    ['a cu given as a string', { ...valid, cu: '1' }, 'cu'],
    ['a cu with four decimals', { ...valid, cu: 1.2345 }, 'cu'],
    ['a huge cu', { ...valid, cu: 1e12 }, 'cu'],
    ['a null cu', { ...valid, cu: null }, 'cu'],
    ['an unknown field', { ...valid, price: 3 }, 'price'],
    ['a 10 KB requestId', { ...valid, requestId: 'r'.repeat(10_000) }, 'requestId'],
    ['an orgId holding the key separator', { ...valid, orgId: 'org#1' }, 'orgId'],
    ['a jobType that is not snake_case', { ...valid, jobType: 'Image Generation' }, 'jobType'],
    ['an unknown assetKind', { ...valid, assetKind: 'gif' }, 'assetKind'],
    ['a fractional assetCount', { ...valid, assetCount: 1.5 }, 'assetCount'],
    ['an unknown ioType', { ...valid, ioType: 'both' }, 'ioType'],
    ['an empty userId', { ...valid, userId: '' }, 'userId'],
  ])('refuses a consume with %s', async (_name, body, field) => {
    await expectRefused(consumeWith(body), 400, 'validation_failed', field);
  });

  it('refuses invalid JSON, an empty body, a non-object and an oversized body', async () => {
    await expectRefused(serviceEvent('POST /v1/meter/consume', { rawBody: '{"requestId": ' }), 400, 'invalid_json', 'body');
    await expectRefused(serviceEvent('POST /v1/meter/consume', { rawBody: '' }), 400, 'invalid_json', 'body');
    await expectRefused(consumeWith([valid]), 400, 'validation_failed', 'body');
    await expectRefused(consumeWith('consume'), 400, 'validation_failed', 'body');
    await expectRefused(consumeWith({ ...valid, modelName: 'x'.repeat(20_000) }), 413, 'payload_too_large', 'body');
  });

  it('refuses an unknown org with 404 naming orgId', async () => {
    await expectRefused(consumeWith({ ...valid, orgId: 'org-nobody' }), 404, 'org_not_found', 'orgId');
    await expectRefused(serviceEvent('POST /v1/meter/check', { body: { orgId: 'org-nobody', projectId: 'p', userId: 'u', cu: 1 } }), 404, 'org_not_found', 'orgId');
  });

  it('refuses a caller without the service principal', async () => {
    await expectRefused(serviceEvent('POST /v1/meter/consume', { body: valid, principal: false }), 401, 'unauthorized');
  });

  it('refuses bad refunds and checks', async () => {
    await expectRefused(serviceEvent('POST /v1/meter/refund', { body: { requestId: 'f1', orgId: 'org-bad' } }), 400, 'validation_failed', 'refundOf');
    await expectRefused(
      serviceEvent('POST /v1/meter/refund', { body: { requestId: 'f1', orgId: 'org-bad', refundOf: 'r', cu: 0.0001 } }),
      400,
      'validation_failed',
      'cu',
    );
    await expectRefused(serviceEvent('POST /v1/meter/refund', { body: { requestId: 'f1', orgId: 'org-bad', refundOf: 'nothing' } }), 404, 'consume_not_found', 'refundOf');
    await expectRefused(serviceEvent('POST /v1/meter/check', { body: { orgId: 'org-bad', projectId: 'p1', userId: 'u1' } }), 400, 'validation_failed', 'cu');
  });

  it('accepts a base64-encoded body as API Gateway may send it', async () => {
    const event = serviceEvent('POST /v1/meter/consume', { rawBody: Buffer.from(JSON.stringify({ ...valid, requestId: 'b64' })).toString('base64') });
    const response = await invoke({ ...event, isBase64Encoded: true });
    expect(response.statusCode).toBe(200);
    expect(parseBody(response).chargedCu).toBe(1.5);
  });

  it('never answers a 500 nor changes anything for arbitrary JSON bodies', async () => {
    const before = await ledger.scanAll();
    const field = fc.oneof(fc.string({ maxLength: 40 }), fc.double(), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }));
    const bodies = fc.oneof(
      fc.jsonValue(),
      fc.record({ requestId: field, orgId: field, projectId: field, userId: field, jobType: field, cu: field }, { requiredKeys: [] }),
      fc.record({ ...Object.fromEntries(Object.entries(valid).map(([key, value]) => [key, fc.constant(value as unknown)])), cu: fc.double() }).map((body) => ({ ...body, orgId: 'org-nobody' })),
    );
    await fc.assert(
      fc.asyncProperty(bodies, fc.constantFrom('POST /v1/meter/consume', 'POST /v1/meter/refund', 'POST /v1/meter/check'), async (body, routeKey) => {
        const response = await invoke(serviceEvent(routeKey, { body }));
        expect(response.statusCode).toBeGreaterThanOrEqual(400);
        expect(response.statusCode).toBeLessThan(500);
        expect(parseBody(response).error.code).toMatch(/^[a-z_]+$/);
      }),
      { numRuns: 300 },
    );
    expect(await ledger.scanAll()).toEqual(before);
  });
});

describe('bad input on the admin routes', () => {
  const org = { plan: { name: 'pro', allowanceCu: 100 }, billingAnchor: '2026-01-15' };
  const put = (routeKey: string, pathParameters: Record<string, string>, body: unknown) => serviceEvent(routeKey, { pathParameters, body });

  it.each([
    ['an impossible billing anchor', { ...org, billingAnchor: '2026-02-30' }, 'billingAnchor'],
    ['a negative allowance', { ...org, plan: { name: 'pro', allowanceCu: -5 } }, 'plan.allowanceCu'],
    ['a missing plan', { billingAnchor: '2026-01-15' }, 'plan'],
    ['a plan without a name', { ...org, plan: { allowanceCu: 5 } }, 'plan.name'],
  ])('refuses an org with %s', async (_name, body, field) => {
    await expectRefused(put('PUT /v1/orgs/{orgId}', { orgId: 'org-new' }, body), 400, 'validation_failed', field);
  });

  it('refuses bad members, keys, projects and default limits', async () => {
    await expectRefused(put('PUT /v1/orgs/{orgId}/members/{userId}', { orgId: 'org-bad', userId: 'u9' }, { role: 'god' }), 400, 'validation_failed', 'role');
    await expectRefused(put('PUT /v1/orgs/{orgId}/members/{userId}', { orgId: 'org-bad', userId: 'apiu_x' }, { role: 'viewer' }), 400, 'validation_failed', 'userId');
    await expectRefused(put('PUT /v1/orgs/{orgId}/api-keys/{keyId}', { orgId: 'org-bad', keyId: 'key1' }, { projectId: 'p1' }), 400, 'validation_failed', 'keyId');
    await expectRefused(put('PUT /v1/orgs/{orgId}/api-keys/{keyId}', { orgId: 'org-bad', keyId: 'apiu_1' }, { capCu: 3 }), 400, 'validation_failed', 'projectId');
    await expectRefused(put('PUT /v1/orgs/{orgId}/projects/{projectId}', { orgId: 'org-bad', projectId: 'p1' }, { capCu: 1.0001 }), 400, 'validation_failed', 'capCu');
    await expectRefused(put('PUT /v1/orgs/{orgId}/projects/{projectId}', { orgId: 'org-none', projectId: 'p1' }, { capCu: 1 }), 404, 'org_not_found', 'orgId');
    await expectRefused(put('PUT /v1/orgs/{orgId}/default-limit', { orgId: 'org-bad' }, { capCu: 'ten' }), 400, 'validation_failed', 'capCu');
    await expectRefused(put('PUT /v1/orgs/{orgId}/default-limit', { orgId: 'org-bad' }, {}), 400, 'validation_failed', 'capCu');
    await expectRefused(put('PUT /v1/orgs/{orgId}/default-limit', { orgId: 'org-none' }, { capCu: 5 }), 404, 'org_not_found', 'orgId');
  });

  it('refuses bad paging and unknown orgs on lists', async () => {
    const list = (query: Record<string, string>, orgId = 'org-bad') => serviceEvent('GET /v1/orgs/{orgId}/members', { pathParameters: { orgId }, query });
    await expectRefused(list({ limit: '0' }), 400, 'validation_failed', 'limit');
    await expectRefused(list({ limit: 'many' }), 400, 'validation_failed', 'limit');
    await expectRefused(list({ cursor: 'not-a-cursor' }), 400, 'invalid_cursor', 'cursor');
    await expectRefused(list({ sort: 'name' }), 400, 'validation_failed', 'sort');
    const forge = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
    await expectRefused(list({ cursor: forge({ pk: 'ORG#org-bad', sk: '' }) }), 400, 'invalid_cursor', 'cursor');
    await expectRefused(list({ cursor: forge({ pk: 'ORG#org-bad', sk: `MEMBER#${'x'.repeat(1100)}` }) }), 400, 'invalid_cursor', 'cursor');
    await expectRefused(list({ cursor: forge({ pk: 'ORG#org-other', sk: 'MEMBER#u1' }) }), 400, 'invalid_cursor', 'cursor');
    const events = (cursor: string) => serviceEvent('GET /v1/orgs/{orgId}/events', { pathParameters: { orgId: 'org-bad' }, query: { cursor } });
    await expectRefused(events(forge({ pk: '', sk: '', gsi1pk: 'ORG#org-bad#LOG', gsi1sk: '' })), 400, 'invalid_cursor', 'cursor');
    await expectRefused(list({}, 'org-none'), 404, 'org_not_found', 'orgId');
    await expectRefused(serviceEvent('GET /v1/orgs/{orgId}/balance', { pathParameters: { orgId: 'o#1' } }), 400, 'validation_failed', 'orgId');
  });

  it('pages through a list with the cursor it gives out', async () => {
    for (const id of ['p1', 'p2', 'p3']) {
      await invoke(put('PUT /v1/orgs/{orgId}/projects/{projectId}', { orgId: 'org-bad', projectId: id }, { capCu: 5 }));
    }
    const first = parseBody(await invoke(serviceEvent('GET /v1/orgs/{orgId}/projects', { pathParameters: { orgId: 'org-bad' }, query: { limit: '2' } })));
    const second = parseBody(
      await invoke(serviceEvent('GET /v1/orgs/{orgId}/projects', { pathParameters: { orgId: 'org-bad' }, query: { limit: '2', cursor: first.nextCursor } })),
    );
    expect([...first.items, ...second.items].map((row: { projectId: string }) => row.projectId)).toEqual(['p1', 'p2', 'p3']);
    expect(second.nextCursor).toBeNull();
  });
});

describe('a malformed X-Acting-User on the admin writes', () => {
  const path = { orgId: 'org-bad' };
  const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
  const writes: [string, Record<string, string>, unknown][] = [
    ['PUT /v1/orgs/{orgId}', path, { plan: { name: 'pro', allowanceCu: 1000 }, billingAnchor: '2026-01-15', name: 'Renamed' }],
    ['PUT /v1/orgs/{orgId}/default-limit', path, { capCu: 7 }],
    ['PUT /v1/orgs/{orgId}/projects/{projectId}', { ...path, projectId: 'p-new' }, { capCu: 7 }],
    ['PUT /v1/orgs/{orgId}/members/{userId}', { ...path, userId: 'u-new' }, { role: 'viewer' }],
    ['PUT /v1/orgs/{orgId}/api-keys/{keyId}', { ...path, keyId: 'apiu_new' }, { projectId: 'p1' }],
    ['PUT /v1/orgs/{orgId}/plan', path, { name: 'max', allowanceCu: 5000, change: 'upgrade' }],
    ['POST /v1/orgs/{orgId}/top-ups', path, { purchaseId: 'buy-acting', cu: 1, expiresAt: inDays(3) }],
    ['PUT /v1/orgs/{orgId}/auto-refill', path, { enabled: true, thresholdCu: 1, amountCu: 5 }],
  ];

  it.each(writes.flatMap(([routeKey, pathParameters, body]) =>
    [['empty', ''], ['holding a space', 'olga smith'], ['holding the key separator', 'olga#1'], ['too long', 'o'.repeat(129)], ['two of them', 'olga,bob']].map(
      ([name, value]) => [routeKey, name, pathParameters, body, value] as const,
    ),
  ))('refuses %s with an X-Acting-User %s: 400 naming the header', async (routeKey, _name, pathParameters, body, value) => {
    await expectRefused(serviceEvent(routeKey, { pathParameters, body, headers: { 'x-acting-user': value! } }), 400, 'validation_failed', 'X-Acting-User');
  });
});

describe('bad input on POST /v1/activity', () => {
  const action = { eventId: 'ev-bad', orgId: 'org-bad', userId: 'u1', action: 'asset.deleted' };

  it.each([
    ['a missing eventId', { ...action, eventId: undefined }, 'eventId'],
    ['an eventId holding the key separator', { ...action, eventId: 'ev#1' }, 'eventId'],
    ['a missing userId', { ...action, userId: undefined }, 'userId'],
    ['an empty projectId', { ...action, projectId: '' }, 'projectId'],
    ['an action with one segment', { ...action, action: 'deleted' }, 'action'],
    ['an action in capitals', { ...action, action: 'Asset.Deleted' }, 'action'],
    ['an action with an empty segment', { ...action, action: 'asset..deleted' }, 'action'],
    ['an action with spaces', { ...action, action: 'asset deleted' }, 'action'],
    ['an action of 200 characters', { ...action, action: `asset.${'d'.repeat(194)}` }, 'action'],
    ['a subject of 300 characters', { ...action, subject: 's'.repeat(300) }, 'subject'],
    ['an empty subject', { ...action, subject: '' }, 'subject'],
    ['an at without a zone', { ...action, at: '2026-01-01T00:00:00' }, 'at'],
    ['an at that is a date only', { ...action, at: '2026-01-01' }, 'at'],
    ['an at a day ahead', { ...action, at: new Date(Date.now() + 86_400_000).toISOString() }, 'at'],
    ['an unknown field', { ...action, cu: 3 }, 'cu'],
  ])('refuses an action with %s', async (_name, body, field) => {
    await expectRefused(serviceEvent('POST /v1/activity', { body }), 400, 'validation_failed', field);
  });
});

describe('bad input on plans, top-ups, auto-refill and the balance', () => {
  const orgPath = { orgId: 'org-bad' };
  const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
  const topUp = (body: Record<string, unknown>) => serviceEvent('POST /v1/orgs/{orgId}/top-ups', { pathParameters: orgPath, body: { purchaseId: 'buy-bad', cu: 10, expiresAt: inDays(30), ...body } });
  const plan = (body: Record<string, unknown>) => serviceEvent('PUT /v1/orgs/{orgId}/plan', { pathParameters: orgPath, body });
  const refill = (body: Record<string, unknown>) => serviceEvent('PUT /v1/orgs/{orgId}/auto-refill', { pathParameters: orgPath, body });

  it.each([
    ['an expiresAt in the past', { expiresAt: inDays(-1) }, 'expiresAt'],
    ['an expiresAt more than 5 years out', { expiresAt: inDays(5 * 366) }, 'expiresAt'],
    ['an expiresAt without a zone', { expiresAt: '2027-01-01T00:00:00' }, 'expiresAt'],
    ['an expiresAt that is a date only', { expiresAt: '2027-01-01' }, 'expiresAt'],
    ['a cu of 0', { cu: 0 }, 'cu'],
    ['a negative cu', { cu: -3 }, 'cu'],
    ['a cu with 4 decimals', { cu: 1.0005 }, 'cu'],
    ['a missing purchaseId', { purchaseId: undefined }, 'purchaseId'],
    ['a purchaseId holding the key separator', { purchaseId: 'buy#1' }, 'purchaseId'],
  ])('refuses a top-up with %s', async (_name, body, field) => {
    await expectRefused(topUp(body), 400, 'validation_failed', field);
  });

  it('refuses a purchaseId reused with another body (409), and a top-up for an unknown org (404)', async () => {
    const once = { purchaseId: 'buy-once', cu: 5, expiresAt: inDays(30) };
    expect((await invoke(topUp(once))).statusCode).toBe(201);
    const replay = await invoke(topUp(once));
    expect([replay.statusCode, parseBody(replay).replayed]).toEqual([200, true]);
    await expectRefused(topUp({ ...once, cu: 6 }), 409, 'idempotency_key_reused', 'purchaseId');
    await expectRefused(topUp({ ...once, expiresAt: inDays(31) }), 409, 'idempotency_key_reused', 'purchaseId');
    await expectRefused(serviceEvent('POST /v1/orgs/{orgId}/top-ups', { pathParameters: { orgId: 'org-none' }, body: { purchaseId: 'b', cu: 1, expiresAt: inDays(3) } }), 404, 'org_not_found', 'orgId');
  });

  it('refuses a downgrade above today\'s allowance, an upgrade below it, and a change that is neither', async () => {
    await expectRefused(plan({ name: 'max', allowanceCu: 2000, change: 'downgrade' }), 400, 'validation_failed', 'allowanceCu');
    await expectRefused(plan({ name: 'lite', allowanceCu: 10, change: 'upgrade' }), 400, 'validation_failed', 'allowanceCu');
    await expectRefused(plan({ name: 'lite', allowanceCu: 10, change: 'sideways' }), 400, 'validation_failed', 'change');
    await expectRefused(plan({ name: 'lite', allowanceCu: 10.0001, change: 'downgrade' }), 400, 'validation_failed', 'allowanceCu');
    await expectRefused(plan({ name: 'lite', allowanceCu: 10 }), 400, 'validation_failed', 'change');
  });

  it('refuses a change of plan or anchor through PUT of the org: 409 plan_change_required naming the field', async () => {
    const orgBody = { plan: { name: 'pro', allowanceCu: 1000 }, billingAnchor: '2026-01-15' };
    await expectRefused(serviceEvent('PUT /v1/orgs/{orgId}', { pathParameters: orgPath, body: { ...orgBody, plan: { name: 'pro', allowanceCu: 5000 } } }), 409, 'plan_change_required', 'plan');
    await expectRefused(serviceEvent('PUT /v1/orgs/{orgId}', { pathParameters: orgPath, body: { ...orgBody, billingAnchor: '2026-01-20' } }), 409, 'plan_change_required', 'billingAnchor');
  });

  it.each([
    ['a threshold with no amount', { enabled: true, thresholdCu: 10 }, 'amountCu'],
    ['maxPerPeriod 0 while enabled', { enabled: true, thresholdCu: 10, amountCu: 5, maxPerPeriod: 0 }, 'maxPerPeriod'],
    ['a negative threshold', { enabled: true, thresholdCu: -1, amountCu: 5 }, 'thresholdCu'],
    ['an amount of 0', { enabled: true, thresholdCu: 1, amountCu: 0 }, 'amountCu'],
    ['expiresInDays of 0', { enabled: true, thresholdCu: 1, amountCu: 5, expiresInDays: 0 }, 'expiresInDays'],
    ['a missing enabled', { thresholdCu: 1, amountCu: 5 }, 'enabled'],
  ])('refuses auto-refill settings with %s', async (_name, body, field) => {
    await expectRefused(refill(body), 400, 'validation_failed', field);
  });

  it('refuses a balance ?at that is not an instant, in the future, or before the org existed', async () => {
    const balance = (at: string) => serviceEvent('GET /v1/orgs/{orgId}/balance', { pathParameters: orgPath, query: { at } });
    await expectRefused(balance('yesterday'), 400, 'validation_failed', 'at');
    await expectRefused(balance(inDays(1)), 400, 'validation_failed', 'at');
    await expectRefused(balance('2001-01-01T00:00:00Z'), 400, 'validation_failed', 'at');
  });
});
