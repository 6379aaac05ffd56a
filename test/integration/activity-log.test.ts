// The activity log records who made each admin write: the platform's backend, for the person its X-Acting-User
// header names. Runs the admin routes through the real middy stack on DynamoDB Local.

import { describe, expect, it } from 'vitest';
import { adminRoutes } from '../../functions/admin/admin.handler';
import type { LedgerDependencies } from '../../shared/composition';
import { toMilli } from '../../shared/domain/compute-units';
import { areaHandler } from '../../shared/http/lambda';
import { recordPlatformAction } from '../../shared/use-cases/activity';
import { consume } from '../../shared/use-cases/consume';
import { putApiKey, putMember, putProject, setDefaultLimit } from '../../shared/use-cases/provisioning';
import { listEvents } from '../../shared/use-cases/usage-views';
import { createTestLedger, manualClock, parseBody, serviceEvent, type TestLedger } from '../support/ledger-fixture';
import { consumeRequest, provisionOrg, settle } from '../support/provision';
import { connectionReset } from '../support/sdk-faults';

const TRANSACT = 'TransactWriteItemsCommand';

type Answer = { status: number | undefined; body: any };

/** The admin area on the test's table: a route called as the platform's backend, acting for `actingUser` if given. */
function adminArea(ledger: TestLedger) {
  const handler = areaHandler(adminRoutes, () => ledger.deps);
  return async (routeKey: string, pathParameters: Record<string, string>, body?: unknown, actingUser?: string): Promise<Answer> => {
    const headers = actingUser === undefined ? undefined : { 'x-acting-user': actingUser };
    const result = await handler(serviceEvent(routeKey, { pathParameters, ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) }), {} as never);
    return { status: result.statusCode, body: parseBody(result) };
  };
}

/** A fresh table with the admin area on it, an org id, and a clock at 10:00 that `at(minute)` moves on within the hour. */
async function adminSession(orgId: string) {
  const clock = manualClock('2026-02-01T10:00:00.000Z');
  const ledger = await createTestLedger({ clock });
  const at = (minute: number) => clock.set(`2026-02-01T10:${String(minute).padStart(2, '0')}:00.000Z`);
  return { ledger, clock, call: adminArea(ledger), org: { orgId }, at };
}

async function logOf(call: ReturnType<typeof adminArea>, orgId: string): Promise<any[]> {
  const answer = await call('GET /v1/orgs/{orgId}/events', { orgId });
  expect(answer.status).toBe(200);
  return answer.body.items;
}

describe('who made an admin write', () => {
  it('records the person X-Acting-User names on provisioning, plan changes and top-ups, and the service alone without it', async () => {
    const { call, org, at } = await adminSession('org-acting');

    expect((await call('PUT /v1/orgs/{orgId}', org, { plan: { name: 'pro', allowanceCu: 100 }, billingAnchor: '2026-01-15' }, 'olga')).status).toBe(200);
    at(1);
    expect((await call('PUT /v1/orgs/{orgId}/plan', org, { name: 'max', allowanceCu: 200, change: 'upgrade' }, 'olga@acme.example')).status).toBe(200);
    at(2);
    expect((await call('POST /v1/orgs/{orgId}/top-ups', org, { purchaseId: 'buy-1', cu: 10, expiresAt: '2026-03-01T00:00:00.000Z' })).status).toBe(201);

    const actors = (await logOf(call, 'org-acting')).map((entry) => [entry.kind, entry.actor]);
    expect(actors).toEqual([
      ['top_up_purchased', { kind: 'service', id: 'platform' }],
      ['plan_upgraded', { kind: 'service', id: 'platform', actingUserId: 'olga@acme.example' }],
      ['org_provisioned', { kind: 'service', id: 'platform', actingUserId: 'olga' }],
    ]);
  });
});

