// People's admin writes through the people-admin routes (the real middy stack) on DynamoDB Local: an org admin sets,
// raises and removes any cap and the default limit, a project admin only their own projects' caps; each change is
// logged with the person who made it and governs the very next consume; every refusal changes nothing.

import { beforeAll, describe, expect, it } from 'vitest';
import { peopleAdminRoutes } from '../../functions/people-admin/people-admin.handler';
import { lambdaContext } from '../../infra/local/api-gateway';
import { areaHandler } from '../../shared/http/lambda';
import { putMember } from '../../shared/use-cases/provisioning';
import { readerEvent } from '../support/api-events';
import { createTestLedger, manualClock, parseBody, type TestLedger } from '../support/ledger-fixture';
import { consumeRequest, provisionOrg, tryConsume } from '../support/provision';

let ledger: TestLedger;
let invoke: (routeKey: string, userId: string, callerOrg: string, pathParameters: Record<string, string>, body: unknown) => Promise<{ status?: number; body: any }>;

beforeAll(async () => {
  ledger = await createTestLedger({ clock: manualClock('2026-02-20T10:00:00.000Z') });
  const handler = areaHandler(peopleAdminRoutes, () => ledger.deps);
  invoke = async (routeKey, userId, callerOrg, pathParameters, body) => {
    const answer = await handler(readerEvent(routeKey, { orgId: callerOrg, userId }, { pathParameters, body }), lambdaContext('people-admin'));
    return { status: answer.statusCode, body: parseBody(answer) };
  };
});

let orgSequence = 0;
/** An org with projects web and data, members olga (org admin), pat (admin of web), carl (contributor), a key of data. */
async function newOrg(): Promise<string> {
  const orgId = `org-people-${Date.now()}-${orgSequence++}`;
  await provisionOrg(ledger.deps, orgId, { allowanceCu: 1000, projects: { web: 200, data: null }, members: { carl: 50 }, apiKeys: { apiu_data: { projectId: 'data', capCu: null } } });
  await putMember({ orgId, id: 'olga', role: 'org_admin' }, ledger.deps);
  await putMember({ orgId, id: 'pat', role: 'project_admin', adminOfProjectIds: ['web'] }, ledger.deps);
  return orgId;
}

const PROJECT_CAP = 'PUT /v1/orgs/{orgId}/projects/{projectId}/cap';
const MEMBER_CAP = 'PUT /v1/orgs/{orgId}/members/{userId}/cap';
const KEY_CAP = 'PUT /v1/orgs/{orgId}/api-keys/{keyId}/cap';
const DEFAULT_LIMIT = 'PUT /v1/orgs/{orgId}/default-limit/cap';

/** The activity entries of scope and default-limit changes, with who made them. */
async function changeEntries(orgId: string) {
  const items = await ledger.scanAll();
  return items
    .filter((item) => item['entity'] === 'activity' && item['orgId'] === orgId && /_changed$|^default_limit_/.test(String(item['kind'])))
    .map((item) => ({ kind: item['kind'], scopeId: item['scopeId'], actor: item['actor'] }));
}

