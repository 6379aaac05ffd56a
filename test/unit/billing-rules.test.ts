// The money and period rules as properties: anchored periods tile time across month ends and leap years; an upgrade
// starts a short period at its instant; a downgrade waits for the reset and settling it changes no answer; a charge
// draws the pool soonest-expiring first and a refund gives it back last-drawn first; the team limit's headroom is the
// whole live pool; a refill fires once per crossing under one id.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossedThreshold, refillBatch, refillPurchaseId, type AutoRefillSettings } from '../../shared/domain/auto-refill';
import { daysInMonth, billingPeriodAt } from '../../shared/domain/billing-period';
import { downgradedTerms, settledTerms, termsAt, upgradedTerms, type OrgTermsSource, type Plan } from '../../shared/domain/billing-terms';
import { chargeLimits, type CapHolder } from '../../shared/domain/charge-limits';
import { evaluateCharge } from '../../shared/domain/limits';
import {
  isLive,
  planDraws,
  planReturns,
  poolCategoryOf,
  poolRemaining,
  poolSources,
  recordedDraws,
  remainingOf,
  type Draw,
  type PoolSourceRef,
  type TopUpBatch,
} from '../../shared/domain/pool';

const DAY_MS = 86_400_000;
const plusMs = (at: Date, ms: number) => new Date(at.getTime() + ms);
const midnightOf = (at: Date) => new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);

// Prepare: arbitraries shared by the properties.
const instants = fc.date({ min: new Date('1999-01-01T00:00:00.000Z'), max: new Date('2101-12-31T23:59:59.999Z'), noInvalidDate: true });
const anchorDays = fc.integer({ min: 1, max: 31 });
const twoDigits = (n: number) => String(n).padStart(2, '0');
/** January has every day 1..31, so any anchor day is a real date there. */
const anchorOn = (day: number) => `2026-01-${twoDigits(day)}`;
/** A fraction from 0 to `max` in thousandths, spread evenly (fc.double leans towards the ends of its range). */
const fractions = (max = 1) => fc.integer({ min: 0, max: max * 1000 }).map((thousandths) => thousandths / 1000);
const plans = fc.record({ planName: fc.constantFrom('free', 'basic', 'pro', 'scale'), allowanceMilli: fc.integer({ min: 0, max: 10_000_000 }) });

/** An org that never changed plan, anchored on `day`. */
const orgOn = (day: number, plan: Plan = { planName: 'pro', allowanceMilli: 100_000 }): OrgTermsSource => ({
  ...plan,
  billingAnchor: anchorOn(day),
  periodStartedAt: null,
  pendingPlan: null,
  highCostMilli: null,
});
/** An org as stored (anchored on some day, maybe upgraded, no plan pending) and an instant at or after its last upgrade. */
const orgsAt = fc
  .record({ day: anchorDays, plan: plans, upgradedAt: fc.option(instants, { nil: null }), at: instants, sinceUpgrade: fc.integer({ min: 0, max: 100 * DAY_MS }) })
  .map(({ day, plan, upgradedAt, at, sinceUpgrade }) =>
    upgradedAt === null ? { org: orgOn(day, plan), at } : { org: upgradedTerms(orgOn(day, plan), plan, upgradedAt), at: plusMs(upgradedAt, sinceUpgrade) },
  );

/** 00:00 UTC on `day` of the month `monthOffset` after `at`'s month, or on that month's last day when it is shorter. */
const anchoredMidnight = (at: Date, monthOffset: number, day: number) => {
  const first = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + monthOffset, 1));
  return new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), Math.min(day, daysInMonth(first.getUTCFullYear(), first.getUTCMonth() + 1))));
};