describe('changes to projects, members, API keys and the default limit', () => {
  it('logs each change with what it changed, before and after, and who made it; a PUT that changes nothing logs nothing', async () => {
    const { call, org, at } = await adminSession('org-changes');
    await call('PUT /v1/orgs/{orgId}', org, { plan: { name: 'pro', allowanceCu: 100 }, billingAnchor: '2026-01-15' });

    at(1);
    expect((await call('PUT /v1/orgs/{orgId}/projects/{projectId}', { ...org, projectId: 'web' }, { name: 'Website', capCu: 40 }, 'olga')).status).toBe(200);
    at(2);
    expect((await call('PUT /v1/orgs/{orgId}/members/{userId}', { ...org, userId: 'alice' }, { role: 'contributor', capCu: 30 }, 'olga')).status).toBe(200);
    at(3);
    expect((await call('PUT /v1/orgs/{orgId}/api-keys/{keyId}', { ...org, keyId: 'apiu_ci' }, { projectId: 'web', capCu: 20.5 })).status).toBe(200);
    at(4);
    await call('PUT /v1/orgs/{orgId}/projects/{projectId}', { ...org, projectId: 'web' }, { capCu: null }, 'bob');
    at(5);
    await call('PUT /v1/orgs/{orgId}/members/{userId}', { ...org, userId: 'alice' }, { role: 'project_admin', adminOfProjectIds: ['web', 'app'] }, 'bob');
    at(6);
    // The same settings again (the projects in another order): nothing changes, nothing is logged.
    await call('PUT /v1/orgs/{orgId}/members/{userId}', { ...org, userId: 'alice' }, { role: 'project_admin', adminOfProjectIds: ['app', 'web'], capCu: 30 }, 'bob');
    await call('PUT /v1/orgs/{orgId}/projects/{projectId}', { ...org, projectId: 'web' }, { name: 'Website' });
    at(7);
    await call('PUT /v1/orgs/{orgId}/default-limit', org, { capCu: 5 }, 'olga');
    at(8);
    await call('PUT /v1/orgs/{orgId}/default-limit', org, { capCu: 5 });
    at(9);
    expect((await call('PUT /v1/orgs/{orgId}/default-limit', org, { capCu: null })).body.defaultLimitCu).toBeNull();

    const log = (await logOf(call, 'org-changes')).map(({ entryId, orgId, ...entry }) => {
      expect([typeof entryId, orgId]).toEqual(['string', 'org-changes']);
      return entry;
    });
    const olga = { kind: 'service', id: 'platform', actingUserId: 'olga' };
    const bob = { ...olga, actingUserId: 'bob' };
    const service = { kind: 'service', id: 'platform' };
    expect(log.slice(0, -1)).toEqual([
      { kind: 'default_limit_removed', createdAt: '2026-02-01T10:09:00.000Z', actor: service, capCu: null, previousCapCu: 5 },
      { kind: 'default_limit_set', createdAt: '2026-02-01T10:07:00.000Z', actor: olga, capCu: 5, previousCapCu: null },
      {
        kind: 'member_changed',
        createdAt: '2026-02-01T10:05:00.000Z',
        actor: bob,
        scopeId: 'alice',
        projectId: null,
        changes: { role: { before: 'contributor', after: 'project_admin' }, adminOfProjectIds: { before: [], after: ['web', 'app'] } },
      },
      { kind: 'project_changed', createdAt: '2026-02-01T10:04:00.000Z', actor: bob, scopeId: 'web', projectId: 'web', changes: { capCu: { before: 40, after: null } } },
      {
        kind: 'api_key_created',
        createdAt: '2026-02-01T10:03:00.000Z',
        actor: service,
        scopeId: 'apiu_ci',
        projectId: 'web',
        changes: { capCu: { before: null, after: 20.5 }, projectId: { before: null, after: 'web' } },
      },
      {
        kind: 'member_added',
        createdAt: '2026-02-01T10:02:00.000Z',
        actor: olga,
        scopeId: 'alice',
        projectId: null,
        changes: { capCu: { before: null, after: 30 }, role: { before: null, after: 'contributor' } },
      },
      {
        kind: 'project_created',
        createdAt: '2026-02-01T10:01:00.000Z',
        actor: olga,
        scopeId: 'web',
        projectId: 'web',
        changes: { name: { before: null, after: 'Website' }, capCu: { before: null, after: 40 } },
      },
    ]);
    expect(log.at(-1)!.kind).toBe('org_provisioned');
  });

  it('logs a change to a member a consume registered as a change, from the settings it had', async () => {
    const clock = manualClock('2026-02-01T10:00:00.000Z');
    const ledger = await createTestLedger({ clock });
    await provisionOrg(ledger.deps, 'org-registered', { allowanceCu: 100 });
    await consume(consumeRequest('org-registered', { userId: 'apiu_bot', projectId: 'app', cu: 1 }), ledger.deps);
    clock.set('2026-02-01T10:01:00.000Z');

    await putApiKey({ orgId: 'org-registered', id: 'apiu_bot', projectId: 'web', capMilli: toMilli(2) }, ledger.deps);

    const { items } = await listEvents('org-registered', { limit: 10, cursor: null }, ledger.deps);
    expect(items[0]).toMatchObject({
      kind: 'api_key_changed',
      scopeId: 'apiu_bot',
      projectId: 'web',
      changes: { capMilli: { before: null, after: 2000 }, projectId: { before: 'app', after: 'web' } },
    });
  });
});

