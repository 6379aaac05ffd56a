// End to end: an analytics key's life on the local runner, and its secrets' discretion. Created by an org admin and by
// the service, used with its secret and with wrong ones, rotated with a grace (the runner's clock moved past it) and
// without, revoked (refused at once: no cache locally); the activity feed tells each step. All along, the whole
// output of the runner and every answer are kept: a secret shows in the answer that issued it and nowhere else, and
// not on disk either (the table's and the key store's files under DATA_DIR).

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newSecret, secretHint } from '../../shared/domain/analytics-keys';
import { basicAuthorization, createAnalyticsKey, devIssuerForSuite, provision, type IssuedKey } from '../support/analytics-callers';
import { client, runnerForSuite, type Json, type Reply } from '../support/runner-http';

const ORG = 'lumen';
const ADMIN = 'olga';
const GRACE_SECONDS = 300;

/** Every file under `directory`, as bytes. */
function filesUnder(directory: string): { path: string; bytes: Buffer }[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path, bytes: readFileSync(path) };
    });
}

describe("an analytics key's life, and its secrets never shown again", () => {
  const issuer = devIssuerForSuite();
  const dataDir = mkdtempSync(join(tmpdir(), 'cu-ledger-key-life-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const runner = runnerForSuite({ inMemory: false, dataDir, env: issuer.env });
  /** Every answer of the run, in order, with the request it answered. */
  const transcript: { request: string; reply: Reply }[] = [];
  const plainCall = client(runner);
  const call: typeof plainCall = async (method, path, options) => {
    const reply = await plainCall(method, path, options);
    transcript.push({ request: `${method} ${path}`, reply });
    return reply;
  };
  let admin: string;
  /** Secrets as they were issued (first, after rotation), and the wrong one presented. */
  let first: { a: IssuedKey; b: IssuedKey };
  let rotated: { a: IssuedKey; b: IssuedKey };
  const wrongSecret = newSecret();

  const usageWith = (authorization: string) => call('GET', '/v1/usage', { authorization });
  const basic = (key: IssuedKey) => basicAuthorization(key.keyId, key.secret);
  const listKeys = async () => {
    const listed = await call('GET', `/v1/orgs/${ORG}/analytics-keys`);
    expect(listed.status, listed.text).toBe(200);
    return new Map<string, Json>(listed.body.items.map((item: Json) => [item.keyId, item]));
  };
  /** The feed around the runner's clock (which the test moves), as `authorization` reads it. */
  const feed = async (authorization: string) => {
    const now = Date.parse((await call('GET', '/local/clock')).body.now);
    const day = (offset: number) => new Date(now + offset * 86_400_000).toISOString().slice(0, 10);
    const read = await call('GET', `/v1/activity?startDate=${day(-1)}&endDate=${day(1)}&limit=100`, { authorization });
    expect(read.status, read.text).toBe(200);
    return read.body.items as Json[];
  };

  beforeAll(async () => {
    await provision(call, `/v1/orgs/${ORG}`, { name: 'Lumen', plan: { name: 'pro', allowanceCu: 1000 }, billingAnchor: '2026-01-15' });
    await provision(call, `/v1/orgs/${ORG}/members/${ADMIN}`, { role: 'org_admin' });
    const consumed = await call('POST', '/v1/meter/consume', { body: { requestId: 'job-1', orgId: ORG, projectId: 'app', userId: 'ana', jobType: 'image_generation', cu: 3.5, modelName: 'GPT Image 2' } });
    expect(consumed.status, consumed.text).toBe(200);
    admin = `Bearer ${await issuer.tokenFor(ORG, ADMIN)}`;
  }, 60_000);

  it('answers the secret once, on creation and not to be stored; the list shows its first characters only', async () => {
    first = { a: await createAnalyticsKey(call, ORG, 'finance-bi', admin), b: await createAnalyticsKey(call, ORG, 'looker') };

    for (const key of Object.values(first)) {
      const created = transcript.find(({ reply }) => reply.body?.keyId === key.keyId)!.reply;
      expect(created.headers!.get('cache-control')).toBe('no-store');
    }
    const listed = await listKeys();
    expect(listed.get(first.a.keyId)).toMatchObject({ name: 'finance-bi', status: 'active', secretPrefix: secretHint(first.a.secret), rotatedAt: null, graceEndsAt: null });
    expect(listed.get(first.b.keyId)).toMatchObject({ name: 'looker', status: 'active', secretPrefix: secretHint(first.b.secret) });
    expect(secretHint(first.a.secret)).toHaveLength(9);
  });

  it('reads with its secret; a well-formed wrong secret of a real key is 401, and the feed counts the failures', async () => {
    expect((await usageWith(basic(first.a))).status).toBe(200);
    expect((await listKeys()).get(first.a.keyId).lastUsedAt).not.toBeNull();

    const refusals = [await usageWith(basicAuthorization(first.a.keyId, wrongSecret)), await usageWith(`Bearer ${first.a.keyId}:${wrongSecret}`)];

    expect(refusals.map((reply) => reply.status)).toEqual([401, 401]);
    // The counts are written just after the answers (so a refusal takes as long for a real key as for an unknown one).
    const failures = await vi.waitFor(
      async () => {
        const rows = (await feed(admin)).filter((row) => row.kind === 'analytics_key_auth_failed');
        expect(rows.reduce((sum, row) => sum + row.details.failures, 0)).toBe(2);
        return rows;
      },
      { timeout: 30_000, interval: 100 },
    );
    // One entry per key and minute: two, if the two attempts fell either side of a minute's turn.
    expect(failures.length).toBeGreaterThanOrEqual(1);
    for (const row of failures) expect(row).toMatchObject({ actor: { kind: 'analytics_key', id: first.a.keyId }, details: { keyId: first.a.keyId } });
  });

  it(`rotated with a ${GRACE_SECONDS} s grace, both secrets work until the grace ends; past it (the runner's clock moved), only the new one`, async () => {
    const answer = await call('POST', `/v1/orgs/${ORG}/analytics-keys/${first.a.keyId}/rotate`, { authorization: admin, body: { graceSeconds: GRACE_SECONDS } });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers!.get('cache-control')).toBe('no-store');
    expect(Date.parse(answer.body.previousSecretValidUntil) - Date.parse(answer.body.rotatedAt)).toBe(GRACE_SECONDS * 1000);
    rotated = { a: { keyId: first.a.keyId, secret: answer.body.secret }, b: first.b };
    expect(rotated.a.secret).not.toBe(first.a.secret);

    expect([(await usageWith(basic(first.a))).status, (await usageWith(basic(rotated.a))).status]).toEqual([200, 200]);
    expect((await listKeys()).get(first.a.keyId)).toMatchObject({ secretPrefix: secretHint(rotated.a.secret), graceEndsAt: answer.body.previousSecretValidUntil });

    expect((await call('PUT', '/local/clock', { body: { advanceSeconds: GRACE_SECONDS + 1 } })).status).toBe(200);

    expect([(await usageWith(basic(first.a))).status, (await usageWith(basic(rotated.a))).status]).toEqual([401, 200]);
    expect((await listKeys()).get(first.a.keyId)).toMatchObject({ graceEndsAt: null });
  });

  it('rotated with graceSeconds 0, the old secret is refused at once', async () => {
    const answer = await call('POST', `/v1/orgs/${ORG}/analytics-keys/${first.b.keyId}/rotate`, { body: { graceSeconds: 0 } });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.previousSecretValidUntil).toBeNull();
    rotated = { ...rotated, b: { keyId: first.b.keyId, secret: answer.body.secret } };

    expect([(await usageWith(basic(first.b))).status, (await usageWith(basic(rotated.b))).status]).toEqual([401, 200]);
  });

  it('revoked, the key is refused on its very next call (no cache locally); it cannot be rotated, and revoking again is a no-op', async () => {
    expect((await usageWith(basic(rotated.a))).status).toBe(200);

    const revoked = await call('DELETE', `/v1/orgs/${ORG}/analytics-keys/${rotated.a.keyId}`, { authorization: admin });

    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.body).toMatchObject({ keyId: rotated.a.keyId, status: 'revoked' });
    expect([(await usageWith(basic(rotated.a))).status, (await usageWith(`Bearer ${rotated.a.keyId}:${rotated.a.secret}`)).status]).toEqual([401, 401]);
    const rotation = await call('POST', `/v1/orgs/${ORG}/analytics-keys/${rotated.a.keyId}/rotate`, { authorization: admin, body: {} });
    expect([rotation.status, rotation.body.error.code]).toEqual([409, 'analytics_key_revoked']);
    const again = await call('DELETE', `/v1/orgs/${ORG}/analytics-keys/${rotated.a.keyId}`);
    expect([again.status, again.body.revokedAt]).toEqual([200, revoked.body.revokedAt]);
  });

  it("tells each step in the feed, to the org admin and to the org's other key alike", async () => {
    for (const reader of [admin, basic(rotated.b)]) {
      const rows = (await feed(reader)).filter((row) => row.kind.startsWith('analytics_key_')).reverse();
      const changes = rows.filter((row) => row.kind !== 'analytics_key_auth_failed');

      expect(changes.map((row) => [row.kind, row.details.keyId, row.actor])).toEqual([
        ['analytics_key_created', first.a.keyId, { kind: 'person', id: ADMIN }],
        ['analytics_key_created', first.b.keyId, { kind: 'service', id: 'platform' }],
        ['analytics_key_rotated', first.a.keyId, { kind: 'person', id: ADMIN }],
        ['analytics_key_rotated', first.b.keyId, { kind: 'service', id: 'platform' }],
        ['analytics_key_revoked', first.a.keyId, { kind: 'person', id: ADMIN }],
      ]);
      expect(changes.filter((row) => row.kind === 'analytics_key_rotated').map((row) => row.details.graceEndsAt)).toEqual([expect.any(String), null]);
      // Every refusal of a known key counts: wrong secrets, the old secret past its grace, the revoked key.
      const failed = rows.filter((row) => row.kind === 'analytics_key_auth_failed').map((row) => row.details.keyId);
      expect(new Set(failed)).toEqual(new Set([first.a.keyId, first.b.keyId]));
    }
  });

  it('never shows a secret again: not in the output, in no answer but the one that issued it, and not on disk', async () => {
    // The last reads of everything that speaks of keys, usage or activity.
    await listKeys();
    await call('GET', `/v1/orgs/${ORG}/analytics-keys`, { authorization: admin });
    await call('GET', `/v1/orgs/${ORG}/events?limit=100`);
    await feed(admin);
    await feed(basic(rotated.b));
    for (const path of ['/v1/usage', '/v1/usage/events', '/v1/usage/power-users', '/v1/usage/export.csv']) {
      const read = await call('GET', path, { authorization: basic(rotated.b) });
      expect(read.status, read.text).toBe(200);
    }

    const issued = [first.a, first.b, rotated.a, rotated.b];
    for (const key of issued) {
      const showing = transcript.filter(({ reply }) => reply.text.includes(key.secret));
      expect(showing.map(({ request }) => request), key.secret).toEqual([expect.stringMatching(/^POST \/v1\/orgs\/lumen\/analytics-keys(\/cuak_\w+\/rotate)?$/)]);
      expect(showing[0]!.reply.body.secret).toBe(key.secret);
    }
    expect(transcript.filter(({ reply }) => reply.text.includes(wrongSecret))).toEqual([]);
    for (const secret of [...issued.map((key) => key.secret), wrongSecret]) expect(runner().output()).not.toContain(secret);
    // On disk: the table's files and the key store's hold the key ids (the search finds what is there), never a secret.
    const files = filesUnder(dataDir);
    const inKeyStore = (path: string) => path.includes('analytics-keys');
    expect(files.some(({ path, bytes }) => !inKeyStore(path) && bytes.includes(first.a.keyId))).toBe(true);
    expect(files.some(({ path, bytes }) => inKeyStore(path) && bytes.includes(first.a.keyId))).toBe(true);
    for (const { path, bytes } of files) for (const key of issued) expect(bytes.includes(key.secret), `${path} holds a secret`).toBe(false);
  });
});