describe("people's admin writes", () => {
  it('lets an org admin set, raise and remove any cap and the default limit; each is logged with who made it', async () => {
    const orgId = await newOrg();
    expect(await invoke(PROJECT_CAP, 'olga', orgId, { orgId, projectId: 'data' }, { capCu: 30 })).toMatchObject({ status: 200, body: { projectId: 'data', capCu: 30, capSource: 'individual', usedCu: 0, status: 'ok' } });
    expect(await invoke(MEMBER_CAP, 'olga', orgId, { orgId, userId: 'carl' }, { capCu: 80 })).toMatchObject({ status: 200, body: { userId: 'carl', capCu: 80, role: 'contributor' } });
    expect(await invoke(KEY_CAP, 'olga', orgId, { orgId, keyId: 'apiu_data' }, { capCu: 5 })).toMatchObject({ status: 200, body: { keyId: 'apiu_data', projectId: 'data', capCu: 5 } });
    expect(await invoke(DEFAULT_LIMIT, 'olga', orgId, { orgId }, { capCu: 40 })).toEqual({ status: 200, body: { orgId, defaultLimitCu: 40 } });
    // Removing the key's own cap leaves the default limit in force.
    expect(await invoke(KEY_CAP, 'olga', orgId, { orgId, keyId: 'apiu_data' }, { capCu: null })).toMatchObject({ status: 200, body: { capCu: 40, capSource: 'default' } });

    const byOlga = { kind: 'person', id: 'olga' };
    expect(await changeEntries(orgId)).toEqual(
      expect.arrayContaining([
        { kind: 'project_changed', scopeId: 'data', actor: byOlga },
        { kind: 'member_changed', scopeId: 'carl', actor: byOlga },
        { kind: 'api_key_changed', scopeId: 'apiu_data', actor: byOlga },
        { kind: 'default_limit_set', scopeId: undefined, actor: byOlga },
      ]),
    );
  });

  it('governs the very next consume: a cap lowered below the usage refuses the next charge, raised again lets it through', async () => {
    const orgId = await newOrg();
    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'carl', projectId: 'web', cu: 10 }))).ok).toBe(true);
    expect(await invoke(PROJECT_CAP, 'pat', orgId, { orgId, projectId: 'web' }, { capCu: 10 })).toMatchObject({ status: 200, body: { usedCu: 10, capCu: 10, status: 'reached' } });
    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'carl', projectId: 'web', cu: 1 }))).ok).toBe(false);
    expect(await invoke(PROJECT_CAP, 'pat', orgId, { orgId, projectId: 'web' }, { capCu: 12 })).toMatchObject({ status: 200, body: { capCu: 12, status: 'warning' } });
    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'carl', projectId: 'web', cu: 1 }))).ok).toBe(true);
    expect(await changeEntries(orgId)).toEqual([
      { kind: 'project_changed', scopeId: 'web', actor: { kind: 'person', id: 'pat' } },
      { kind: 'project_changed', scopeId: 'web', actor: { kind: 'person', id: 'pat' } },
    ]);
  });

  it.each([
    ["a project admin, another project's cap", PROJECT_CAP, 'pat', { projectId: 'data' }],
    ["a project admin, a member's cap", MEMBER_CAP, 'pat', { userId: 'carl' }],
    ["a project admin, a key's cap, even in their project's org", KEY_CAP, 'pat', { keyId: 'apiu_data' }],
    ['a project admin, the default limit', DEFAULT_LIMIT, 'pat', {}],
    ['a contributor, a project cap', PROJECT_CAP, 'carl', { projectId: 'web' }],
    ['a contributor, their own cap', MEMBER_CAP, 'carl', { userId: 'carl' }],
    ['someone the org does not know', PROJECT_CAP, 'stranger', { projectId: 'web' }],
  ])('refuses %s: 403, nothing changed', async (_name, routeKey, userId, path) => {
    const orgId = await newOrg();
    const before = await ledger.scanAll();
    expect(await invoke(routeKey, userId, orgId, { orgId, ...path }, { capCu: 1 })).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await ledger.scanAll()).toEqual(before);
  });

  it("refuses another org's admin (the org comes from the token, not the path): 403, nothing changed", async () => {
    const orgId = await newOrg();
    const other = await newOrg();
    const before = await ledger.scanAll();
    expect((await invoke(PROJECT_CAP, 'olga', other, { orgId, projectId: 'web' }, { capCu: 1 })).status).toBe(403);
    expect(await ledger.scanAll()).toEqual(before);
  });

  it.each([
    ['an unknown project: 404', PROJECT_CAP, { projectId: 'nope' }, { capCu: 1 }, 404, 'scope_not_found', 'projectId'],
    ['an unknown member: 404', MEMBER_CAP, { userId: 'nobody' }, { capCu: 1 }, 404, 'scope_not_found', 'userId'],
    ['an unknown key: 404', KEY_CAP, { keyId: 'apiu_none' }, { capCu: 1 }, 404, 'scope_not_found', 'keyId'],
    ['a negative cap: 400', PROJECT_CAP, { projectId: 'web' }, { capCu: -1 }, 400, 'validation_failed', 'capCu'],
    ['a cap with four decimals: 400', PROJECT_CAP, { projectId: 'web' }, { capCu: 1.0001 }, 400, 'validation_failed', 'capCu'],
    ['no cap given: 400', PROJECT_CAP, { projectId: 'web' }, {}, 400, 'validation_failed', 'capCu'],
    ['another field: 400', PROJECT_CAP, { projectId: 'web' }, { capCu: 1, role: 'org_admin' }, 400, 'validation_failed', 'role'],
  ])('refuses %s, naming the field, nothing changed', async (_name, routeKey, path, body, status, code, field) => {
    const orgId = await newOrg();
    const before = await ledger.scanAll();
    const answer = await invoke(routeKey, 'olga', orgId, { orgId, ...path }, body);
    expect({ status: answer.status, code: answer.body.error?.code, field: answer.body.error?.field }).toEqual({ status, code, field });
    expect(await ledger.scanAll()).toEqual(before);
  });
});
