import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HIGH_COST_MILLI, termsAt } from '../../shared/domain/billing-terms';
import { chargeLimits, usedIn } from '../../shared/domain/charge-limits';
import { capFor } from '../../shared/domain/limits';

const org = { planName: 'pro', allowanceMilli: 100_000, billingAnchor: '2026-01-15', periodStartedAt: null, pendingPlan: null, highCostMilli: null, defaultCapMilli: null, usage: {}, topUps: [] };

describe('billing terms', () => {
  it('answers the period by its first instant, the allowance, the default high-cost threshold and no pending plan', () => {
    const terms = termsAt(org, new Date('2026-05-20T10:00:00Z'));
    expect(terms).toEqual({
      period: {
        id: '2026-05-15T00:00:00.000Z',
        startsAt: new Date('2026-05-15T00:00:00Z'),
        resetsAt: new Date('2026-06-15T00:00:00Z'),
      },
      planName: 'pro',
      allowanceMilli: 100_000,
      highCostMilli: DEFAULT_HIGH_COST_MILLI,
      pendingPlan: null,
    });
  });

  it("keeps the org's own high-cost threshold, even 0", () => {
    expect(termsAt({ ...org, highCostMilli: 0 }, new Date('2026-05-20T10:00:00Z')).highCostMilli).toBe(0);
    expect(termsAt({ ...org, highCostMilli: 5000 }, new Date('2026-05-20T10:00:00Z')).highCostMilli).toBe(5000);
  });

  it('identifies every period by an instant on its start date, at midnight UTC', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 31 }), fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), (day, at) => {
        const { period } = termsAt({ ...org, billingAnchor: `2026-01-${String(day).padStart(2, '0')}` }, at);
        expect(period.id).toBe(period.startsAt.toISOString());
        expect(period.id.endsWith('T00:00:00.000Z')).toBe(true);
        expect(period.startsAt.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(period.resetsAt.getTime()).toBeGreaterThan(at.getTime());
      }),
    );
  });
});

describe('caps', () => {
  it.each([
    [{ kind: 'member', capMilli: 5000 }, 2000, { capMilli: 5000, capSource: 'individual' }],
    [{ kind: 'member', capMilli: null }, 2000, { capMilli: 2000, capSource: 'default' }],
    [{ kind: 'api_key', capMilli: null }, 2000, { capMilli: 2000, capSource: 'default' }],
    [{ kind: 'api_key', capMilli: null }, null, { capMilli: null, capSource: 'none' }],
    [{ kind: 'project', capMilli: 7000 }, 2000, { capMilli: 7000, capSource: 'individual' }],
    [{ kind: 'project', capMilli: null }, 2000, { capMilli: null, capSource: 'none' }],
  ] as const)('capFor(%o) with default %s is %o', (scope, defaultCapMilli, expected) => {
    expect(capFor(scope, { defaultCapMilli })).toEqual(expected);
  });

  it('names the limits of a charge by level, in reporting order, counted in the current period only', () => {
    const terms = termsAt(org, new Date('2026-05-20T10:00:00Z'));
    const now = terms.period.id;
    const limits = chargeLimits(
      terms,
      { defaultCapMilli: 3000, usage: { [now]: 40_000, '2026-04-15T00:00:00.000Z': 99_000 }, topUps: [] },
      { kind: 'project', capMilli: null, usage: { [now]: 1000 } },
      { kind: 'api_key', capMilli: null, usage: { [now]: 2000 } },
      new Date('2026-05-20T10:00:00Z'),
    );
    expect(limits.team).toEqual({ level: 'team', capMilli: 100_000, usedMilli: 40_000, headroomMilli: 60_000 });
    expect(limits.actor).toEqual({ level: 'api_key', capMilli: 3000, usedMilli: 2000 });
    expect(limits.project).toEqual({ level: 'project', capMilli: null, usedMilli: 1000 });
    expect(limits.inReportingOrder).toEqual([limits.team, limits.actor, limits.project]);
    expect(usedIn({ usage: {} }, terms.period)).toBe(0);
  });
});