describe('anchored billing periods across month ends and leap years', () => {
  it('contains the instant, starts at 00:00 UTC on the anchor day or the month end, and tiles the next year with no gap or overlap', () => {
    fc.assert(
      fc.property(anchorDays, instants, (day, at) => {
        const anchor = anchorOn(day);
        let period = billingPeriodAt(anchor, at);
        expect(period.startsAt.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(at.getTime()).toBeLessThan(period.resetsAt.getTime());
        for (let month = 0; month < 13; month += 1) {
          expect(period.startsAt).toEqual(anchoredMidnight(period.startsAt, 0, day));
          expect(billingPeriodAt(anchor, plusMs(period.resetsAt, -1)).startsAt).toEqual(period.startsAt);
          const next = billingPeriodAt(anchor, period.resetsAt);
          expect(next.startsAt).toEqual(period.resetsAt);
          expect(next.startsAt).toEqual(anchoredMidnight(period.startsAt, 1, day));
          period = next;
        }
      }),
    );
  });

  it.each([
    [29, '2024-02-29T12:00:00Z', '2024-02-29', '2024-03-29'],
    [30, '2024-02-29T12:00:00Z', '2024-02-29', '2024-03-30'],
    [31, '2024-02-29T00:00:00Z', '2024-02-29', '2024-03-31'],
    [31, '2024-02-28T23:59:59.999Z', '2024-01-31', '2024-02-29'],
    [29, '2025-02-28T00:00:00Z', '2025-02-28', '2025-03-29'],
    [29, '2025-02-27T23:59:59.999Z', '2025-01-29', '2025-02-28'],
    [30, '2025-03-29T23:59:59.999Z', '2025-02-28', '2025-03-30'],
    [31, '2025-02-28T08:00:00Z', '2025-02-28', '2025-03-31'],
    [29, '2100-02-28T12:00:00Z', '2100-02-28', '2100-03-29'],
    [31, '2100-02-27T12:00:00Z', '2100-01-31', '2100-02-28'],
    [29, '2000-02-29T00:00:00Z', '2000-02-29', '2000-03-29'],
  ])('anchored on the %i, the period holding %s runs from %s to %s', (day, at, start, end) => {
    const period = billingPeriodAt(anchorOn(day), new Date(at));
    expect([period.start, period.end]).toEqual([start, end]);
  });
});

describe('an upgrade starts a short period at its instant', () => {
  it('runs an upgrade on Jan 31 at 15:00 to Feb 28, then month end to month end', () => {
    const at = new Date('2026-01-31T15:00:00Z');
    const upgraded = upgradedTerms(orgOn(15), { planName: 'scale', allowanceMilli: 500_000 }, at);
    const periods: string[][] = [];
    for (let instant = at, i = 0; i < 4; i += 1) {
      const { period } = termsAt(upgraded, instant);
      periods.push([period.id, period.resetsAt.toISOString()]);
      instant = period.resetsAt;
    }
    expect(periods).toEqual([
      ['2026-01-31T15:00:00.000Z', '2026-02-28T00:00:00.000Z'],
      ['2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z'],
      ['2026-03-31T00:00:00.000Z', '2026-04-30T00:00:00.000Z'],
      ['2026-04-30T00:00:00.000Z', '2026-05-31T00:00:00.000Z'],
    ]);
  });

  it('starts the first period at the upgrade, ends it at the next anchored midnight on its day, short by its time of day', () => {
    fc.assert(
      fc.property(orgsAt, plans, ({ org, at }, plan) => {
        const upgraded = upgradedTerms(org, plan, at);
        const first = termsAt(upgraded, at).period;
        expect(first.startsAt).toEqual(at);
        expect(first.id).toBe(at.toISOString());
        expect(first.resetsAt).toEqual(anchoredMidnight(at, 1, at.getUTCDate()));
        const fullLength = first.resetsAt.getTime() - midnightOf(at).getTime();
        const timeOfDay = at.getTime() - midnightOf(at).getTime();
        expect(first.resetsAt.getTime() - first.startsAt.getTime()).toBe(fullLength - timeOfDay);
        expect(termsAt(upgraded, plusMs(first.resetsAt, -1)).period.id).toBe(first.id);
        const second = termsAt(upgraded, first.resetsAt).period;
        expect(second.startsAt).toEqual(first.resetsAt);
        expect(second.resetsAt).toEqual(anchoredMidnight(at, 2, at.getUTCDate()));
      }),
    );
  });

  it('makes two upgrades on one day two periods: a consume between them counts in the first, one after in the second', () => {
    fc.assert(
      fc.property(orgsAt, fractions(), fractions(), ({ org, at: firstAt }, second, between) => {
        const restOfDay = midnightOf(firstAt).getTime() + DAY_MS - 1 - firstAt.getTime();
        fc.pre(restOfDay >= 1);
        const secondAt = plusMs(firstAt, 1 + Math.floor(second * (restOfDay - 1)));
        const consumeBetween = plusMs(firstAt, Math.floor(between * (secondAt.getTime() - firstAt.getTime() - 1)));
        const afterFirst = upgradedTerms(org, { planName: 'pro', allowanceMilli: 100_000 }, firstAt);
        const afterSecond = upgradedTerms(afterFirst, { planName: 'scale', allowanceMilli: 500_000 }, secondAt);
        const firstPeriod = termsAt(afterFirst, consumeBetween).period;
        const secondPeriod = termsAt(afterSecond, secondAt).period;
        expect(firstPeriod.id).toBe(firstAt.toISOString());
        expect(secondPeriod.id).toBe(secondAt.toISOString());
        expect(secondPeriod.id).not.toBe(firstPeriod.id);
        expect(termsAt(afterSecond, plusMs(secondAt, 1)).period.id).toBe(secondPeriod.id);
        expect(secondPeriod.resetsAt).toEqual(firstPeriod.resetsAt);
      }),
    );
  });
});

describe('a downgrade waits for the reset', () => {
  const downgrades = fc
    .record({ orgAt: orgsAt, cut: fc.integer({ min: 1, max: 10_000_000 }), raise: fc.integer({ min: 0, max: 10_000_000 }) })
    .map(({ orgAt: { org, at: downgradeAt }, cut, raise }) => {
      const lower: Plan = { planName: 'basic', allowanceMilli: Math.max(0, org.allowanceMilli - cut) };
      const higher: Plan = { planName: 'scale', allowanceMilli: org.allowanceMilli + raise };
      return { org, downgradeAt, lower, higher, downgraded: downgradedTerms(org, lower, downgradeAt) };
    });

  it('keeps the old allowance up to 1 ms before the reset and the downgrade’s from the reset on, rollover or not', () => {
    fc.assert(
      fc.property(downgrades, fc.integer({ min: 0, max: 400 * DAY_MS }), ({ org, downgradeAt, lower, downgraded }, later) => {
        const { period } = termsAt(org, downgradeAt);
        expect(downgraded.pendingPlan).toEqual({ ...lower, effectiveAt: period.resetsAt.toISOString() });
        expect(termsAt(downgraded, downgradeAt)).toEqual({ ...termsAt(org, downgradeAt), pendingPlan: downgraded.pendingPlan });
        expect(termsAt(downgraded, plusMs(period.resetsAt, -1)).allowanceMilli).toBe(org.allowanceMilli);
        expect(termsAt(downgraded, period.resetsAt).allowanceMilli).toBe(lower.allowanceMilli);
        expect(termsAt(downgraded, plusMs(period.resetsAt, later))).toMatchObject({ ...lower, pendingPlan: null });
      }),
    );
  });

  it('drops the pending downgrade when an upgrade comes before the reset: the upgrade’s plan holds at and after it', () => {
    fc.assert(
      fc.property(downgrades, fractions(), fc.integer({ min: 0, max: 400 * DAY_MS }), ({ downgradeAt, higher, downgraded }, when, later) => {
        const oldReset = new Date(downgraded.pendingPlan!.effectiveAt);
        const upgradeAt = plusMs(downgradeAt, Math.floor(when * (oldReset.getTime() - 1 - downgradeAt.getTime())));
        const upgraded = upgradedTerms(downgraded, higher, upgradeAt);
        expect(upgraded.pendingPlan).toBeNull();
        for (const at of [upgradeAt, plusMs(oldReset, -1), oldReset, plusMs(oldReset, later)]) {
          expect(termsAt(upgraded, at)).toMatchObject({ ...higher, pendingPlan: null });
        }
      }),
    );
  });

  it('settling a due downgrade changes no answer from the settling instant on, and settling early changes nothing', () => {
    fc.assert(
      fc.property(downgrades, fc.integer({ min: 0, max: 400 * DAY_MS }), fc.integer({ min: 0, max: 400 * DAY_MS }), ({ downgraded }, settleAfter, askAfter) => {
        const effectiveAt = new Date(downgraded.pendingPlan!.effectiveAt);
        const settleAt = plusMs(effectiveAt, settleAfter);
        const settled = settledTerms(downgraded, settleAt);
        expect(settled.pendingPlan).toBeNull();
        for (const at of [settleAt, plusMs(settleAt, askAfter)]) expect(termsAt(settled, at)).toEqual(termsAt(downgraded, at));
        expect(settledTerms(downgraded, plusMs(effectiveAt, -1 - settleAfter))).toBe(downgraded);
      }),
    );
  });

  // A second downgrade recorded after the first one's reset, before the rollover wrote it in: changePlan settles first
  // (shared/use-cases/billing.ts), so the first stays in force until the second's reset.
  it('keeps a due but unsettled downgrade in force when a second downgrade is recorded on the settled terms', () => {
    const first = downgradedTerms(orgOn(15), { planName: 'basic', allowanceMilli: 50_000 }, new Date('2026-01-20T00:00:00Z'));
    const at = new Date('2026-02-20T00:00:00Z');
    expect(termsAt(first, at).allowanceMilli).toBe(50_000);
    const second = downgradedTerms(settledTerms(first, at), { planName: 'free', allowanceMilli: 10_000 }, at);
    expect(termsAt(second, at).allowanceMilli).toBe(50_000);
  });
});

// Prepare: a pool at a random instant, with batches that expire before, at, after or on the same instant as the reset.
const pools = fc
  .record({
    orgAt: orgsAt,
    allowance: fc.integer({ min: 0, max: 100_000 }),
    usedShare: fractions(),
    batches: fc.uniqueArray(
      fc.record({
        purchaseId: fc.stringMatching(/^p[0-9a-f]{3}$/),
        cuMilli: fc.integer({ min: 0, max: 50_000 }),
        usedShare: fractions(),
        expiry: fc.oneof(fc.constantFrom('now', 'reset'), fc.integer({ min: -60 * DAY_MS, max: 400 * DAY_MS })),
      }),
      { maxLength: 10, selector: (batch) => batch.purchaseId },
    ),
  })
  .map(({ orgAt: { org, at }, allowance, usedShare, batches }) => {
    const terms = termsAt(org, at);
    const expiryOf = (expiry: number | 'now' | 'reset') => (expiry === 'now' ? at : expiry === 'reset' ? terms.period.resetsAt : plusMs(at, expiry));
    const topUps: TopUpBatch[] = batches.map((batch) => ({
      purchaseId: batch.purchaseId,
      source: 'purchase',
      cuMilli: batch.cuMilli,
      usedMilli: Math.floor(batch.usedShare * batch.cuMilli),
      purchasedAt: plusMs(at, -DAY_MS).toISOString(),
      expiresAt: expiryOf(batch.expiry).toISOString(),
    }));
    return { at, terms, allowance: { capMilli: allowance, usedMilli: Math.floor(usedShare * allowance) }, topUps };
  });
type Pool = typeof pools extends fc.Arbitrary<infer T> ? T : never;
/** The live pool's sources, in draw order. */
const sourcesOf = (pool: Pool) => poolSources(pool.allowance, pool.terms.period, pool.topUps, pool.at);
/** What the pool has left, added up from the records rather than from the sources. */
const liveRemaining = (pool: Pool) =>
  Math.max(0, pool.allowance.capMilli - pool.allowance.usedMilli) + pool.topUps.filter((batch) => Date.parse(batch.expiresAt) > pool.at.getTime()).reduce((sum, batch) => sum + batch.cuMilli - batch.usedMilli, 0);
/** An amount up to a bit more than the pool has: `share` 0..1.2 of the remainder, at least 1 milli. */
const amountFor = (pool: Pool, share: number) => Math.max(1, Math.round(share * liveRemaining(pool)));
const sameRef = (a: PoolSourceRef, b: PoolSourceRef) => a.kind === b.kind && (a.kind === 'allowance' || (b.kind === 'top_up' && a.purchaseId === b.purchaseId));

describe('a charge draws the pool soonest-expiring first', () => {
  it('orders the live sources by expiry, the allowance first on a tie, then by purchase id, and leaves out expired batches', () => {
    fc.assert(
      fc.property(pools, (pool) => {
        const sources = sourcesOf(pool);
        const liveIds = pool.topUps.filter((batch) => isLive(batch, pool.at)).map((batch) => batch.purchaseId);
        expect(sources.flatMap((source) => (source.ref.kind === 'top_up' ? [source.ref.purchaseId] : [])).sort()).toEqual([...liveIds].sort());
        expect(sources.filter((source) => source.ref.kind === 'allowance')).toHaveLength(1);
        const sortKey = (index: number) => {
          const { expiresAt, ref } = sources[index]!;
          return [expiresAt.getTime(), ref.kind === 'allowance' ? '' : ref.purchaseId] as const;
        };
        for (let i = 1; i < sources.length; i += 1) {
          const [previous, current] = [sortKey(i - 1), sortKey(i)];
          expect(previous[0] < current[0] || (previous[0] === current[0] && previous[1] < current[1])).toBe(true);
        }
        expect(poolRemaining(sources)).toBe(liveRemaining(pool));
      }),
    );
  });

  it('draws exactly the amount from a prefix of the sources, emptying all but the last, or refuses when the pool is short', () => {
    fc.assert(
      fc.property(pools, fractions(1.2), (pool, share) => {
        const sources = sourcesOf(pool);
        const amount = amountFor(pool, share);
        const draws = planDraws(sources, amount);
        expect(draws === undefined).toBe(amount > poolRemaining(sources));
        if (draws === undefined) return;
        expect(draws.reduce((sum, draw) => sum + draw.milli, 0)).toBe(amount);
        draws.forEach((draw, index) => {
          const source = sources[index]!;
          expect(draw.ref).toEqual(source.ref);
          expect(draw.milli).toBeLessThanOrEqual(remainingOf(source));
          expect(draw.usedBefore.max).toBe(source.capMilli - draw.milli);
          expect(source.usedMilli).toBeLessThanOrEqual(draw.usedBefore.max);
          if (index < draws.length - 1) {
            expect(draw.milli).toBe(remainingOf(source));
            expect(draw.usedBefore.min).toBe(draw.usedBefore.max);
            expect(source.usedMilli).toBe(draw.usedBefore.min);
          }
        });
        const last = draws[draws.length - 1]!;
        expect(last.milli).toBeGreaterThan(0);
        expect(last.usedBefore.min).toBeNull();
        const recorded = recordedDraws(draws);
        const expiredIds = new Set(pool.topUps.filter((batch) => !isLive(batch, pool.at)).map((batch) => batch.purchaseId));
        expect(recorded.filter(({ ref }) => ref.kind === 'top_up' && expiredIds.has(ref.purchaseId))).toEqual([]);
        const fromAllowance = recorded.some((draw) => draw.ref.kind === 'allowance');
        const fromTopUps = recorded.some((draw) => draw.ref.kind === 'top_up');
        expect(poolCategoryOf(recorded)).toBe(fromTopUps ? (fromAllowance ? 'hybrid' : 'surplus') : 'allocated');
      }),
    );
  });

  it('names a charge allocated, surplus or hybrid by where its CU came from', () => {
    const allowance: Draw = { ref: { kind: 'allowance' }, milli: 5 };
    const topUp: Draw = { ref: { kind: 'top_up', purchaseId: 'p1' }, milli: 5 };
    expect([poolCategoryOf([allowance]), poolCategoryOf([topUp]), poolCategoryOf([topUp, allowance])]).toEqual(['allocated', 'surplus', 'hybrid']);
  });
});

describe('a refund gives CU back last-drawn first', () => {
  // Prepare: a charge drawn from a random pool, then refunded in parts at cut points (all of it when `whole`).
  const refunds = fc
    .record({
      pool: pools,
      share: fractions(),
      cuts: fc.array(fractions(), { minLength: 1, maxLength: 6 }),
      whole: fc.boolean(),
      periodIsCurrent: fc.boolean(),
      liveBatch: fc.func(fc.boolean()),
    })
    .map(({ pool, share, cuts, whole, periodIsCurrent, liveBatch }) => {
      const sources = sourcesOf(pool);
      const charge = Math.min(amountFor(pool, share), poolRemaining(sources));
      const draws = charge === 0 ? [] : recordedDraws(planDraws(sources, charge)!);
      const marks = [...cuts.map((cut) => Math.floor(cut * charge)), ...(whole ? [charge] : [])].sort((a, b) => a - b);
      const amounts = marks.map((mark, index) => mark - (index === 0 ? 0 : marks[index - 1]!));
      return { draws, charge, amounts, whole, now: { periodIsCurrent, liveBatch: (purchaseId: string) => liveBatch(purchaseId) } };
    });

  it('returns each refund in full, last-drawn source first, and each source no more than it gave (exactly, once refunded whole)', () => {
    fc.assert(
      fc.property(refunds, ({ draws, charge, amounts, whole, now }) => {
        const back = draws.map(() => 0);
        const indexOrder: number[] = [];
        let refunded = 0;
        for (const amount of amounts) {
          const returns = planReturns(draws, refunded, amount, now);
          expect(returns.reduce((sum, part) => sum + part.milli, 0)).toBe(amount);
          for (const part of returns) {
            const index = draws.findIndex((draw) => sameRef(draw.ref, part.ref));
            expect(index).toBeGreaterThanOrEqual(0);
            expect(part.milli).toBeGreaterThan(0);
            back[index] = back[index]! + part.milli;
            indexOrder.push(index);
          }
          refunded += amount;
        }
        expect(refunded).toBeLessThanOrEqual(charge);
        expect(indexOrder).toEqual([...indexOrder].sort((a, b) => b - a));
        const earliestTouched = Math.min(...indexOrder);
        draws.forEach((draw, index) => {
          expect(back[index]).toBeLessThanOrEqual(draw.milli);
          if (whole || index > earliestTouched) expect(back[index]).toBe(draw.milli);
          if (index < earliestTouched) expect(back[index]).toBe(0);
        });
      }),
    );
  });

  it('restores allowance CU only in its own period and top-up CU only while its batch is live, saying why not', () => {
    fc.assert(
      fc.property(refunds, ({ draws, charge, now }) => {
        for (const part of planReturns(draws, 0, charge, now)) {
          const restored = part.ref.kind === 'allowance' ? now.periodIsCurrent : now.liveBatch(part.ref.purchaseId);
          expect(part.restored).toBe(restored);
          expect(part.reason).toBe(restored ? 'restored' : part.ref.kind === 'allowance' ? 'period_ended' : 'top_up_expired');
        }
      }),
    );
  });

  it('undoes a hybrid charge top-up first when the allowance was drawn first', () => {
    const draws: Draw[] = [
      { ref: { kind: 'allowance' }, milli: 3_000 },
      { ref: { kind: 'top_up', purchaseId: 'p1' }, milli: 2_000 },
    ];
    const now = { periodIsCurrent: false, liveBatch: () => true };
    expect(planReturns(draws, 0, 2_500, now)).toEqual([
      { ref: { kind: 'top_up', purchaseId: 'p1' }, milli: 2_000, restored: true, reason: 'restored' },
      { ref: { kind: 'allowance' }, milli: 500, restored: false, reason: 'period_ended' },
    ]);
    expect(planReturns(draws, 2_500, 2_500, now)).toEqual([{ ref: { kind: 'allowance' }, milli: 2_500, restored: false, reason: 'period_ended' }]);
  });
});

describe('the team limit is the whole live pool', () => {
  const caps = fc.record({ capMilli: fc.option(fc.integer({ min: 0, max: 200_000 }), { nil: null }), used: fc.integer({ min: 0, max: 200_000 }) });

  it('counts the allowance remainder and the live batches, never an expired one, and refuses at team level exactly past it', () => {
    fc.assert(
      fc.property(pools, caps, caps, fractions(1.2), (pool, actorCap, projectCap, share) => {
        const { id } = pool.terms.period;
        const terms = { ...pool.terms, allowanceMilli: pool.allowance.capMilli };
        const org = { defaultCapMilli: null, usage: { [id]: pool.allowance.usedMilli, '1998-12-01T00:00:00.000Z': 1 }, topUps: pool.topUps };
        const holder = (kind: CapHolder['kind'], cap: { capMilli: number | null; used: number }): CapHolder => ({ kind, capMilli: cap.capMilli, usage: { [id]: cap.used } });
        const limits = chargeLimits(terms, org, holder('project', projectCap), holder('member', actorCap), pool.at);
        const headroom = liveRemaining(pool);
        expect(limits.team).toEqual({ level: 'team', capMilli: pool.allowance.capMilli, usedMilli: pool.allowance.usedMilli, headroomMilli: headroom });
        const amount = amountFor(pool, share);
        const decision = evaluateCharge(limits.inReportingOrder, amount);
        expect(!decision.allowed && decision.blockedBy.level === 'team').toBe(amount > headroom);
        const capsAllow = [actorCap, projectCap].every((cap) => cap.capMilli === null || cap.used + amount <= cap.capMilli);
        expect(decision.allowed).toBe(amount <= headroom && capsAllow);
      }),
    );
  });
});

describe('auto-refill', () => {
  const settings = (thresholdMilli: number, enabled = true): AutoRefillSettings => ({ enabled, thresholdMilli, amountMilli: 50_000, expiresInDays: 30, maxPerPeriod: 5 });

  it('crosses when the pool goes from at least the threshold to below it, and only when enabled', () => {
    expect(crossedThreshold(settings(10_000), 10_000, 9_999)).toBe(true);
    expect(crossedThreshold(settings(10_000), 10_001, 10_000)).toBe(false);
    expect(crossedThreshold(settings(10_000), 9_999, 0)).toBe(false);
    expect(crossedThreshold(settings(10_000, false), 20_000, 0)).toBe(false);
  });

  it('crosses exactly once on a run of consumes that takes the pool from at or above the threshold to below it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 200_000 }), fc.array(fc.integer({ min: 0, max: 30_000 }), { maxLength: 12 }), (threshold, start, charges) => {
        const balances = charges.reduce((seen, charge) => [...seen, Math.max(0, seen[seen.length - 1]! - charge)], [start]);
        const crossings = balances.slice(1).filter((after, index) => crossedThreshold(settings(threshold), balances[index]!, after)).length;
        expect(crossings).toBe(start >= threshold && balances[balances.length - 1]! < threshold ? 1 : 0);
      }),
    );
  });

  it('buys under one id per crossing: the same crossing again gives the same id, another org or crossing another', () => {
    const id = refillPurchaseId('org_1', 'cross_1');
    expect(id).toMatch(/^auto_[0-9a-f]{24}$/);
    expect(refillPurchaseId('org_1', 'cross_1')).toBe(id);
    expect(new Set([id, refillPurchaseId('org_2', 'cross_1'), refillPurchaseId('org_1', 'cross_2'), refillPurchaseId('org_1c', 'ross_1')]).size).toBe(4);
  });

  it('adds a fresh batch that is live until its expiry and not at it', () => {
    const at = new Date('2026-03-10T12:00:00Z');
    const batch = refillBatch(settings(10_000), 'auto_x', at);
    expect(batch).toMatchObject({ purchaseId: 'auto_x', source: 'auto_refill', cuMilli: 50_000, usedMilli: 0, purchasedAt: at.toISOString() });
    expect(Date.parse(batch.expiresAt) - at.getTime()).toBe(30 * DAY_MS);
    expect(isLive(batch, plusMs(new Date(batch.expiresAt), -1))).toBe(true);
    expect(isLive(batch, new Date(batch.expiresAt))).toBe(false);
  });
});
