// The use cases against the in-memory adapter: the rules without a network.

import { describe, expect, it } from 'vitest';
import { toMilli } from '../../shared/domain/compute-units';
import { check } from '../../shared/use-cases/check';
import { consume } from '../../shared/use-cases/consume';
import { getBalance } from '../../shared/use-cases/balance';
import { addTopUp, changePlan, provisionOrg as putOrg } from '../../shared/use-cases/billing';
import { putApiKey, putMember, putProject, setDefaultLimit } from '../../shared/use-cases/provisioning';
import { refund } from '../../shared/use-cases/refund';
import { listEvents, listScopes } from '../../shared/use-cases/usage-views';
import { runTopUpExpiry } from '../../shared/use-cases/jobs';
import type { JobStore } from '../../shared/ports/job-store';
import { memoryLedger, settableClock } from '../support/memory-ledger';

type Deps = ReturnType<typeof memoryLedger>['deps'];

async function org(deps: Deps, orgId = 'acme') {
  await putOrg({ orgId, planName: 'pro', allowanceMilli: toMilli(10), billingAnchor: '2026-01-15' }, deps);
}

const job = (requestId: string, cu: number, userId = 'alice', projectId = 'web') => ({
  requestId,
  orgId: 'acme',
  projectId,
  userId,
  jobType: 'image_generation',
  cuMilli: toMilli(cu),
});

describe('consume', () => {
  it('charges the pool, the member and the project, and answers what is left', async () => {
    const { deps } = memoryLedger();
    await org(deps);
    await putMember({ orgId: 'acme', id: 'alice', role: 'contributor', capMilli: toMilli(3) }, deps);

    const result = await consume(job('j1', 1), deps);

    expect(result).toMatchObject({ chargedMilli: 1000, poolCategory: 'allocated', availableMilli: 2000, replayed: false });
    expect((await getBalance('acme', undefined, deps)).allowance.usedMilli).toBe(1000);
    const members = await listScopes('acme', 'member', { limit: 10, cursor: null }, deps);
    expect(members.items.map((row) => [row.record.id, row.usedMilli, row.capMilli, row.status])).toEqual([['alice', 1000, 3000, 'ok']]);
  });

  it('refuses a consume that would pass the member cap, naming it, and changes nothing', async () => {
    const { deps } = memoryLedger();
    await org(deps);
    await putMember({ orgId: 'acme', id: 'alice', role: 'contributor', capMilli: toMilli(3) }, deps);
    await consume(job('j1', 3), deps);

    await expect(consume(job('j2', 1), deps)).rejects.toMatchObject({ code: 'member_cap_reached', details: { capCu: 3, usedCu: 3, requestedCu: 1 } });
    expect((await getBalance('acme', undefined, deps)).allowance.usedMilli).toBe(3000);
  });

  it('names the team first when the pool and a cap both block', async () => {
    const { deps } = memoryLedger();
    await org(deps);
    await putProject({ orgId: 'acme', id: 'web', capMilli: toMilli(1) }, deps);
    await expect(consume(job('j1', 11), deps)).rejects.toMatchObject({ code: 'team_balance_exhausted' });
  });

  it('obeys a cap lowered by another process on the very next consume of a warm one', async () => {
    const { deps, anotherProcess } = memoryLedger();
    const admin = anotherProcess();
    await org(admin);
    await consume(job('j1', 2), deps);

    await setDefaultLimit({ orgId: 'acme', capMilli: toMilli(2.5) }, admin);

    await expect(consume(job('j2', 1), deps)).rejects.toMatchObject({ code: 'member_cap_reached', details: { capCu: 2.5 } });
    await putMember({ orgId: 'acme', id: 'alice', role: 'contributor', capMilli: toMilli(5) }, admin);
    expect((await consume(job('j3', 1), deps)).replayed).toBe(false);
  });

  it('answers a replay with the first answer, and a reused request id with another body with 409', async () => {
    const { deps, anotherProcess } = memoryLedger();
    await org(deps);
    const first = await consume(job('j1', 1), deps);

    expect(await consume(job('j1', 1), anotherProcess())).toEqual({ ...first, replayed: true });
    await expect(consume(job('j1', 2), deps)).rejects.toMatchObject({ code: 'idempotency_key_reused', field: 'requestId' });
    expect((await getBalance('acme', undefined, deps)).allowance.usedMilli).toBe(1000);
  });

  it('answers 404 for an org never provisioned', async () => {
    const { deps } = memoryLedger();
    await expect(consume(job('j1', 1), deps)).rejects.toMatchObject({ code: 'org_not_found' });
  });

  it('counts a new period from zero, and a refund gives back to the period it was charged in', async () => {
    const clock = settableClock('2026-02-14T23:59:59.999Z');
    const { deps } = memoryLedger({ clock });
    await org(deps);
    await consume(job('old', 4), deps);

    clock.set('2026-02-15T00:00:00.000Z');
    await consume(job('new', 1), deps);
    await refund({ requestId: 'r1', orgId: 'acme', refundOf: 'old' }, deps);

    const balance = await getBalance('acme', undefined, deps);
    expect([balance.period.id, balance.allowance.usedMilli]).toEqual(['2026-02-15T00:00:00.000Z', 1000]);
    const log = await listEvents('acme', { limit: 10, cursor: null }, deps);
    expect(log.items.map((entry) => ('requestId' in entry ? [entry.requestId, entry.periodId] : [entry.kind]))).toEqual([
      ['r1', '2026-01-15T00:00:00.000Z'],
      ['new', '2026-02-15T00:00:00.000Z'],
      ['old', '2026-01-15T00:00:00.000Z'],
      ['org_provisioned'],
    ]);
  });
});

