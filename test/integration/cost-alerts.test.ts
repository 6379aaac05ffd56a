// Cost-alert thresholds through the alerts routes on DynamoDB Local: a list set is read back as set, replaced as a
// whole, refused with the field at fault (and nothing written), and refused for an org that does not exist; the
// service and the org's admins may call them, nobody else.

import { beforeAll, describe, expect, it } from 'vitest';
import { alertRoutes, type AlertRouteDependencies } from '../../functions/alerts/alerts.handler';
import { lambdaContext } from '../../infra/local/api-gateway';
import { localPepper } from '../../shared/adapters/local/file-key-store';
import { areaHandler } from '../../shared/http/lambda';
import type { GatewayEvent } from '../../shared/http/principal';
import { putMember } from '../../shared/use-cases/provisioning';
import { readerEvent } from '../support/api-events';
import { createTestLedger, manualClock, parseBody, serviceEvent, type TestLedger } from '../support/ledger-fixture';
import { provisionOrg } from '../support/provision';

let ledger: TestLedger;
let invoke: (event: GatewayEvent) => Promise<{ statusCode?: number; body?: string }>;

beforeAll(async () => {
  ledger = await createTestLedger({ clock: manualClock('2026-02-20T10:00:00.000Z') });
  const alerts = areaHandler<AlertRouteDependencies, GatewayEvent>(alertRoutes, () => ({ ...ledger.deps, signingKey: localPepper(undefined), urlRules: { allowLocal: false } }));
  invoke = (event) => alerts(event, lambdaContext('alerts'));
});

let orgSequence = 0;
async function newOrg(): Promise<string> {
  const orgId = `org-alerts-${Date.now()}-${orgSequence++}`;
  await provisionOrg(ledger.deps, orgId, { allowanceCu: 1000, projects: { web: 200 }, members: { alice: 50 } });
  return orgId;
}

const putAlerts = (orgId: string, body: unknown) => invoke(serviceEvent('PUT /v1/orgs/{orgId}/alerts', { pathParameters: { orgId }, body }));
const getAlerts = (orgId: string) => invoke(serviceEvent('GET /v1/orgs/{orgId}/alerts', { pathParameters: { orgId } }));

const thresholds = [
  { id: 'pool-80', scope: { kind: 'org' }, percent: 80 },
  { id: 'web-150', scope: { kind: 'project', id: 'web' }, cu: 150 },
  { id: 'alice-half', scope: { kind: 'member', id: 'alice' }, percent: 50 },
  { id: 'key-10', scope: { kind: 'api_key', id: 'apiu_1' }, cu: 10.5 },
];

