// The service routes on AWS admit only the backend roles the deployment lists (SERVICE_CALLER_ARNS): any other IAM
// caller the gateway verified gets 403 service_caller_not_allowed, no data, and writes nothing. Without a list (the
// local runner) any IAM caller is the service. Runs the real middy stack on DynamoDB Local.

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminRoutes } from '../../functions/admin/admin.handler';
import { meterRoutes } from '../../functions/meter/meter.handler';
import { analyticsKeyRoutes, type AnalyticsKeyDependencies } from '../../functions/analytics/analytics-keys.handler';
import { localKeyStore, localPepper } from '../../shared/adapters/local/file-key-store';
import { areaHandler } from '../../shared/http/lambda';
import type { GatewayEvent } from '../../shared/http/principal';
import { SERVICE_CALLER_ARNS_ENV } from '../../shared/http/principal';
import { createTestLedger, parseBody, serviceEvent, type TestLedger } from '../support/ledger-fixture';
import { provisionOrg } from '../support/provision';

const LISTED_ROLE = 'arn:aws:iam::123456789012:role/platform/cu-ledger-caller';
const LISTED_SESSION = 'arn:aws:sts::123456789012:assumed-role/cu-ledger-caller/backend-task-1';
const LOCAL_GATEWAY_USER = 'arn:aws:iam::000000000000:user/local-service';

let ledger: TestLedger;

beforeAll(async () => {
  ledger = await createTestLedger();
  await provisionOrg(ledger.deps, 'org-callers', { allowanceCu: 100, members: { u1: null } });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

/** The meter and admin handlers as a Lambda builds them at load, under the environment the test stubbed first. */
function handlers() {
  const meter = areaHandler(meterRoutes, () => ledger.deps);
  const admin = areaHandler(adminRoutes, () => ledger.deps);
  return async (event: ReturnType<typeof serviceEvent>) => {
    const response = await ((event.routeKey in meterRoutes ? meter : admin) as any)(event, {});
    return { status: response.statusCode as number, body: parseBody(response) };
  };
}

let jobs = 0;
const consumeAs = (callerArn: string) =>
  serviceEvent('POST /v1/meter/consume', { callerArn, body: { requestId: `job-${++jobs}`, orgId: 'org-callers', projectId: 'p1', userId: 'u1', jobType: 'upscale', cu: 1 } });
const putProjectAs = (callerArn: string) =>
  serviceEvent('PUT /v1/orgs/{orgId}/projects/{projectId}', { callerArn, pathParameters: { orgId: 'org-callers', projectId: `p-${++jobs}` }, body: { capCu: 5 } });
const balanceAs = (callerArn: string) => serviceEvent('GET /v1/orgs/{orgId}/balance', { callerArn, pathParameters: { orgId: 'org-callers' } });

describe('with a list of service callers', () => {
  it.each([
    ['a session of another role of the account', 'arn:aws:sts::123456789012:assumed-role/some-admin/alice'],
    ['a session of a role of that name in another account', 'arn:aws:sts::210987654321:assumed-role/cu-ledger-caller/backend-task-1'],
    ['an IAM user', 'arn:aws:iam::123456789012:user/cu-ledger-caller'],
    ["the local gateway's identity", LOCAL_GATEWAY_USER],
  ])('refuses %s with 403 service_caller_not_allowed, answers no data and writes nothing', async (_name, callerArn) => {
    vi.stubEnv(SERVICE_CALLER_ARNS_ENV, JSON.stringify([LISTED_ROLE]));
    const call = handlers();
    const before = await ledger.scanAll();

    for (const event of [consumeAs(callerArn), putProjectAs(callerArn), balanceAs(callerArn)]) {
      const answer = await call(event);
      expect([event.routeKey, answer]).toEqual([event.routeKey, { status: 403, body: { error: { code: 'service_caller_not_allowed', message: expect.any(String) } } }]);
    }
    // Refused before the body is read: a bad body from such a caller learns nothing either.
    expect(await call(serviceEvent('POST /v1/meter/consume', { callerArn, rawBody: '{' }))).toMatchObject({ status: 403 });
    expect(await ledger.scanAll()).toEqual(before);
  });

  it('serves a session of a listed role (listed with its path) on meter and admin routes', async () => {
    vi.stubEnv(SERVICE_CALLER_ARNS_ENV, JSON.stringify(['arn:aws:iam::123456789012:role/other', LISTED_ROLE]));
    const call = handlers();

    expect(await call(consumeAs(LISTED_SESSION))).toMatchObject({ status: 200, body: { chargedCu: 1 } });
    expect(await call(putProjectAs(LISTED_SESSION))).toMatchObject({ status: 200 });
    expect(await call(balanceAs(LISTED_SESSION))).toMatchObject({ status: 200 });
  });
});

describe('the analytics-key routes (on the HTTP API too, for the service)', () => {
  const vault = { keys: localKeyStore(undefined), pepper: localPepper(undefined) };
  const keysHandler = () => areaHandler<AnalyticsKeyDependencies, GatewayEvent>(analyticsKeyRoutes, () => ({ ...ledger.deps, vault }));
  const createAs = (callerArn: string) => serviceEvent('POST /v1/orgs/{orgId}/analytics-keys', { callerArn, pathParameters: { orgId: 'org-callers' }, body: { name: 'bi' } });

  it('refuses an IAM caller not on the list: no key minted, nothing written', async () => {
    vi.stubEnv(SERVICE_CALLER_ARNS_ENV, JSON.stringify([LISTED_ROLE]));
    const create = keysHandler();
    const before = await ledger.scanAll();
    const answer = await (create as any)(createAs('arn:aws:sts::123456789012:assumed-role/some-admin/alice'), {});
    expect([answer.statusCode, parseBody(answer).error.code]).toEqual([403, 'service_caller_not_allowed']);
    expect(answer.body).not.toContain('cuas_');
    expect(await ledger.scanAll()).toEqual(before);
    const allowed = await (create as any)(createAs(LISTED_SESSION), {});
    expect(allowed.statusCode).toBe(201);
  });
});

describe('without a list', () => {
  it("serves any IAM caller, as the local runner's gateway identity", async () => {
    vi.stubEnv(SERVICE_CALLER_ARNS_ENV, undefined);
    const call = handlers();

    expect(await call(consumeAs(LOCAL_GATEWAY_USER))).toMatchObject({ status: 200, body: { chargedCu: 1 } });
    expect(await call(consumeAs('arn:aws:sts::210987654321:assumed-role/anyone/x'))).toMatchObject({ status: 200 });
  });
});
