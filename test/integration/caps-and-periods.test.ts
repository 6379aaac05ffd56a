// Caps bite at once (a warm process with cached limits obeys a change made elsewhere on its very next consume),
// and billing periods: a consume at the boundary lands in the right period, and a new period starts at zero.

import { describe, expect, it } from 'vitest';
import { toMilli } from '../../shared/domain/compute-units';
import { check } from '../../shared/use-cases/check';
import { consume } from '../../shared/use-cases/consume';
import { getBalance } from '../../shared/use-cases/balance';
import { changePlan, provisionOrg as putOrg } from '../../shared/use-cases/billing';
import { putApiKey, putMember, putProject, setDefaultLimit } from '../../shared/use-cases/provisioning';
import { refund } from '../../shared/use-cases/refund';
import { listScopes } from '../../shared/use-cases/usage-views';
import { auditLedger, nonZero } from '../support/ledger-audit';
import { createTestLedger, manualClock } from '../support/ledger-fixture';
import { consumeRequest, provisionOrg, tryConsume } from '../support/provision';

describe('caps bite at once', () => {
  it('obeys a lowered, raised and removed member cap on the very next consume of a warm process', async () => {
    const ledger = await createTestLedger();
    const admin = ledger.anotherProcess();
    await provisionOrg(admin, 'org-cap', { allowanceCu: 100, members: { alice: 10 } });
    const job = () => consumeRequest('org-cap', { userId: 'alice', projectId: 'p1', cu: 2 });
    expect((await tryConsume(ledger.deps, job())).ok).toBe(true); // caches cap 10

    await putMember({ orgId: 'org-cap', id: 'alice', role: 'contributor', capMilli: toMilli(3) }, admin);
    const lowered = await tryConsume(ledger.deps, job());
    expect(lowered).toMatchObject({ ok: false, code: 'member_cap_reached' });
    expect(!lowered.ok && lowered.error).toMatchObject({ details: { level: 'member', capCu: 3, usedCu: 2, requestedCu: 2 } });

    await putMember({ orgId: 'org-cap', id: 'alice', role: 'contributor', capMilli: toMilli(4) }, admin);
    expect((await tryConsume(ledger.deps, job())).ok).toBe(true);
    expect(await tryConsume(ledger.deps, job())).toMatchObject({ ok: false, code: 'member_cap_reached' });

    await putMember({ orgId: 'org-cap', id: 'alice', role: 'contributor', capMilli: null }, admin);
    expect((await tryConsume(ledger.deps, job())).ok).toBe(true);
  });

  it('applies the default limit live to every member and key without a cap of their own', async () => {
    const ledger = await createTestLedger();
    const admin = ledger.anotherProcess();
    await provisionOrg(admin, 'org-default', { allowanceCu: 100, members: { bob: null, carol: 50 }, apiKeys: { apiu_ci: { projectId: 'p1', capCu: null } } });
    for (const userId of ['bob', 'carol', 'apiu_ci']) {
      expect((await tryConsume(ledger.deps, consumeRequest('org-default', { userId, projectId: 'p1', cu: 3 }))).ok).toBe(true);
    }

    await setDefaultLimit({ orgId: 'org-default', capMilli: toMilli(3.5) }, admin);
    expect(await tryConsume(ledger.deps, consumeRequest('org-default', { userId: 'bob', projectId: 'p1', cu: 2 }))).toMatchObject({ code: 'member_cap_reached' });
    expect(await tryConsume(ledger.deps, consumeRequest('org-default', { userId: 'apiu_ci', projectId: 'p1', cu: 2 }))).toMatchObject({ code: 'api_key_cap_reached' });
    expect((await tryConsume(ledger.deps, consumeRequest('org-default', { userId: 'carol', projectId: 'p1', cu: 2 }))).ok).toBe(true);
    const members = await listScopes('org-default', 'member', { limit: 10, cursor: null }, admin);
    expect(members.items.map((row) => [row.record.id, row.capSource, row.capMilli, row.status])).toEqual([
      ['bob', 'default', 3500, 'warning'],
      ['carol', 'individual', 50000, 'ok'],
    ]);

    await setDefaultLimit({ orgId: 'org-default', capMilli: toMilli(6) }, admin);
    expect((await tryConsume(ledger.deps, consumeRequest('org-default', { userId: 'bob', projectId: 'p1', cu: 2 }))).ok).toBe(true);
    await setDefaultLimit({ orgId: 'org-default', capMilli: null }, admin);
    expect((await tryConsume(ledger.deps, consumeRequest('org-default', { userId: 'apiu_ci', projectId: 'p1', cu: 20 }))).ok).toBe(true);
  });

  it('obeys project and API key caps and an upgrade at once', async () => {
    const ledger = await createTestLedger();
    const admin = ledger.anotherProcess();
    await provisionOrg(admin, 'org-levels', { allowanceCu: 100, projects: { p1: null }, apiKeys: { apiu_k: { projectId: 'p1', capCu: null } } });
    expect((await tryConsume(ledger.deps, consumeRequest('org-levels', { userId: 'apiu_k', projectId: 'p1', cu: 5 }))).ok).toBe(true);

    await putProject({ orgId: 'org-levels', id: 'p1', capMilli: toMilli(6) }, admin);
    expect(await tryConsume(ledger.deps, consumeRequest('org-levels', { userId: 'dan', projectId: 'p1', cu: 2 }))).toMatchObject({ code: 'project_cap_reached' });
    await putApiKey({ orgId: 'org-levels', id: 'apiu_k', projectId: 'p1', capMilli: toMilli(5.5) }, admin);
    expect(await tryConsume(ledger.deps, consumeRequest('org-levels', { userId: 'apiu_k', projectId: 'p1', cu: 1 }))).toMatchObject({ code: 'api_key_cap_reached' });
    // An upgrade starts a new period with fresh counters and the new allowance: the warm process sees both at once.
    await changePlan({ orgId: 'org-levels', planName: 'max', allowanceMilli: toMilli(100.2), change: 'upgrade' }, admin);
    expect((await tryConsume(ledger.deps, consumeRequest('org-levels', { userId: 'apiu_k', projectId: 'p1', cu: 5.5 }))).ok).toBe(true);
    expect(await tryConsume(ledger.deps, consumeRequest('org-levels', { userId: 'dan', projectId: 'p2', cu: 94.8 }))).toMatchObject({ code: 'team_balance_exhausted' });
    expect((await tryConsume(ledger.deps, consumeRequest('org-levels', { userId: 'dan', projectId: 'p2', cu: 94.7 }))).ok).toBe(true);
  });

  it('answers check exactly as a consume would, without changing anything', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-check', { allowanceCu: 100, members: { eve: 5 } });
    await putOrg({ orgId: 'org-check', planName: 'pro', allowanceMilli: toMilli(100), billingAnchor: '2026-01-15', highCostMilli: toMilli(4) }, ledger.deps);
    await consume(consumeRequest('org-check', { userId: 'eve', projectId: 'p1', cu: 3 }), ledger.deps);
    const before = await ledger.scanAll();

    const fits = await check({ orgId: 'org-check', projectId: 'p1', userId: 'eve', cuMilli: 2000 }, ledger.deps);
    const tooMuch = await check({ orgId: 'org-check', projectId: 'p1', userId: 'eve', cuMilli: 4000 }, ledger.deps);

    expect(fits).toEqual({ allowed: true, availableMilli: 2000, highCost: false });
    expect(tooMuch).toEqual({
      allowed: false,
      blockedBy: { code: 'member_cap_reached', level: 'member', capCu: 5, usedCu: 3 },
      availableMilli: 2000,
      highCost: true,
    });
    expect(await ledger.scanAll()).toEqual(before);
    await expect(check({ orgId: 'nobody', projectId: 'p1', userId: 'eve', cuMilli: 1 }, ledger.deps)).rejects.toMatchObject({ code: 'org_not_found' });
  });
});

