// Managing analytics keys on DynamoDB Local, through the real middy stack: the service (payload v2) and org admins
// (payload v1) create, list, rotate and revoke; nobody else may. The listing and the activity entries follow every
// change; the checks see rotations and revocations; a ledger write that fails undoes what is safe to undo; two
// rotations at once both answer, and only the later secret works. The key store is the runner's (in memory).

import type { Context } from 'aws-lambda';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { analyticsKeyRoutes, type AnalyticsKeyDependencies } from '../../functions/analytics/analytics-keys.handler';
import { localKeyStore, localPepper } from '../../shared/adapters/local/file-key-store';
import { KEY_ID_PATTERN, MAX_GRACE_SECONDS, SECRET_PATTERN, newKeyId, newSecret } from '../../shared/domain/analytics-keys';
import { toMilli } from '../../shared/domain/compute-units';
import { areaHandler } from '../../shared/http/lambda';
import type { GatewayEvent } from '../../shared/http/principal';
import type { AnalyticsKeyStore } from '../../shared/ports/analytics-keys';
import { MAX_LIVE_KEYS_PER_ORG, type KeyVault } from '../../shared/use-cases/analytics-keys';
import { KeyCheckMemory, verifyAnalyticsKey } from '../../shared/use-cases/analytics-key-auth';
import { provisionOrg } from '../../shared/use-cases/billing';
import { putMember } from '../../shared/use-cases/provisioning';
import { readerEvent, serviceEvent, type Reader } from '../support/api-events';
import { createTestLedger, manualClock, parseBody, type TestLedger } from '../support/ledger-fixture';

const clock = manualClock('2026-05-01T08:00:00.000Z');
let ledger: TestLedger;
let vault: KeyVault;
/** Every id the key store was asked to create, so a test can look for one that must be gone. */
let createdIds: string[];
let handler: (event: GatewayEvent, context: Context) => Promise<{ statusCode?: number; body?: string; headers?: Record<string, unknown> }>;

const KEYS = 'POST /v1/orgs/{orgId}/analytics-keys';
const LIST = 'GET /v1/orgs/{orgId}/analytics-keys';
const ROTATE = 'POST /v1/orgs/{orgId}/analytics-keys/{keyId}/rotate';
const REVOKE = 'DELETE /v1/orgs/{orgId}/analytics-keys/{keyId}';

type Caller = 'service' | Reader;

function event(routeKey: string, caller: Caller, options: { orgId?: string; keyId?: string; body?: unknown; actingUser?: string } = {}): GatewayEvent {
  const pathParameters = { orgId: options.orgId ?? 'acme', ...(options.keyId ? { keyId: options.keyId } : {}) };
  if (caller === 'service') {
    return serviceEvent(routeKey, { pathParameters, ...(options.body === undefined ? {} : { body: options.body }), ...(options.actingUser ? { headers: { 'x-acting-user': options.actingUser } } : {}) });
  }
  return readerEvent(routeKey, caller, { pathParameters, ...(options.body === undefined ? {} : { body: options.body }) });
}

async function call(routeKey: string, caller: Caller, options: Parameters<typeof event>[2] = {}) {
  const result = await handler(event(routeKey, caller, options), {} as Context);
  return { status: result.statusCode, body: parseBody(result), headers: result.headers ?? {} };
}

const olga = { orgId: 'acme', userId: 'olga' };
const byRole = {
  projectAdmin: { orgId: 'acme', userId: 'pat' },
  contributor: { orgId: 'acme', userId: 'cora' },
  viewer: { orgId: 'acme', userId: 'vic' },
  stranger: { orgId: 'acme', userId: 'nobody' },
  otherOrgAdmin: { orgId: 'other', userId: 'oscar' },
  key: { orgId: 'acme', keyId: 'cuak_0000000000000000' },
};

