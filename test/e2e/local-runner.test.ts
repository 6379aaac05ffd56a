// End to end: the real local runner (`tsx infra/local/start.ts`, what `npm start` execs), spawned as a child process,
// driven over HTTP with fetch. Nothing here imports the service's code: only its process, its port and its JSON.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/dynamodb-local';
import { REPO_ROOT, exitOf, killGroup, runnerEnvironment } from '../support/runner-process';
import { START_SCRIPT, client, expectError, runnerForSuite, startRunner, type Json, type Reply, type Runner } from '../support/runner-http';

const BILLING_ANCHOR = '2026-01-15';

function consumeBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { requestId: 'req-1', orgId: 'org-1', projectId: 'proj-1', userId: 'user-1', jobType: 'image_generation', cu: 1, ...overrides };
}

/** The consumes and refunds among activity-log rows. */
function meterEvents(items: Json[]): Json[] {
  return items.filter((item) => item.kind === 'consume' || item.kind === 'refund');
}

function orgBody(allowanceCu: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'Acme', plan: { name: 'pro', allowanceCu }, billingAnchor: BILLING_ANCHOR, ...overrides };
}

// ---------------------------------------------------------------------------------------------------------------
// One in-memory runner for the HTTP behaviour
// ---------------------------------------------------------------------------------------------------------------