describe('billing periods', () => {
  it('lands a consume at the boundary in the new period, which starts at zero', async () => {
    const clock = manualClock('2026-02-27T23:59:59.999Z');
    const ledger = await createTestLedger({ clock });
    await provisionOrg(ledger.deps, 'org-period', { allowanceCu: 10, billingAnchor: '2025-10-31', members: { fay: 4 } });
    const last = consumeRequest('org-period', { userId: 'fay', projectId: 'p1', cu: 4 });
    await consume(last, ledger.deps);
    expect(await tryConsume(ledger.deps, consumeRequest('org-period', { userId: 'fay', projectId: 'p1', cu: 1 }))).toMatchObject({ code: 'member_cap_reached' });

    clock.set('2026-02-28T00:00:00.000Z'); // an anchor on the 31st resets on the last day of February
    const first = await consume(consumeRequest('org-period', { userId: 'fay', projectId: 'p1', cu: 4 }), ledger.deps);

    expect(first.replayed).toBe(false);
    const balance = await getBalance('org-period', undefined, ledger.deps);
    expect([balance.period.id, balance.allowance.resetsAt.toISOString(), balance.allowance.usedMilli]).toEqual(['2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z', 4000]);
    const audit = auditLedger(await ledger.scanAll(), 'org-period');
    expect(audit.consumes.map((event) => event.periodId).sort()).toEqual(['2026-01-31T00:00:00.000Z', '2026-02-28T00:00:00.000Z']);
    expect(nonZero(audit.counters)).toEqual(nonZero(audit.fromEvents));

    // A refund of last period's job gives back to last period's counters, not to the current ones.
    await refund({ requestId: 'refund-old', orgId: 'org-period', refundOf: last.requestId }, ledger.deps);
    const after = auditLedger(await ledger.scanAll(), 'org-period');
    expect(after.counters.get('member:fay@2026-01-31')).toBe(0);
    expect(after.counters.get('member:fay@2026-02-28')).toBe(4000);
    expect((await getBalance('org-period', undefined, ledger.deps)).allowance.usedMilli).toBe(4000);
  });
});