describe('refund', () => {
  it('gives back part, then the rest, and refuses more than was charged', async () => {
    const { deps } = memoryLedger();
    await org(deps);
    await consume(job('j1', 3), deps);

    expect(await refund({ requestId: 'r1', orgId: 'acme', refundOf: 'j1', cuMilli: 1000 }, deps)).toMatchObject({ refundedMilli: 1000, replayed: false });
    await expect(refund({ requestId: 'r2', orgId: 'acme', refundOf: 'j1', cuMilli: 2500 }, deps)).rejects.toMatchObject({ code: 'refund_exceeds_charge', field: 'cu', details: { refundableCu: 2 } });
    expect(await refund({ requestId: 'r3', orgId: 'acme', refundOf: 'j1' }, deps)).toMatchObject({ refundedMilli: 2000 });
    await expect(refund({ requestId: 'r4', orgId: 'acme', refundOf: 'j1' }, deps)).rejects.toMatchObject({ code: 'refund_exceeds_charge', field: 'refundOf' });
    await expect(refund({ requestId: 'r5', orgId: 'acme', refundOf: 'nope' }, deps)).rejects.toMatchObject({ code: 'consume_not_found' });
    expect((await getBalance('acme', undefined, deps)).allowance.usedMilli).toBe(0);
  });
});

describe('check', () => {
  it('answers like a consume would, with the high-cost flag, and changes nothing', async () => {
    const { deps } = memoryLedger();
    await putOrg({ orgId: 'acme', planName: 'pro', allowanceMilli: toMilli(200), billingAnchor: '2026-01-15' }, deps);
    await putApiKey({ orgId: 'acme', id: 'apiu_ci', projectId: 'web', capMilli: toMilli(150) }, deps);

    expect(await check({ orgId: 'acme', projectId: 'web', userId: 'apiu_ci', cuMilli: toMilli(100) }, deps)).toEqual({ allowed: true, availableMilli: 150_000, highCost: true });
    expect(await check({ orgId: 'acme', projectId: 'web', userId: 'apiu_ci', cuMilli: toMilli(151) }, deps)).toEqual({
      allowed: false,
      blockedBy: { code: 'api_key_cap_reached', level: 'api_key', capCu: 150, usedCu: 0 },
      availableMilli: 150_000,
      highCost: true,
    });
    await putOrg({ orgId: 'acme', planName: 'pro', allowanceMilli: toMilli(200), billingAnchor: '2026-01-15', highCostMilli: toMilli(200) }, deps);
    expect((await check({ orgId: 'acme', projectId: 'web', userId: 'apiu_ci', cuMilli: toMilli(100) }, deps)).highCost).toBe(false);
    expect((await getBalance('acme', undefined, deps)).allowance.usedMilli).toBe(0);
  });
});

describe('provisioning', () => {
  it('registers a member seen first in a consume as a contributor, and pages the list with a cursor', async () => {
    const { deps } = memoryLedger();
    await org(deps);
    for (const userId of ['carol', 'alice', 'bob']) await consume(job(`j-${userId}`, 1, userId), deps);

    const first = await listScopes('acme', 'member', { limit: 2, cursor: null }, deps);
    const second = await listScopes('acme', 'member', { limit: 2, cursor: first.nextCursor }, deps);

    expect(first.items.map((row) => [row.record.id, row.record.role])).toEqual([['alice', 'contributor'], ['bob', 'contributor']]);
    expect([second.items.map((row) => row.record.id), second.nextCursor]).toEqual([['carol'], null]);
    await expect(listScopes('acme', 'member', { limit: 2, cursor: 'made-up' }, deps)).rejects.toMatchObject({ code: 'invalid_cursor' });
    await expect(putMember({ orgId: 'nowhere', id: 'x', role: 'viewer' }, deps)).rejects.toMatchObject({ code: 'org_not_found' });
  });
});