describe('local runner (npm start --in-memory) over HTTP', () => {
  const runner = runnerForSuite({ inMemory: true });
  const call = client(runner);

  beforeAll(() => {
    expect(runner().output()).toContain('(in memory)');
    expect(runner().output()).toContain('Using SERVICE_TOKEN from the environment.');
    expect(runner().output()).not.toContain(runner().token);
  });

  async function createOrg(orgId: string, allowanceCu: number): Promise<void> {
    const reply = await call('PUT', `/v1/orgs/${orgId}`, { body: orgBody(allowanceCu) });
    expect(reply.status, reply.text).toBe(200);
  }

  async function consume(overrides: Record<string, unknown>): Promise<Reply> {
    return call('POST', '/v1/meter/consume', { body: consumeBody(overrides) });
  }

  /** The balance, and the consumes and refunds of the activity log (its provisioning entry left out). */
  async function balanceAndEvents(orgId: string): Promise<{ balance: Json; events: Json }> {
    const balance = await call('GET', `/v1/orgs/${orgId}/balance`);
    const events = await call('GET', `/v1/orgs/${orgId}/events`);
    expect(balance.status, balance.text).toBe(200);
    expect(events.status, events.text).toBe(200);
    return { balance: balance.body, events: { ...events.body, items: meterEvents(events.body.items) } };
  }

  it('README session: a member cap of 3 CU lets exactly 3 one-CU jobs through, then 402 member_cap_reached; raising it or the default limit governs the next consume; balance and events agree', async () => {
    const orgId = 'readme-org';
    const org = await call('PUT', `/v1/orgs/${orgId}`, { body: orgBody(10) });
    expect(org.status, org.text).toBe(200);
    expect(org.body).toMatchObject({ orgId, name: 'Acme', plan: { name: 'pro', allowanceCu: 10 }, billingAnchor: BILLING_ANCHOR, defaultLimitCu: null });

    const alice = await call('PUT', `/v1/orgs/${orgId}/members/alice`, { body: { role: 'contributor', capCu: 3 } });
    expect(alice.status, alice.text).toBe(200);
    expect(alice.body).toMatchObject({ userId: 'alice', role: 'contributor', usedCu: 0, capCu: 3, capSource: 'individual', status: 'ok' });

    // Consume 1 CU at a time until blocked.
    const job = (requestId: string, userId = 'alice', cu = 1) => consume({ requestId, orgId, projectId: 'web', userId, cu });
    const accepted: Json[] = [];
    let blocked: Reply | undefined;
    for (let n = 1; n <= 10 && !blocked; n++) {
      const reply = await job(`readme-${n}`);
      if (reply.status === 200) accepted.push(reply.body);
      else blocked = reply;
    }
    expect(accepted.map((body) => [body.requestId, body.chargedCu, body.availableCu, body.replayed, body.poolCategory])).toEqual([
      ['readme-1', 1, 2, false, 'allocated'],
      ['readme-2', 1, 1, false, 'allocated'],
      ['readme-3', 1, 0, false, 'allocated'],
    ]);
    expect(new Set(accepted.map((body) => body.eventId)).size).toBe(3);
    expectError(blocked!, 402, 'member_cap_reached');
    expect(blocked!.body.error).toMatchObject({ level: 'member', capCu: 3, usedCu: 3, requestedCu: 1 });
    expect(blocked!.body.error.message).toMatch(/team admin can raise or remove it/i);

    // The usage bar shows the cap reached.
    const members = await call('GET', `/v1/orgs/${orgId}/members`);
    expect(members.status, members.text).toBe(200);
    expect(members.body.nextCursor).toBeNull();
    expect(members.body.items).toEqual([
      expect.objectContaining({ userId: 'alice', usedCu: 3, capCu: 3, capSource: 'individual', status: 'reached' }),
    ]);

    // A dry run agrees with the refusal, and changes nothing.
    const checkBlocked = await call('POST', '/v1/meter/check', { body: { orgId, projectId: 'web', userId: 'alice', cu: 1 } });
    expect(checkBlocked.status, checkBlocked.text).toBe(200);
    expect(checkBlocked.body).toMatchObject({ allowed: false, blockedBy: { code: 'member_cap_reached', level: 'member', capCu: 3, usedCu: 3 }, availableCu: 0, highCost: false });

    // Raising the cap lets the very next consume through: the blocked request itself, retried.
    const raised = await call('PUT', `/v1/orgs/${orgId}/members/alice`, { body: { role: 'contributor', capCu: 5 } });
    expect(raised.status, raised.text).toBe(200);
    expect(raised.body).toMatchObject({ usedCu: 3, capCu: 5, capSource: 'individual', status: 'ok' });
    const retried = await job('readme-4');
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body).toMatchObject({ requestId: 'readme-4', chargedCu: 1, availableCu: 1, replayed: false });

    // The org's default limit governs a member without a cap of their own.
    const defaultLimit = await call('PUT', `/v1/orgs/${orgId}/default-limit`, { body: { capCu: 2 } });
    expect(defaultLimit.status, defaultLimit.text).toBe(200);
    expect(defaultLimit.body).toMatchObject({ orgId, defaultLimitCu: 2 });
    const bob = await call('PUT', `/v1/orgs/${orgId}/members/bob`, { body: { role: 'viewer' } });
    expect(bob.status, bob.text).toBe(200);
    expect(bob.body).toMatchObject({ userId: 'bob', role: 'viewer', usedCu: 0, capCu: 2, capSource: 'default', status: 'ok' });
    const bobFirst = await job('bob-1', 'bob', 2);
    expect(bobFirst.status, bobFirst.text).toBe(200);
    expect(bobFirst.body).toMatchObject({ chargedCu: 2, availableCu: 0 });
    const bobBlocked = await job('bob-2', 'bob', 0.5);
    expectError(bobBlocked, 402, 'member_cap_reached');
    expect(bobBlocked.body.error).toMatchObject({ level: 'member', capCu: 2, usedCu: 2, requestedCu: 0.5 });

    const after = await call('GET', `/v1/orgs/${orgId}/members`);
    const byId = Object.fromEntries(after.body.items.map((item: Json) => [item.userId, item]));
    expect(byId.alice).toMatchObject({ usedCu: 4, capCu: 5, capSource: 'individual', status: 'warning' });
    expect(byId.bob).toMatchObject({ usedCu: 2, capCu: 2, capSource: 'default', status: 'reached' });
    const projects = await call('GET', `/v1/orgs/${orgId}/projects`);
    expect(projects.body.items).toEqual([expect.objectContaining({ projectId: 'web', usedCu: 6, capCu: null, capSource: 'none', status: 'ok' })]);

    // Balance: 4 CU by alice + 2 CU by bob out of 10; refusals charged nothing.
    const { balance, events } = await balanceAndEvents(orgId);
    expect(balance).toMatchObject({ orgId, plan: { name: 'pro', allowanceCu: 10 }, usedCu: 6, availableCu: 4 });
    expect(balance.usedCu + balance.availableCu).toBe(balance.plan.allowanceCu);

    // Events: exactly the accepted consumes, newest first.
    const eventIds = [...accepted.map((body) => body.eventId), retried.body.eventId, bobFirst.body.eventId].reverse();
    expect(events.nextCursor).toBeNull();
    expect(events.items.map((event: Json) => [event.eventId, event.requestId, event.kind, event.cu, event.userId])).toEqual([
      [eventIds[0], 'bob-1', 'consume', 2, 'bob'],
      [eventIds[1], 'readme-4', 'consume', 1, 'alice'],
      [eventIds[2], 'readme-3', 'consume', 1, 'alice'],
      [eventIds[3], 'readme-2', 'consume', 1, 'alice'],
      [eventIds[4], 'readme-1', 'consume', 1, 'alice'],
    ]);
    const times = events.items.map((event: Json) => Date.parse(event.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    for (const event of events.items) {
      expect(event).toMatchObject({ orgId, projectId: 'web', jobType: 'image_generation', refundedCu: 0, poolCategory: 'allocated' });
      expect(event).not.toHaveProperty('fingerprint');
      expect(event).not.toHaveProperty('attemptId');
    }
  });

  it('the team pool runs out: once the allowance is used up the next consume is 402 team_balance_exhausted', async () => {
    const orgId = 'pool-org';
    await createOrg(orgId, 5);
    const first = await consume({ requestId: 'pool-1', orgId, userId: 'carol', cu: 4.5 });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ chargedCu: 4.5, availableCu: 0.5 });
    const refused = await consume({ requestId: 'pool-2', orgId, userId: 'dave', cu: 0.501 });
    expectError(refused, 402, 'team_balance_exhausted');
    expect(refused.body.error).toMatchObject({ level: 'team', capCu: 5, usedCu: 4.5, requestedCu: 0.501 });
    expect(refused.body.error.message).toMatch(/team admin/i);
    const exact = await consume({ requestId: 'pool-3', orgId, userId: 'dave', cu: 0.5 });
    expect(exact.status, exact.text).toBe(200);
    const { balance } = await balanceAndEvents(orgId);
    expect(balance).toMatchObject({ usedCu: 5, availableCu: 0 });
  });

  it('replays over HTTP: the same consume twice is charged once; a reused requestId with another body is 409; refunds are full, partial, capped at the charge and replayable', async () => {
    const orgId = 'replay-org';
    await createOrg(orgId, 100);
    const original = { requestId: 'job-1', orgId, userId: 'erin', cu: 2.5, modelId: 'flux-1', assetKind: 'image', assetCount: 4 };

    const first = await consume(original);
    const second = await consume(original);
    expect(first.status, first.text).toBe(200);
    expect(second.status, second.text).toBe(200);
    expect(first.body).toMatchObject({ requestId: 'job-1', chargedCu: 2.5, replayed: false });
    expect(second.body).toEqual({ ...first.body, replayed: true });
    let state = await balanceAndEvents(orgId);
    expect(state.balance).toMatchObject({ usedCu: 2.5, availableCu: 97.5 });
    expect(state.events.items).toHaveLength(1);

    // The same requestId with a different body (cu, or any other field).
    for (const change of [{ cu: 3 }, { userId: 'frank' }, { modelId: 'flux-2' }]) {
      const conflict = await consume({ ...original, ...change });
      expectError(conflict, 409, 'idempotency_key_reused', 'requestId');
    }
    expect((await balanceAndEvents(orgId)).balance).toMatchObject({ usedCu: 2.5 });

    // Full refund (no cu) of a second job.
    const job2 = await consume({ requestId: 'job-2', orgId, userId: 'erin', cu: 4 });
    expect(job2.status, job2.text).toBe(200);
    expect((await balanceAndEvents(orgId)).balance).toMatchObject({ usedCu: 6.5 });
    const fullRefund = { requestId: 'refund-2', orgId, refundOf: 'job-2' };
    const refunded = await call('POST', '/v1/meter/refund', { body: fullRefund });
    expect(refunded.status, refunded.text).toBe(200);
    expect(refunded.body).toMatchObject({ requestId: 'refund-2', refundOf: 'job-2', refundedCu: 4, replayed: false });
    expect((await balanceAndEvents(orgId)).balance).toMatchObject({ usedCu: 2.5 });

    // Refund replay: same answer, nothing moved again.
    const refundReplay = await call('POST', '/v1/meter/refund', { body: fullRefund });
    expect(refundReplay.status, refundReplay.text).toBe(200);
    expect(refundReplay.body).toEqual({ ...refunded.body, replayed: true });
    expect((await balanceAndEvents(orgId)).balance).toMatchObject({ usedCu: 2.5 });
    const refundReused = await call('POST', '/v1/meter/refund', { body: { ...fullRefund, cu: 1 } });
    expectError(refundReused, 409, 'idempotency_key_reused', 'requestId');

    // Partial refunds of job-1 (2.5 CU): 1 CU, then more than is left is refused, then the rest.
    const partial = await call('POST', '/v1/meter/refund', { body: { requestId: 'refund-1a', orgId, refundOf: 'job-1', cu: 1 } });
    expect(partial.status, partial.text).toBe(200);
    expect(partial.body).toMatchObject({ refundedCu: 1, replayed: false });
    expect((await balanceAndEvents(orgId)).balance).toMatchObject({ usedCu: 1.5, availableCu: 98.5 });
    const tooMuch = await call('POST', '/v1/meter/refund', { body: { requestId: 'refund-1b', orgId, refundOf: 'job-1', cu: 1.501 } });
    expectError(tooMuch, 409, 'refund_exceeds_charge', 'cu');
    expect(tooMuch.body.error.refundableCu).toBe(1.5);
    const rest = await call('POST', '/v1/meter/refund', { body: { requestId: 'refund-1c', orgId, refundOf: 'job-1' } });
    expect(rest.status, rest.text).toBe(200);
    expect(rest.body).toMatchObject({ refundedCu: 1.5 });
    const nothingLeft = await call('POST', '/v1/meter/refund', { body: { requestId: 'refund-1d', orgId, refundOf: 'job-1' } });
    expectError(nothingLeft, 409, 'refund_exceeds_charge', 'refundOf');
    expect(nothingLeft.body.error.refundableCu).toBe(0);
    const unknown = await call('POST', '/v1/meter/refund', { body: { requestId: 'refund-x', orgId, refundOf: 'no-such-job' } });
    expectError(unknown, 404, 'consume_not_found', 'refundOf');
    const refundOfRefund = await call('POST', '/v1/meter/refund', { body: { requestId: 'refund-y', orgId, refundOf: 'refund-2' } });
    expectError(refundOfRefund, 404, 'consume_not_found', 'refundOf');

    // Everything refunded: the pool, the member and the log agree.
    state = await balanceAndEvents(orgId);
    expect(state.balance).toMatchObject({ usedCu: 0, availableCu: 100 });
    const members = await call('GET', `/v1/orgs/${orgId}/members`);
    expect(members.body.items).toEqual([expect.objectContaining({ userId: 'erin', usedCu: 0 })]);
    expect(state.events.items.map((event: Json) => [event.requestId, event.kind, event.cu, event.refundOf ?? null, event.refundedCu ?? null])).toEqual([
      ['refund-1c', 'refund', 1.5, 'job-1', null],
      ['refund-1a', 'refund', 1, 'job-1', null],
      ['refund-2', 'refund', 4, 'job-2', null],
      ['job-2', 'consume', 4, null, 4],
      ['job-1', 'consume', 2.5, null, 2.5],
    ]);
  });

  it('auth: no Authorization header or a wrong token is 401 unauthorized and changes nothing; an unknown route is 404 route_not_found', async () => {
    const orgId = 'auth-org';
    await createOrg(orgId, 10);
    expect((await consume({ requestId: 'auth-ok', orgId, cu: 1 })).status).toBe(200);
    const before = await balanceAndEvents(orgId);
    const { token } = runner();
    const sameLengthWrong = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');

    for (const authorization of [null, '', `Bearer ${sameLengthWrong}`, `Bearer ${token}x`, `Bearer ${token.slice(1)}`, token, `Basic ${token}`, 'Bearer ']) {
      const label = `Authorization: ${JSON.stringify(authorization)}`;
      const attempts = [
        await call('POST', '/v1/meter/consume', { authorization, body: consumeBody({ requestId: 'auth-sneaky', orgId, cu: 1 }) }),
        await call('POST', '/v1/meter/refund', { authorization, body: { requestId: 'auth-refund', orgId, refundOf: 'auth-ok' } }),
        await call('PUT', `/v1/orgs/${orgId}`, { authorization, body: orgBody(1_000) }),
        await call('PUT', `/v1/orgs/${orgId}/default-limit`, { authorization, body: { capCu: 0 } }),
        await call('PUT', '/v1/orgs/auth-ghost', { authorization, body: orgBody(10) }),
        await call('GET', `/v1/orgs/${orgId}/balance`, { authorization }),
      ];
      for (const reply of attempts) {
        expect(reply.status, `${label}: ${reply.text}`).toBe(401);
        expectError(reply, 401, 'unauthorized');
        expect(reply.text).not.toContain(token);
      }
    }

    // Nothing changed: same balance, same log, same plan, no default limit, no ghost org, refund not applied.
    expect(await balanceAndEvents(orgId)).toEqual(before);
    const stillChargeable = await call('POST', '/v1/meter/check', { body: { orgId, projectId: 'proj-1', userId: 'user-1', cu: 9 } });
    expect(stillChargeable.body).toMatchObject({ allowed: true, availableCu: 9 });
    expectError(await call('GET', '/v1/orgs/auth-ghost/balance'), 404, 'org_not_found', 'orgId');
    const sneaky = await consume({ requestId: 'auth-sneaky', orgId, cu: 2 });
    expect(sneaky.body).toMatchObject({ replayed: false, chargedCu: 2 });

    // Unknown routes and methods: 404 route_not_found, with or without a token.
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/v1/nope'],
      ['GET', '/v1/meter/consume'],
      ['DELETE', `/v1/orgs/${orgId}`],
      ['POST', `/v1/orgs/${orgId}`],
      ['GET', `/v1/orgs/${orgId}/balance/`],
      ['GET', `/v1/orgs/${orgId}/balance/extra`],
    ] as const) {
      expectError(await call(method, path), 404, 'route_not_found');
      expectError(await call(method, path, { authorization: null }), 404, 'route_not_found');
    }
  });

  it('serves the OpenAPI document to anyone, without a token: the committed functions/openapi/openapi.json, every route in it', async () => {
    const anonymous = await call('GET', '/v1/openapi.json', { authorization: null });
    const withToken = await call('GET', '/v1/openapi.json');

    expect([anonymous.status, anonymous.contentType]).toEqual([200, 'application/json']);
    expect(anonymous.body).toEqual(JSON.parse(readFileSync(join(REPO_ROOT, 'functions/openapi/openapi.json'), 'utf8')));
    expect(anonymous.body.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(anonymous.body.paths)).toEqual(expect.arrayContaining(['/v1/meter/consume', '/v1/orgs/{orgId}/balance', '/v1/openapi.json']));
    expect(withToken.body).toEqual(anonymous.body);
  });

  it('bad input over HTTP is a 4xx naming the code and the field, never a 500, and changes nothing', async () => {
    const orgId = 'bad-org';
    await createOrg(orgId, 50);
    const member = await call('PUT', `/v1/orgs/${orgId}/members/grace`, { body: { role: 'contributor', capCu: 20 } });
    expect(member.status, member.text).toBe(200);
    const ok = await consume({ requestId: 'bad-baseline', orgId, userId: 'grace', cu: 1.25 });
    expect(ok.status, ok.text).toBe(200);
    const before = await balanceAndEvents(orgId);
    const membersBefore = (await call('GET', `/v1/orgs/${orgId}/members`)).body;
    const outputBefore = runner().output().length;

    const valid = consumeBody({ requestId: 'bad-1', orgId, userId: 'grace', cu: 1 });
    const without = (field: string) => Object.fromEntries(Object.entries(valid).filter(([name]) => name !== field));
    const consumeCases: Array<[string, unknown, number, string, string?]> = [
      ['invalid JSON', { raw: '{"requestId": "bad-1", ' }, 400, 'invalid_json', 'body'],
      ['not JSON at all', { raw: 'cu=1' }, 400, 'invalid_json', 'body'],
      ['empty body', { raw: '' }, 400, 'invalid_json', 'body'],
      ['no body', undefined, 400, 'invalid_json', 'body'],
      ['array body', { raw: '[]' }, 400, 'validation_failed', 'body'],
      ['array holding a valid body', [valid], 400, 'validation_failed', 'body'],
      ['null body', { raw: 'null' }, 400, 'validation_failed', 'body'],
      ['string body', { raw: '"cu"' }, 400, 'validation_failed', 'body'],
      ['missing requestId', without('requestId'), 400, 'validation_failed', 'requestId'],
      ['missing orgId', without('orgId'), 400, 'validation_failed', 'orgId'],
      ['missing projectId', without('projectId'), 400, 'validation_failed', 'projectId'],
      ['missing userId', without('userId'), 400, 'validation_failed', 'userId'],
      ['missing jobType', without('jobType'), 400, 'validation_failed', 'jobType'],
      ['missing cu', without('cu'), 400, 'validation_failed', 'cu'],
      ['cu 0', { ...valid, cu: 0 }, 400, 'validation_failed', 'cu'],
      ['cu -1', { ...valid, cu: -1 }, 400, 'validation_failed', 'cu'],
      ['cu "1"', { ...valid, cu: '1' }, 400, 'validation_failed', 'cu'],
      ['cu 1.2345', { ...valid, cu: 1.2345 }, 400, 'validation_failed', 'cu'],
      ['cu 1e12', { raw: JSON.stringify(valid).replace('"cu":1', '"cu":1e12') }, 400, 'validation_failed', 'cu'],
      ['cu 1e400 (Infinity)', { raw: JSON.stringify(valid).replace('"cu":1', '"cu":1e400') }, 400, 'validation_failed', 'cu'],
      ['cu null', { ...valid, cu: null }, 400, 'validation_failed', 'cu'],
      ['cu true', { ...valid, cu: true }, 400, 'validation_failed', 'cu'],
      ['unknown field', { ...valid, discount: 1 }, 400, 'validation_failed', 'discount'],
      ['__proto__ field', { raw: JSON.stringify(valid).replace('{', '{"__proto__":{"cu":2},') }, 400, 'validation_failed', '__proto__'],
      ['10 KB requestId', { ...valid, requestId: 'r'.repeat(10 * 1024) }, 400, 'validation_failed', 'requestId'],
      ['requestId with #', { ...valid, requestId: 'a#b' }, 400, 'validation_failed', 'requestId'],
      ['orgId with a space', { ...valid, orgId: 'bad org' }, 400, 'validation_failed', 'orgId'],
      ['jobType not snake_case', { ...valid, jobType: 'Image Generation' }, 400, 'validation_failed', 'jobType'],
      ['assetKind outside the enum', { ...valid, assetKind: 'pdf' }, 400, 'validation_failed', 'assetKind'],
      ['assetCount fractional', { ...valid, assetCount: 1.5 }, 400, 'validation_failed', 'assetCount'],
      ['20 KB body', { ...valid, modelName: 'm'.repeat(20 * 1024) }, 413, 'payload_too_large', 'body'],
      ['unknown org', { ...valid, orgId: 'no-such-org' }, 404, 'org_not_found', 'orgId'],
    ];
    const otherCases: Array<[string, string, string, unknown, number, string, string?]> = [
      ['billingAnchor 2026-02-30', 'PUT', `/v1/orgs/${orgId}`, orgBody(50, { billingAnchor: '2026-02-30' }), 400, 'validation_failed', 'billingAnchor'],
      ['billingAnchor not a date', 'PUT', `/v1/orgs/${orgId}`, orgBody(50, { billingAnchor: '15th' }), 400, 'validation_failed', 'billingAnchor'],
      ['allowance -1', 'PUT', `/v1/orgs/${orgId}`, orgBody(-1), 400, 'validation_failed', 'plan.allowanceCu'],
      ['plan missing', 'PUT', `/v1/orgs/${orgId}`, { billingAnchor: BILLING_ANCHOR }, 400, 'validation_failed', 'plan'],
      ['org invalid JSON', 'PUT', `/v1/orgs/${orgId}`, { raw: '{' }, 400, 'invalid_json', 'body'],
      ['member cap -1', 'PUT', `/v1/orgs/${orgId}/members/grace`, { role: 'contributor', capCu: -1 }, 400, 'validation_failed', 'capCu'],
      ['member role unknown', 'PUT', `/v1/orgs/${orgId}/members/grace`, { role: 'owner', capCu: 0 }, 400, 'validation_failed', 'role'],
      ['member id of an API key', 'PUT', `/v1/orgs/${orgId}/members/apiu_x`, { role: 'contributor' }, 400, 'validation_failed', 'userId'],
      ['API key id without apiu_', 'PUT', `/v1/orgs/${orgId}/api-keys/key1`, { projectId: 'p' }, 400, 'validation_failed', 'keyId'],
      ['default limit "1"', 'PUT', `/v1/orgs/${orgId}/default-limit`, { capCu: '1' }, 400, 'validation_failed', 'capCu'],
      ['default limit missing', 'PUT', `/v1/orgs/${orgId}/default-limit`, {}, 400, 'validation_failed', 'capCu'],
      ['member in unknown org', 'PUT', '/v1/orgs/no-such-org/members/grace', { role: 'contributor' }, 404, 'org_not_found', 'orgId'],
      ['refund cu 0', 'POST', '/v1/meter/refund', { requestId: 'bad-r', orgId, refundOf: 'bad-baseline', cu: 0 }, 400, 'validation_failed', 'cu'],
      ['refund cu 1.2345', 'POST', '/v1/meter/refund', { requestId: 'bad-r', orgId, refundOf: 'bad-baseline', cu: 1.2345 }, 400, 'validation_failed', 'cu'],
      ['refund missing refundOf', 'POST', '/v1/meter/refund', { requestId: 'bad-r', orgId }, 400, 'validation_failed', 'refundOf'],
      ['check cu "1"', 'POST', '/v1/meter/check', { orgId, projectId: 'p', userId: 'grace', cu: '1' }, 400, 'validation_failed', 'cu'],
      ['check unknown org', 'POST', '/v1/meter/check', { orgId: 'no-such-org', projectId: 'p', userId: 'grace', cu: 1 }, 404, 'org_not_found', 'orgId'],
      ['balance of unknown org', 'GET', '/v1/orgs/no-such-org/balance', undefined, 404, 'org_not_found', 'orgId'],
      ['events limit=abc', 'GET', `/v1/orgs/${orgId}/events?limit=abc`, undefined, 400, 'validation_failed', 'limit'],
      ['events limit=0', 'GET', `/v1/orgs/${orgId}/events?limit=0`, undefined, 400, 'validation_failed', 'limit'],
      ['events unknown query parameter', 'GET', `/v1/orgs/${orgId}/events?since=yesterday`, undefined, 400, 'validation_failed', 'since'],
      ['events cursor not base64 JSON', 'GET', `/v1/orgs/${orgId}/events?cursor=%25%25%25`, undefined, 400, 'invalid_cursor', 'cursor'],
      ['members cursor not base64 JSON', 'GET', `/v1/orgs/${orgId}/members?cursor=abc`, undefined, 400, 'invalid_cursor', 'cursor'],
    ];
    const everyCase: typeof otherCases = [
      ...consumeCases.map(([name, body, status, code, field]): (typeof otherCases)[number] => [name, 'POST', '/v1/meter/consume', body, status, code, field]),
      ...otherCases,
    ];
    for (const [name, method, path, body, status, code, field] of everyCase) {
      const reply = await call(method, path, body === undefined ? {} : { body });
      expect(reply.status, `${name}: ${reply.text}`).toBeLessThan(500);
      expect({ name, status: reply.status, code: reply.body?.error?.code, field: reply.body?.error?.field }, reply.text).toEqual({
        name,
        status,
        code,
        field,
      });
      expectError(reply, status, code, field);
    }

    // Nothing changed: balance (plan, anchor, period), the log, and the member's cap and usage.
    expect(await balanceAndEvents(orgId)).toEqual(before);
    expect((await call('GET', `/v1/orgs/${orgId}/members`)).body).toEqual(membersBefore);
    expectError(await call('GET', '/v1/orgs/no-such-org/events'), 404, 'org_not_found', 'orgId');
    // And the runner logged no unhandled error while answering all of that.
    expect(runner().output().slice(outputBefore)).not.toMatch(/unhandled error|local gateway failure/);
  });

  it('refuses a path with malformed percent-encoding with a 4xx naming the field', async () => {
    const unauthenticated = await call('GET', '/v1/orgs/%E0%A4%A/balance', { authorization: null });
    expect(unauthenticated.status, unauthenticated.text).toBe(401);
    expectError(await call('GET', '/v1/orgs/%E0%A4%A/balance'), 400, 'validation_failed', 'orgId');
  });

  it('refuses a cursor the API never gave out, or one from another org, with 400 invalid_cursor', async () => {
    await createOrg('cursor-org', 10);
    await createOrg('cursor-other', 10);
    for (let i = 0; i < 3; i++) await call('PUT', `/v1/orgs/cursor-other/projects/p${i}`, { body: { capCu: 1 } });
    const forged = Buffer.from(JSON.stringify({ a: 'b' })).toString('base64url');
    expectError(await call('GET', `/v1/orgs/cursor-org/events?cursor=${forged}`), 400, 'invalid_cursor', 'cursor');
    const page = await call('GET', '/v1/orgs/cursor-other/projects?limit=1');
    expect(page.body.nextCursor).toEqual(expect.any(String));
    expectError(await call('GET', `/v1/orgs/cursor-org/projects?cursor=${page.body.nextCursor}`), 400, 'invalid_cursor', 'cursor');
    expect((await call('GET', `/v1/orgs/cursor-other/projects?limit=1&cursor=${page.body.nextCursor}`)).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Processes of their own
// ---------------------------------------------------------------------------------------------------------------

describe('local runner lifecycle', () => {
  const temporary: string[] = [];
  afterAll(() => {
    for (const path of temporary) rmSync(path, { recursive: true, force: true });
  });

  it('persists data under DATA_DIR: usage and idempotency survive a stop (SIGTERM) and a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cu-ledger-e2e-data-'));
    temporary.push(dataDir);
    const token = randomBytes(24).toString('base64url');

    let runner: Runner | undefined = await startRunner({ inMemory: false, dataDir, token });
    const call = client(() => runner!);
    let firstEventId = '';
    try {
      expect(runner.output()).toContain(`data in ${dataDir}`);
      expect((await call('PUT', '/v1/orgs/persist-org', { body: orgBody(25) })).status).toBe(200);
      expect((await call('PUT', '/v1/orgs/persist-org/members/henry', { body: { role: 'contributor', capCu: 10 } })).status).toBe(200);
      const consumed = await call('POST', '/v1/meter/consume', { body: consumeBody({ requestId: 'persist-1', orgId: 'persist-org', userId: 'henry', cu: 3.75 }) });
      expect(consumed.status, consumed.text).toBe(200);
      firstEventId = consumed.body.eventId;
      const exit = await runner.stop();
      expect(exit, runner.output()).toEqual({ code: 0, signal: null });
    } finally {
      if (runner.child.exitCode === null && runner.child.signalCode === null) await runner.stop().catch(() => undefined);
    }
    expect(readdirSync(dataDir).length).toBeGreaterThan(0);

    runner = await startRunner({ inMemory: false, dataDir, token });
    try {
      const balance = await call('GET', '/v1/orgs/persist-org/balance');
      expect(balance.status, balance.text).toBe(200);
      expect(balance.body).toMatchObject({ plan: { allowanceCu: 25 }, usedCu: 3.75, availableCu: 21.25 });
      const members = await call('GET', '/v1/orgs/persist-org/members');
      expect(members.body.items).toEqual([expect.objectContaining({ userId: 'henry', usedCu: 3.75, capCu: 10, capSource: 'individual' })]);
      const events = await call('GET', '/v1/orgs/persist-org/events');
      expect(meterEvents(events.body.items).map((event: Json) => event.eventId)).toEqual([firstEventId]);
      const replay = await call('POST', '/v1/meter/consume', { body: consumeBody({ requestId: 'persist-1', orgId: 'persist-org', userId: 'henry', cu: 3.75 }) });
      expect(replay.body).toMatchObject({ eventId: firstEventId, replayed: true });
      expect((await call('GET', '/v1/orgs/persist-org/balance')).body.usedCu).toBe(3.75);
    } finally {
      const exit = await runner.stop();
      expect(exit, runner.output()).toEqual({ code: 0, signal: null });
    }
  }, 200_000);

  it('without Java on the PATH the runner exits non-zero with a plain message that Java 17+ is needed', async () => {
    const binDir = mkdtempSync(join(tmpdir(), 'cu-ledger-e2e-nojava-'));
    temporary.push(binDir);
    symlinkSync(process.execPath, join(binDir, 'node'));
    expect(existsSync(join(binDir, 'java'))).toBe(false);
    const tsxPackage = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'tsx', 'package.json'), 'utf8')) as { bin: string | Record<string, string> };
    const tsxCli = join(REPO_ROOT, 'node_modules', 'tsx', typeof tsxPackage.bin === 'string' ? tsxPackage.bin : tsxPackage.bin.tsx!);

    const child = spawn(process.execPath, [tsxCli, START_SCRIPT, '--in-memory'], {
      cwd: REPO_ROOT,
      env: runnerEnvironment({ PATH: binDir, PORT: String(await freePort()), SERVICE_TOKEN: 'no-java' }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => killGroup(child), 60_000);
    const exit = await exitOf(child);
    clearTimeout(timer);

    const output = `${stdout}${stderr}`;
    expect(output).not.toContain('ready on');
    expect(exit.signal, output).toBeNull();
    expect(exit.code, output).not.toBe(0);
    expect(stderr).toMatch(/Java 17/);
    expect(stderr).toMatch(/`java` was not found on the PATH/);
    // Plain: no stack trace.
    expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  }, 70_000);
});