describe('a change and its entry are written together', () => {
  const failing = () => Object.assign(new Error('internal failure'), { name: 'InternalServerError', $fault: 'server' });

  /** Every item of the org (its own, its scopes, its log), to compare before and after. */
  async function itemsOf(ledger: TestLedger, orgId: string) {
    return (await ledger.scanAll()).filter((item) => String(item.pk).startsWith(`ORG#${orgId}#`) || item.pk === `ORG#${orgId}`);
  }

  const scope = (deps: LedgerDependencies, kind: 'project' | 'member' | 'api_key', id: string) => deps.store.getScope('org-atomic', { kind, id });
  it.each([
    ['a new project', (deps: LedgerDependencies) => putProject({ orgId: 'org-atomic', id: 'p-new', capMilli: toMilli(5) }, deps), async (deps: LedgerDependencies) => (await scope(deps, 'project', 'p-new')).capMilli],
    ['a changed member', (deps: LedgerDependencies) => putMember({ orgId: 'org-atomic', id: 'ana', role: 'viewer', capMilli: toMilli(1) }, deps), async (deps: LedgerDependencies) => (await scope(deps, 'member', 'ana')).role],
    ['a new API key', (deps: LedgerDependencies) => putApiKey({ orgId: 'org-atomic', id: 'apiu_new', projectId: 'p1', capMilli: null }, deps), async (deps: LedgerDependencies) => (await scope(deps, 'api_key', 'apiu_new')).projectId],
    ['the default limit', (deps: LedgerDependencies) => setDefaultLimit({ orgId: 'org-atomic', capMilli: toMilli(9) }, deps), async (deps: LedgerDependencies) => (await deps.store.getOrg('org-atomic'))!.defaultCapMilli],
  ])('writes neither %s nor its entry when the transaction fails, and both once when it is retried', async (name, change, applied) => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-atomic', { allowanceCu: 100, projects: { p1: null }, members: { ana: 3 } });
    const before = await itemsOf(ledger, 'org-atomic');
    ledger.probe.inject(TRANSACT, ...Array.from({ length: 40 }, () => ({ when: 'before' as const, error: failing })));

    await expect(change(ledger.deps)).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(await itemsOf(ledger, 'org-atomic')).toEqual(before);

    // The write commits but its answer is lost: the retry finds it done, and the log holds one entry for it.
    ledger.probe.reset();
    ledger.probe.inject(TRANSACT, { when: 'after', error: connectionReset });
    await change(ledger.deps);
    await change(ledger.deps);
    const added = (await itemsOf(ledger, 'org-atomic')).filter((item) => !before.some((old) => old.pk === item.pk && old.sk === item.sk));
    expect(added.filter((item) => item.entity === 'activity')).toHaveLength(1);
    expect(await applied(ledger.deps)).toEqual({ 'a new project': 5000, 'a changed member': 'viewer', 'a new API key': 'p1', 'the default limit': 9000 }[name]);
  });

  it('records each of many racing changes to one member once, each from the settings the one before it left', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-race', { allowanceCu: 100, members: { ana: 100 } });
    const caps = [1, 2, 3, 4, 5, 6, 7, 8];

    await Promise.all(caps.map((cap) => settle(() => putMember({ orgId: 'org-race', id: 'ana', role: 'contributor', capMilli: toMilli(cap) }, ledger.anotherProcess()))));

    const { items } = await listEvents('org-race', { limit: 100, cursor: null }, ledger.deps);
    const transitions = new Map(
      items.flatMap((entry) => (entry.kind === 'member_changed' ? [[entry.changes.capMilli!.before, entry.changes.capMilli!.after] as const] : [])),
    );
    expect(transitions.size).toBe(caps.length);
    // One chain from the first cap through every racing one: no change was recorded from a "before" it did not see.
    const chain = [toMilli(100)];
    while (transitions.has(chain.at(-1)!)) chain.push(transitions.get(chain.at(-1)!)!);
    expect(chain).toHaveLength(caps.length + 1);
    expect(new Set(chain.slice(1))).toEqual(new Set(caps.map(toMilli)));
    expect((await ledger.deps.store.getScope('org-race', { kind: 'member', id: 'ana' })).capMilli).toBe(chain.at(-1));
  });
});