describe('plan changes', () => {
  it('keeps a downgrade whose reset passed in force when another is recorded before the rollover ran', async () => {
    const clock = settableClock('2026-02-01T00:00:00.000Z');
    const { deps } = memoryLedger({ clock });
    await putOrg({ orgId: 'acme', planName: 'pro', allowanceMilli: toMilli(100), billingAnchor: '2026-01-15' }, deps);
    await changePlan({ orgId: 'acme', planName: 'basic', allowanceMilli: toMilli(50), change: 'downgrade' }, deps);
    clock.set('2026-02-20T00:00:00.000Z');
    await changePlan({ orgId: 'acme', planName: 'free', allowanceMilli: toMilli(10), change: 'downgrade' }, deps);

    const balance = await getBalance('acme', undefined, deps);
    expect([balance.plan.planName, balance.allowance.allowanceMilli]).toEqual(['basic', toMilli(50)]);
    expect(balance.pendingDowngrade).toEqual({ planName: 'free', allowanceMilli: toMilli(10), effectiveAt: '2026-03-15T00:00:00.000Z' });
  });

  it('changes nothing when the same upgrade or downgrade comes again (a retried PUT)', async () => {
    const clock = settableClock('2026-02-01T10:00:00.000Z');
    const { deps, store } = memoryLedger({ clock });
    await org(deps);
    const upgraded = await changePlan({ orgId: 'acme', planName: 'max', allowanceMilli: toMilli(50), change: 'upgrade' }, deps);
    clock.set('2026-02-01T10:05:00.000Z');
    const again = await changePlan({ orgId: 'acme', planName: 'max', allowanceMilli: toMilli(50), change: 'upgrade' }, deps);
    expect(again.periodStartedAt).toBe(upgraded.periodStartedAt);
    await changePlan({ orgId: 'acme', planName: 'lite', allowanceMilli: toMilli(5), change: 'downgrade' }, deps);
    await changePlan({ orgId: 'acme', planName: 'lite', allowanceMilli: toMilli(5), change: 'downgrade' }, deps);
    const log = await store.logUpTo('acme', clock.now().toISOString());
    expect(log.map((entry) => entry.kind)).toEqual(['org_provisioned', 'plan_upgraded', 'plan_downgrade_scheduled']);
  });
});

describe('top-ups', () => {
  it('holds at most 100 live batches: the 101st purchase is refused, a replay of one held is not, an expired one frees a place', async () => {
    const clock = settableClock('2026-02-01T00:00:00.000Z');
    const { deps } = memoryLedger({ clock });
    await org(deps);
    const buy = (id: number, expiresAt = '2026-06-01T00:00:00.000Z') => addTopUp({ orgId: 'acme', purchaseId: `buy-${id}`, cuMilli: toMilli(1), expiresAt }, deps);
    await buy(0, '2026-02-02T00:00:00.000Z');
    for (let id = 1; id < 100; id += 1) await buy(id);
    await expect(buy(100)).rejects.toMatchObject({ code: 'top_up_limit_reached', field: 'purchaseId' });
    expect(await buy(7)).toMatchObject({ replayed: true });
    clock.set('2026-02-02T00:00:00.000Z');
    expect(await buy(100)).toMatchObject({ replayed: false });
  });
});

describe('a plan change after the jobs stood still', () => {
  it('rolls over every reset that came due first, then changes the plan', async () => {
    const clock = settableClock('2026-01-30T12:00:00.000Z');
    const { deps, store } = memoryLedger({ clock });
    await putOrg({ orgId: 'acme', planName: 'pro', allowanceMilli: toMilli(20), billingAnchor: '2026-01-31' }, deps);
    clock.set('2027-01-30T12:00:00.000Z');
    await changePlan({ orgId: 'acme', planName: 'max', allowanceMilli: toMilli(40), change: 'upgrade' }, deps);

    const log = await store.logUpTo('acme', clock.now().toISOString());
    expect(log.filter((entry) => entry.kind === 'period_reset')).toHaveLength(12);
    expect(log.at(-1)).toMatchObject({ kind: 'plan_upgraded', periodId: '2027-01-30T12:00:00.000Z' });
  });
});

describe('job runs', () => {
  it('handle what is due after more than a page of items they had to leave for the next run', async () => {
    const clock = settableClock('2026-02-01T00:00:00.000Z');
    const { deps, store } = memoryLedger({ clock });
    for (let index = 0; index <= 100; index += 1) {
      await putOrg({ orgId: `busy-${index}`, planName: 'pro', allowanceMilli: toMilli(10), billingAnchor: '2026-01-15' }, deps);
      await addTopUp({ orgId: `busy-${index}`, purchaseId: 'b', cuMilli: toMilli(1), expiresAt: '2026-02-02T00:00:00.000Z' }, deps);
    }
    await putOrg({ orgId: 'calm', planName: 'pro', allowanceMilli: toMilli(10), billingAnchor: '2026-01-15' }, deps);
    await addTopUp({ orgId: 'calm', purchaseId: 'b', cuMilli: toMilli(1), expiresAt: '2026-02-03T00:00:00.000Z' }, deps);
    clock.set('2026-02-04T00:00:00.000Z');
    // The busy orgs' batches keep changing under the job (as if charges kept drawing on them): each is left.
    const busy: JobStore = { ...store, getOrg: (id) => store.getOrg(id), listDue: (...args) => store.listDue(...args), dropDue: (due) => store.dropDue(due), expireTopUp: async (command) => (command.due.orgId.startsWith('busy') ? 'stale' : store.expireTopUp(command)) } as JobStore;

    expect(await runTopUpExpiry({ store: busy, clock })).toEqual({ job: 'top-up-expiry', handled: 1 });
    expect((await store.logUpTo('calm', clock.now().toISOString())).map((entry) => entry.kind)).toContain('top_up_expired');
  });
});