/** Whether `secret` proves `keyId` now (a fresh process: no cache). */
async function works(keyId: string, secret: string): Promise<boolean> {
  return (await verifyAnalyticsKey({ keyId, secret }, { vault, store: ledger.deps.store, clock, memory: new KeyCheckMemory(0) })) !== undefined;
}

const listed = async (orgId = 'acme') => (await call(LIST, 'service', { orgId })).body.items as Record<string, unknown>[];
const entries = async (kind: string) => (await ledger.deps.store.listEvents('acme', 1000, null)).items.filter((entry) => entry.kind === kind);
const create = async (name: string, caller: Caller = 'service') => (await call(KEYS, caller, { body: { name } })).body as { keyId: string; secret: string };

beforeAll(async () => {
  ledger = await createTestLedger({ clock });
  const deps = ledger.deps;
  for (const orgId of ['acme', 'other', 'full']) await provisionOrg({ orgId, planName: 'pro', allowanceMilli: toMilli(1000), billingAnchor: '2026-05-01' }, deps);
  for (const [orgId, id, role, projects] of [
    ['acme', 'olga', 'org_admin', []],
    ['acme', 'pat', 'project_admin', ['web']],
    ['acme', 'cora', 'contributor', []],
    ['acme', 'vic', 'viewer', []],
    ['other', 'oscar', 'org_admin', []],
  ] as const) {
    await putMember({ orgId, id, role, adminOfProjectIds: projects }, deps);
  }
}, 60_000);

beforeEach(() => {
  clock.set('2026-05-01T08:00:00.000Z');
  createdIds = [];
  const keys = localKeyStore(undefined);
  const recorded: AnalyticsKeyStore = { ...keys, create: (record) => (createdIds.push(record.keyId), keys.create(record)) };
  vault = { keys: recorded, pepper: localPepper(undefined) };
  handler = areaHandler<AnalyticsKeyDependencies, GatewayEvent>(analyticsKeyRoutes, () => ({ ...ledger.deps, vault }));
});

