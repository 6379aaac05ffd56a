// End to end through the local runner over HTTP: a top-up drawn before the allowance, a consume that crosses the
// auto-refill threshold and a refill the runner's stream poller buys and publishes, a downgrade that waits for the
// reset and takes over there with the clock moved, the jobs logging the reset and the expiry and publishing them,
// an upgrade that starts a period at its own instant, and the balance of a past instant from the log.

import { describe, expect, it, vi } from 'vitest';
import { client, expectError, runnerForSuite, successfulCalls, type Json } from '../support/runner-http';

describe('plans, top-ups and auto-refill through the local runner', () => {
  const runner = runnerForSuite({ inMemory: true, env: { JOB_INTERVAL_SECONDS: '86400' } });
  const call = client(runner);
  const ok = successfulCalls(call);

  const consume = (requestId: string, cu: number) => ok('POST', '/v1/meter/consume', { requestId, orgId: 'shop', projectId: 'web', userId: 'ana', jobType: 'upscale', cu });
  const balance = () => ok('GET', '/v1/orgs/shop/balance');
  const published = async () => (await ok('GET', '/local/events/published')).items as Json[];

  it('draws, refills once, downgrades at the reset, expires a batch and upgrades, as the README says', async () => {
    await ok('PUT', '/local/clock', { at: '2026-05-10T09:00:00Z' });
    await ok('PUT', '/v1/orgs/shop', { plan: { name: 'pro', allowanceCu: 100 }, billingAnchor: '2026-01-15' });
    await ok('PUT', '/v1/orgs/shop/auto-refill', { enabled: true, thresholdCu: 20, amountCu: 50, expiresInDays: 30, maxPerPeriod: 2 });
    // A top-up expiring before the reset on the 15th is drawn first.
    expect(await ok('POST', '/v1/orgs/shop/top-ups', { purchaseId: 'buy-1', cu: 10, expiresAt: '2026-05-12T00:00:00Z' })).toMatchObject({ purchaseId: 'buy-1', cu: 10, replayed: false });
    expect(await consume('j1', 15)).toMatchObject({ poolCategory: 'hybrid', draws: [{ source: 'top_up', purchaseId: 'buy-1', cu: 10 }, { source: 'allowance', cu: 5 }] });
    const afterFirst = await balance();
    expect(afterFirst).toMatchObject({ usedCu: 5, availableCu: 95, topUps: [{ purchaseId: 'buy-1', remainingCu: 0 }] });

    // 95 -> 15 crosses the 20 CU threshold: one refill of 50, bought by the stream, spendable, published.
    await consume('j2', 80);
    await vi.waitFor(async () => expect((await balance()).availableCu).toBe(65), { timeout: 60_000, interval: 200 });
    const refills = (await ok('GET', '/v1/orgs/shop/auto-refill')).currentPeriod;
    expect(refills).toMatchObject({ refillCount: 1, refills: [{ cu: 50 }] });
    // 65 -> 5 crosses it again: the second and last refill this period allows.
    expect(await consume('j3', 60)).toMatchObject({ poolCategory: 'hybrid' });
    await vi.waitFor(async () => expect((await balance()).availableCu).toBe(55), { timeout: 60_000, interval: 200 });
    await vi.waitFor(async () => expect((await published()).filter((event) => event.detailType === 'AutoRefillPurchased')).toHaveLength(2), { timeout: 60_000, interval: 200 });

    // A downgrade waits for the reset on the 15th; the balance shows it pending.
    await ok('PUT', '/v1/orgs/shop/plan', { name: 'lite', allowanceCu: 40, change: 'downgrade' });
    expect((await balance()).pendingDowngrade).toEqual({ name: 'lite', allowanceCu: 40, effectiveAt: '2026-05-15T00:00:00.000Z' });
    const before = await balance();

    // Past the reset (no job has run): the new period, the downgraded allowance, fresh counters.
    await ok('PUT', '/local/clock', { at: '2026-05-15T00:00:01Z' });
    expect(await balance()).toMatchObject({ plan: { name: 'lite', allowanceCu: 40 }, usedCu: 0, periodStart: '2026-05-15T00:00:00.000Z', resetsAt: '2026-06-15T00:00:00.000Z', pendingDowngrade: null });
    const runs = (await ok('POST', '/local/jobs/run')).runs as Json[];
    // May's export is not due before June 1st.
    expect(runs).toEqual([
      expect.objectContaining({ job: 'period-rollover', handled: 1 }),
      expect.objectContaining({ job: 'top-up-expiry', handled: 1 }),
      expect.objectContaining({ job: 'monthly-export', handled: 0 }),
    ]);
    const detailTypes = (await published()).map((event) => event.detailType);
    expect(detailTypes).toEqual(expect.arrayContaining(['BillingPeriodReset', 'TopUpExpired']));
    expect((await published()).find((event) => event.detailType === 'TopUpExpired')?.detail).toMatchObject({ purchaseId: 'buy-1', cu: 10, unspentCu: 0 });
    const kinds = ((await ok('GET', '/v1/orgs/shop/events')).items as Json[]).map((entry) => entry.kind);
    expect(kinds).toEqual(expect.arrayContaining(['period_reset', 'top_up_expired', 'plan_downgrade_scheduled', 'top_up_purchased', 'org_provisioned']));

    // The balance of a past instant, from the log alone, is what the org saw then.
    const { at: _at, ...past } = await ok('GET', `/v1/orgs/shop/balance?at=${encodeURIComponent('2026-05-11T00:00:00Z')}`);
    expect(past).toEqual(before);

    // An upgrade starts a period at its own instant; the reset moves to that day of the month.
    await ok('PUT', '/local/clock', { at: '2026-05-20T15:30:00Z' });
    const upgraded = await ok('PUT', '/v1/orgs/shop/plan', { name: 'max', allowanceCu: 500, change: 'upgrade' });
    expect(upgraded).toMatchObject({ plan: { name: 'max', allowanceCu: 500 }, billingAnchor: '2026-05-20', currentPeriod: { resetsAt: '2026-06-20T00:00:00.000Z' } });
    expect(Date.parse(upgraded.currentPeriod.start)).toBeGreaterThanOrEqual(Date.parse('2026-05-20T15:30:00Z'));
    expect(await balance()).toMatchObject({ usedCu: 0, plan: { allowanceCu: 500 } });
    // The plan now changes only through /plan.
    expectError(await call('PUT', '/v1/orgs/shop', { body: { plan: { name: 'pro', allowanceCu: 100 }, billingAnchor: '2026-01-15' } }), 409, 'plan_change_required', 'plan');
  });
});