describe('cost-alert thresholds', () => {
  it('reads back the thresholds it was given, with the current period and nothing fired yet', async () => {
    const orgId = await newOrg();
    const put = await putAlerts(orgId, { thresholds });
    expect(put.statusCode).toBe(200);
    const expected = {
      thresholds,
      currentPeriod: { start: '2026-02-15T00:00:00.000Z', resetsAt: '2026-03-15T00:00:00.000Z' },
      fired: [],
    };
    expect(parseBody(put)).toEqual(expected);
    const got = await getAlerts(orgId);
    expect(got.statusCode).toBe(200);
    expect(parseBody(got)).toEqual(expected);
  });

  it('replaces the whole list on each put', async () => {
    const orgId = await newOrg();
    await putAlerts(orgId, { thresholds });
    await putAlerts(orgId, { thresholds: [thresholds[1]] });
    expect(parseBody(await getAlerts(orgId)).thresholds).toEqual([thresholds[1]]);
    await putAlerts(orgId, { thresholds: [] });
    expect(parseBody(await getAlerts(orgId)).thresholds).toEqual([]);
  });

  it('answers an org that never set thresholds with an empty list', async () => {
    const orgId = await newOrg();
    expect(parseBody(await getAlerts(orgId)).thresholds).toEqual([]);
  });

  it('refuses thresholds for an org that does not exist, and reads none: 404', async () => {
    const put = await putAlerts('org-alerts-missing', { thresholds });
    expect(put.statusCode).toBe(404);
    expect((await getAlerts('org-alerts-missing')).statusCode).toBe(404);
  });

  const one = (fields: Record<string, unknown>) => ({ thresholds: [{ id: 't1', scope: { kind: 'org' }, percent: 80, ...fields }] });
  it.each([
    ['both cu and percent', one({ cu: 10 }), 'thresholds.0.cu'],
    ['neither cu nor percent', one({ percent: undefined }), 'thresholds.0.cu'],
    ['a percent of 0', one({ percent: 0 }), 'thresholds.0.percent'],
    ['a percent above 100', one({ percent: 101 }), 'thresholds.0.percent'],
    ['a negative cu', one({ percent: undefined, cu: -1 }), 'thresholds.0.cu'],
    ['a pool scope with an id', one({ scope: { kind: 'org', id: 'x' } }), 'thresholds.0.scope.id'],
    ['a project scope without an id', one({ scope: { kind: 'project' } }), 'thresholds.0.scope.id'],
    ['an unknown scope kind', one({ scope: { kind: 'team', id: 'x' } }), 'thresholds.0.scope.kind'],
    ['an id holding the key separator', one({ id: 'a#b' }), 'thresholds.0.id'],
    ['an unknown field', one({ email: 'x@example.com' }), 'thresholds.0.email'],
    ['a repeated id', { thresholds: [thresholds[0], { ...thresholds[1], id: 'pool-80' }] }, 'thresholds.1.id'],
    ['more than 50 thresholds', { thresholds: Array.from({ length: 51 }, (_, index) => ({ id: `t${index}`, scope: { kind: 'org' }, cu: index + 1 })) }, 'thresholds'],
    ['no list', {}, 'thresholds'],
  ])('refuses a list with %s: 400 naming the field, nothing written', async (_name, body, field) => {
    const orgId = await newOrg();
    const before = await ledger.scanAll();
    const response = await putAlerts(orgId, body);
    const answer = parseBody(response);
    expect({ status: response.statusCode, code: answer.error?.code, field: answer.error?.field }).toEqual({ status: 400, code: 'validation_failed', field });
    expect(await ledger.scanAll()).toEqual(before);
  });

  it('lets the org\'s admins set and read them with a person token; project admins, contributors and other orgs\' admins get 403 and change nothing', async () => {
    const orgId = await newOrg();
    const other = await newOrg();
    await putMember({ orgId, id: 'olga', role: 'org_admin' }, ledger.deps);
    await putMember({ orgId, id: 'pat', role: 'project_admin', adminOfProjectIds: ['web'] }, ledger.deps);
    await putMember({ orgId: other, id: 'otto', role: 'org_admin' }, ledger.deps);
    const asPerson = (routeKey: string, userId: string, callerOrg: string, body?: unknown) =>
      invoke(readerEvent(routeKey, { orgId: callerOrg, userId }, { pathParameters: { orgId }, body }));

    const put = await asPerson('PUT /v1/orgs/{orgId}/alerts', 'olga', orgId, { thresholds });
    expect(put.statusCode).toBe(200);
    expect(parseBody(await asPerson('GET /v1/orgs/{orgId}/alerts', 'olga', orgId)).thresholds).toEqual(thresholds);

    const before = await ledger.scanAll();
    for (const [userId, callerOrg] of [['pat', orgId], ['alice', orgId], ['otto', other]] as const) {
      expect([userId, (await asPerson('PUT /v1/orgs/{orgId}/alerts', userId, callerOrg, { thresholds: [] })).statusCode]).toEqual([userId, 403]);
      expect([userId, (await asPerson('GET /v1/orgs/{orgId}/alerts', userId, callerOrg)).statusCode]).toEqual([userId, 403]);
    }
    expect(await ledger.scanAll()).toEqual(before);
  });
});