describe('creating and listing', () => {
  it('answers the secret once (no-store), lists the key without it or its digest, and logs the creation with who asked', async () => {
    const created = await call(KEYS, 'service', { body: { name: 'finance-bi-monthly' }, actingUser: 'olga' });

    expect(created.status).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.body).toEqual({ keyId: expect.stringMatching(KEY_ID_PATTERN), name: 'finance-bi-monthly', secret: expect.stringMatching(SECRET_PATTERN), createdAt: '2026-05-01T08:00:00.000Z' });
    expect(await works(created.body.keyId, created.body.secret)).toBe(true);
    const items = await listed();
    const line = items.find((item) => item.keyId === created.body.keyId);
    expect(line).toEqual({
      keyId: created.body.keyId,
      name: 'finance-bi-monthly',
      status: 'active',
      secretPrefix: created.body.secret.slice(0, 9),
      createdAt: '2026-05-01T08:00:00.000Z',
      lastUsedAt: expect.any(String),
      rotatedAt: null,
      graceEndsAt: null,
      revokedAt: null,
    });
    const digest = (await vault.keys.get(created.body.keyId))!.record.secrets[0]!.digest;
    expect(JSON.stringify(items)).not.toContain(created.body.secret);
    expect(JSON.stringify(items)).not.toContain(digest);
    const entry = (await entries('analytics_key_created')).find((candidate) => 'keyId' in candidate && candidate.keyId === created.body.keyId);
    expect(entry).toMatchObject({ actor: { kind: 'service', id: 'platform', actingUserId: 'olga' }, name: 'finance-bi-monthly' });
    expect(JSON.stringify(await ledger.scanAll())).not.toContain(created.body.secret);
  });

  it('lets an org admin of the org manage keys as a person, and logs them as the actor', async () => {
    const created = await call(KEYS, olga, { body: { name: 'olga-bi' } });
    expect(created.status).toBe(201);
    expect((await call(LIST, olga)).body.items.map((item: { keyId: string }) => item.keyId)).toContain(created.body.keyId);
    const entry = (await entries('analytics_key_created')).find((candidate) => 'keyId' in candidate && candidate.keyId === created.body.keyId);
    expect(entry).toMatchObject({ actor: { kind: 'person', id: 'olga' } });
  });

  it.each(Object.entries(byRole))('refuses %s with 403 on every key route, and writes nothing', async (_name, caller) => {
    const { keyId } = await create('target');
    const before = await ledger.scanAll();
    for (const [routeKey, options] of [
      [KEYS, { body: { name: 'sneaky' } }],
      [LIST, {}],
      [ROTATE, { keyId, body: {} }],
      [REVOKE, { keyId }],
    ] as const) {
      const answer = await call(routeKey, caller, options);
      expect([routeKey, answer.status, answer.body.error.code]).toEqual([routeKey, 403, 'forbidden']);
      expect(JSON.stringify(answer.body)).not.toContain(keyId);
    }
    expect(await ledger.scanAll()).toEqual(before);
  });

  it('answers 404 for an org that is not provisioned, and 400 naming the field for a bad name or key id', async () => {
    expect((await call(KEYS, 'service', { orgId: 'ghost', body: { name: 'x' } })).body.error).toMatchObject({ code: 'org_not_found' });
    expect((await call(LIST, 'service', { orgId: 'ghost' })).body.error).toMatchObject({ code: 'org_not_found' });
    for (const body of [{}, { name: '' }, { name: 'x'.repeat(101) }, { name: 'ok', extra: 1 }, { name: 7 }]) {
      const answer = await call(KEYS, 'service', { body });
      expect([answer.status, answer.body.error.code]).toEqual([400, 'validation_failed']);
      expect(['name', 'extra']).toContain(answer.body.error.field);
    }
    const badKey = await call(REVOKE, 'service', { keyId: 'apiu_not-a-key' });
    expect([badKey.status, badKey.body.error.field]).toEqual([400, 'keyId']);
  });

  it(`holds at most ${MAX_LIVE_KEYS_PER_ORG} live keys per org: one more is 409 until one is revoked`, async () => {
    const keys: string[] = [];
    for (let index = 0; index < MAX_LIVE_KEYS_PER_ORG; index++) keys.push((await call(KEYS, 'service', { orgId: 'full', body: { name: `k${index}` } })).body.keyId);
    const refused = await call(KEYS, 'service', { orgId: 'full', body: { name: 'one too many' } });
    expect([refused.status, refused.body.error.code, refused.body.error.field]).toEqual([409, 'analytics_key_limit_reached', 'name']);
    expect((await call(REVOKE, 'service', { orgId: 'full', keyId: keys[0]! })).status).toBe(200);
    expect((await call(KEYS, 'service', { orgId: 'full', body: { name: 'room again' } })).status).toBe(201);
  });
});