describe('POST /v1/activity: the platform\'s own actions', () => {
  const post = (call: ReturnType<typeof adminArea>, body: Record<string, unknown>, actingUser?: string) => call('POST /v1/activity', {}, body, actingUser);

  it('logs an action at its own time, answers the same entry to the same body again, and refuses the eventId with another body', async () => {
    const { ledger, call, org, at } = await adminSession('org-actions');
    await call('PUT /v1/orgs/{orgId}', org, { plan: { name: 'pro', allowanceCu: 100 }, billingAnchor: '2026-01-15' });
    at(30);
    const deleted = { eventId: 'ev-1', orgId: 'org-actions', projectId: 'web', userId: 'alice', action: 'asset.deleted', subject: 'hero.png', at: '2026-02-01T12:20:00+02:00' };

    const first = await post(call, deleted, 'alice');
    const again = await post(call, { ...deleted, at: '2026-02-01T10:20:00.000Z' });
    const trained = await post(call, { eventId: 'ev-2', orgId: 'org-actions', userId: 'bob', action: 'model.trained' });
    const before = await ledger.scanAll();
    const reused = await post(call, { ...deleted, subject: 'other.png' });

    expect(first).toEqual({
      status: 201,
      body: { id: expect.stringMatching(/^evt_/), eventId: 'ev-1', orgId: 'org-actions', action: 'asset.deleted', userId: 'alice', projectId: 'web', subject: 'hero.png', at: '2026-02-01T10:20:00.000Z', replayed: false },
    });
    expect(again).toEqual({ status: 200, body: { ...first.body, replayed: true } });
    expect(trained).toMatchObject({ status: 201, body: { projectId: null, subject: null, at: '2026-02-01T10:30:00.000Z', replayed: false } });
    expect(reused).toMatchObject({ status: 409, body: { error: { code: 'idempotency_key_reused', field: 'eventId' } } });
    expect(await ledger.scanAll()).toEqual(before);
    // In the log by its own time: after the provisioning, before the action posted without `at` (now, 10:30).
    expect((await logOf(call, 'org-actions')).map((entry) => [entry.kind, entry.action ?? null, entry.createdAt, entry.actor])).toEqual([
      ['platform_action', 'model.trained', '2026-02-01T10:30:00.000Z', { kind: 'service', id: 'platform' }],
      ['platform_action', 'asset.deleted', '2026-02-01T10:20:00.000Z', { kind: 'service', id: 'platform', actingUserId: 'alice' }],
      ['org_provisioned', null, '2026-02-01T10:00:00.000Z', { kind: 'service', id: 'platform' }],
    ]);
  });

  it('refuses an action for an org that was never provisioned, and one dated in the future', async () => {
    const { ledger, call, org } = await adminSession('org-actions-refused');
    await call('PUT /v1/orgs/{orgId}', org, { plan: { name: 'pro', allowanceCu: 100 }, billingAnchor: '2026-01-15' });
    const before = await ledger.scanAll();

    expect(await post(call, { eventId: 'ev-1', orgId: 'org-nobody', userId: 'alice', action: 'asset.edited' })).toMatchObject({ status: 404, body: { error: { code: 'org_not_found', field: 'orgId' } } });
    expect(await post(call, { eventId: 'ev-1', orgId: org.orgId, userId: 'alice', action: 'asset.edited', at: '2026-02-01T10:06:00Z' })).toMatchObject({
      status: 400,
      body: { error: { code: 'validation_failed', field: 'at' } },
    });
    expect(await ledger.scanAll()).toEqual(before);
  });

  it('logs an action posted many times at once exactly once, and answers every post with that one entry', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-action-race', { allowanceCu: 100 });
    const request = { orgId: 'org-action-race', eventId: 'ev-race', userId: 'alice', action: 'asset.deleted', subject: 'hero.png' };
    const unknownOutcomes = { count: 0 };

    const answers = await Promise.all(Array.from({ length: 12 }, () => settle(() => recordPlatformAction(request, ledger.anotherProcess()), unknownOutcomes)));

    const entries = (await ledger.scanAll()).filter((item) => item.entity === 'activity' && item.kind === 'platform_action');
    expect(entries).toHaveLength(1);
    expect(new Set(answers.map((answer) => answer.entry.entryId))).toEqual(new Set([entries[0]!.entryId]));
    // Exactly one post wrote it, unless that post's answer was lost to a 503: then its retry heard a replay too.
    const firstAnswers = answers.filter((answer) => !answer.replayed).length;
    if (unknownOutcomes.count === 0) expect(firstAnswers).toBe(1);
    else expect(firstAnswers).toBeLessThanOrEqual(1);
  });
});
