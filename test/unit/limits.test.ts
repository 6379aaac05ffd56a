import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chargesOutsideKeyProject } from '../../shared/domain/api-key-project';
import { actorKindOf, effectiveActorCap, evaluateCharge, limitCode, usageStatus, type LimitUsage } from '../../shared/domain/limits';

const team = (capMilli: number, usedMilli: number): LimitUsage => ({ level: 'team', capMilli, usedMilli });

describe('the four limits', () => {
  it('treats an actor id starting with apiu_ as an API key, anything else as a member', () => {
    expect(actorKindOf('apiu_x89E')).toBe('api_key');
    expect(actorKindOf('c452b444')).toBe('member');
    expect(actorKindOf('api_user')).toBe('member');
  });

  it('keeps an API key to the project its record names; a key without one, and a member, charge any project', () => {
    expect(chargesOutsideKeyProject({ kind: 'api_key', projectId: 'web' }, 'app')).toBe(true);
    expect(chargesOutsideKeyProject({ kind: 'api_key', projectId: 'web' }, 'web')).toBe(false);
    expect(chargesOutsideKeyProject({ kind: 'api_key', projectId: null }, 'app')).toBe(false);
    fc.assert(
      fc.property(fc.constantFrom('member' as const, 'project' as const), fc.option(fc.string(), { nil: null }), fc.string(), (kind, projectId, charged) => {
        expect(chargesOutsideKeyProject({ kind, projectId }, charged)).toBe(false);
      }),
    );
  });

  it('lets an individual cap win over the default limit, and the default apply to everyone without one', () => {
    expect(effectiveActorCap(5000, 2000)).toEqual({ capMilli: 5000, capSource: 'individual' });
    expect(effectiveActorCap(null, 2000)).toEqual({ capMilli: 2000, capSource: 'default' });
    expect(effectiveActorCap(null, null)).toEqual({ capMilli: null, capSource: 'none' });
  });

  it('shows the usage bar amber from 80 % and red at 100 %', () => {
    expect(usageStatus(7_999, 10_000)).toBe('ok');
    expect(usageStatus(8_000, 10_000)).toBe('warning');
    expect(usageStatus(10_000, 10_000)).toBe('reached');
    expect(usageStatus(0, 0)).toBe('reached');
    expect(usageStatus(1_000_000, null)).toBe('ok');
  });

  it('names the first limit in reporting order that the charge would pass', () => {
    const decision = evaluateCharge(
      [team(100_000, 99_000), { level: 'member', capMilli: 5_000, usedMilli: 5_000 }, { level: 'project', capMilli: null, usedMilli: 0 }],
      2_000,
    );
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) {
      expect(decision.blockedBy.level).toBe('team');
      expect(limitCode(decision.blockedBy.level)).toBe('team_balance_exhausted');
    }
  });

  it('allows a charge that exactly fills a cap, and reports the smallest headroom', () => {
    const decision = evaluateCharge(
      [team(100_000, 10_000), { level: 'api_key', capMilli: 5_000, usedMilli: 2_000 }, { level: 'project', capMilli: 50_000, usedMilli: 0 }],
      3_000,
    );
    expect(decision).toEqual({ allowed: true, availableMilli: 3_000 });
  });

  it('never lets caps grant more than the team pool: a charge is allowed only if it fits under every cap', () => {
    const limit = fc.record({ cap: fc.option(fc.integer({ min: 0, max: 1e6 }), { nil: null }), used: fc.integer({ min: 0, max: 1e6 }) });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: 1e6 }), limit, limit, fc.integer({ min: 1, max: 1e6 }), (poolCap, poolUsed, actor, project, amount) => {
        const limits: LimitUsage[] = [
          team(poolCap, poolUsed),
          { level: 'member', capMilli: actor.cap, usedMilli: actor.used },
          { level: 'project', capMilli: project.cap, usedMilli: project.used },
        ];
        const fits = limits.every((entry) => entry.capMilli === null || entry.usedMilli + amount <= entry.capMilli);
        const decision = evaluateCharge(limits, amount);
        expect(decision.allowed).toBe(fits);
        if (decision.allowed) expect(decision.availableMilli).toBeLessThanOrEqual(Math.max(0, poolCap - poolUsed));
      }),
      { numRuns: 3000 },
    );
  });
});