describe('rotating and revoking', () => {
  it('keeps the old secret for the grace, then only the new one; the list and the log say when the grace ends', async () => {
    const { keyId, secret: first } = await create('bi');
    clock.set('2026-05-01T09:00:00.000Z');
    const rotated = await call(ROTATE, olga, { keyId, body: { graceSeconds: 3600 } });

    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ keyId, name: 'bi', rotatedAt: '2026-05-01T09:00:00.000Z', previousSecretValidUntil: '2026-05-01T10:00:00.000Z' });
    const second = rotated.body.secret as string;
    expect([await works(keyId, first), await works(keyId, second)]).toEqual([true, true]);
    expect((await listed()).find((item) => item.keyId === keyId)).toMatchObject({ rotatedAt: '2026-05-01T09:00:00.000Z', graceEndsAt: '2026-05-01T10:00:00.000Z', secretPrefix: second.slice(0, 9) });
    const entry = (await entries('analytics_key_rotated')).find((candidate) => 'keyId' in candidate && candidate.keyId === keyId);
    expect(entry).toMatchObject({ graceEndsAt: '2026-05-01T10:00:00.000Z', actor: { kind: 'person', id: 'olga' } });

    clock.set('2026-05-01T10:00:00.000Z');
    expect([await works(keyId, first), await works(keyId, second)]).toEqual([false, true]);
    expect((await listed()).find((item) => item.keyId === keyId)?.graceEndsAt).toBeNull();
  });

  it('ends the old secret at once without a grace (no body, or 0), and refuses a grace beyond 7 days', async () => {
    const { keyId, secret: first } = await create('bi');
    const rotated = await call(ROTATE, 'service', { keyId });
    expect(rotated.body.previousSecretValidUntil).toBeNull();
    expect([await works(keyId, first), await works(keyId, rotated.body.secret)]).toEqual([false, true]);
    const again = await call(ROTATE, 'service', { keyId, body: { graceSeconds: 0 } });
    expect([await works(keyId, rotated.body.secret), await works(keyId, again.body.secret)]).toEqual([false, true]);

    for (const graceSeconds of [MAX_GRACE_SECONDS + 1, -1, 1.5, '60']) {
      const refused = await call(ROTATE, 'service', { keyId, body: { graceSeconds } });
      expect([refused.status, refused.body.error.field]).toEqual([400, 'graceSeconds']);
    }
    expect(await works(keyId, again.body.secret)).toBe(true);
  });

  it('revokes at once and for good: a second DELETE answers the same and logs nothing more; rotating it is 409', async () => {
    const { keyId, secret } = await create('bi');
    clock.set('2026-05-01T11:00:00.000Z');
    const first = await call(REVOKE, olga, { keyId });
    clock.set('2026-05-01T12:00:00.000Z');
    const second = await call(REVOKE, 'service', { keyId });

    expect([first.status, first.body]).toEqual([200, { keyId, name: 'bi', status: 'revoked', revokedAt: '2026-05-01T11:00:00.000Z' }]);
    expect(second.body).toEqual(first.body);
    expect(await works(keyId, secret)).toBe(false);
    expect((await entries('analytics_key_revoked')).filter((entry) => 'keyId' in entry && entry.keyId === keyId)).toHaveLength(1);
    expect((await listed()).find((item) => item.keyId === keyId)).toMatchObject({ status: 'revoked', revokedAt: '2026-05-01T11:00:00.000Z' });
    const rotate = await call(ROTATE, 'service', { keyId });
    expect([rotate.status, rotate.body.error.code]).toEqual([409, 'analytics_key_revoked']);
  });

  it("answers 404 for a key that does not exist or is another org's, the same either way", async () => {
    const { keyId: othersKey } = await (async () => (await call(KEYS, 'service', { orgId: 'other', body: { name: 'theirs' } })).body)();
    for (const keyId of [newKeyId(), othersKey]) {
      for (const routeKey of [ROTATE, REVOKE]) {
        const answer = await call(routeKey, 'service', { keyId });
        expect([answer.status, answer.body.error.code, answer.body.error.field]).toEqual([404, 'analytics_key_not_found', 'keyId']);
      }
    }
  });

  it('of two rotations at once, both answer and the later one wins: exactly one new secret works, both are logged', async () => {
    const { keyId, secret } = await create('bi');
    const [a, b] = await Promise.all([call(ROTATE, 'service', { keyId }), call(ROTATE, olga, { keyId })]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const working = [await works(keyId, a.body.secret), await works(keyId, b.body.secret)];
    expect(working.filter(Boolean)).toHaveLength(1);
    expect(await works(keyId, secret)).toBe(false);
    expect((await entries('analytics_key_rotated')).filter((entry) => 'keyId' in entry && entry.keyId === keyId)).toHaveLength(2);
    expect((await vault.keys.get(keyId))!.record.version).toBe(3);
  });
});

describe('when the ledger write fails after the key store changed', () => {
  const refusal = () => Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client' });

  it('a creation discards the key it stored: no record, no listing, a 500 with no secret', async () => {
    const before = (await listed()).length;
    ledger.probe.inject('TransactWriteItemsCommand', { when: 'before', error: refusal });
    const answer = await call(KEYS, 'service', { body: { name: 'doomed' } });

    expect(answer.status).toBe(500);
    expect(JSON.stringify(answer.body)).not.toMatch(/cuas_/);
    expect(createdIds).toHaveLength(1);
    expect(await vault.keys.get(createdIds[0]!)).toBeUndefined();
    expect(await listed()).toHaveLength(before);
  });

  it('a rotation puts the old record back: the old secret keeps working, nothing new is listed or logged', async () => {
    const { keyId, secret } = await create('bi');
    const stored = (await vault.keys.get(keyId))!.record;
    ledger.probe.inject('TransactWriteItemsCommand', { when: 'before', error: refusal });
    const answer = await call(ROTATE, 'service', { keyId });

    expect(answer.status).toBe(500);
    // The old secrets back, as a newer version (versions only grow, so the listing follows the next change).
    expect((await vault.keys.get(keyId))!.record).toEqual({ ...stored, version: stored.version + 2 });
    expect(await works(keyId, secret)).toBe(true);
    expect((await listed()).find((item) => item.keyId === keyId)?.rotatedAt).toBeNull();
  });

  it('a revocation stays (the key is refused at once); repeating the DELETE lists and logs it, once', async () => {
    const { keyId, secret } = await create('bi');
    ledger.probe.inject('TransactWriteItemsCommand', { when: 'before', error: refusal });
    expect((await call(REVOKE, 'service', { keyId })).status).toBe(500);
    expect(await works(keyId, secret)).toBe(false);
    expect((await listed()).find((item) => item.keyId === keyId)?.status).toBe('active');

    expect((await call(REVOKE, 'service', { keyId })).status).toBe(200);
    expect((await listed()).find((item) => item.keyId === keyId)?.status).toBe('revoked');
    expect((await entries('analytics_key_revoked')).filter((entry) => 'keyId' in entry && entry.keyId === keyId)).toHaveLength(1);
  });
});

describe('what checks write to the ledger', () => {
  it('lastUsedAt: the first use of a minute across processes, not every call', async () => {
    const { keyId, secret } = await create('bi');
    const processes = [new KeyCheckMemory(0), new KeyCheckMemory(0)];
    const check = (memory: KeyCheckMemory) => verifyAnalyticsKey({ keyId, secret }, { vault, store: ledger.deps.store, clock, memory });
    const lastUsed = async () => (await listed()).find((item) => item.keyId === keyId)?.lastUsedAt;

    clock.set('2026-05-01T08:10:00.000Z');
    await check(processes[0]!);
    clock.set('2026-05-01T08:10:30.000Z');
    await check(processes[1]!);
    await check(processes[0]!);
    expect(await lastUsed()).toBe('2026-05-01T08:10:00.000Z');
    clock.set('2026-05-01T08:11:01.000Z');
    await check(processes[1]!);
    expect(await lastUsed()).toBe('2026-05-01T08:11:01.000Z');
  });

  it('failed authentication: one feed entry per key and minute, counting the attempts of every process', async () => {
    const { keyId } = await create('bi');
    const processes = [new KeyCheckMemory(0), new KeyCheckMemory(0)];
    clock.set('2026-05-01T08:20:05.000Z');
    for (let attempt = 0; attempt < 4; attempt++) {
      for (const memory of processes) expect(await verifyAnalyticsKey({ keyId, secret: newSecret() }, { vault, store: ledger.deps.store, clock, memory })).toBeUndefined();
    }
    // The counts are written after the answers.
    for (const memory of processes) await memory.settled();
    const burst = (await entries('analytics_key_auth_failed')).filter((entry) => 'keyId' in entry && entry.keyId === keyId);
    expect(burst).toHaveLength(1);
    expect(burst[0]).toMatchObject({ windowStart: '2026-05-01T08:20:00.000Z', failures: 8, actor: { kind: 'analytics_key', id: keyId }, createdAt: '2026-05-01T08:20:05.000Z' });
  });
});
