// The cost-alert rules: a threshold's level, and which thresholds a rise of usage crosses (each exactly once as usage
// climbs in steps, whatever the steps).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MilliCu } from '../../shared/domain/compute-units';
import { checkThresholds, crossedThresholds, thresholdMilli, type AlertThreshold } from '../../shared/domain/cost-alerts';
import { ValidationError } from '../../shared/domain/errors';

const milli = (value: number) => value as MilliCu;
const pool = (thresholdId: string, level: AlertThreshold['level']): AlertThreshold => ({ thresholdId, scope: { kind: 'org' }, level });

describe('cost-alert rules', () => {
  it('puts an absolute threshold at its CU, and a percentage at that share of the limit, rounded up', () => {
    expect(thresholdMilli({ kind: 'absolute', cuMilli: milli(1500) }, null)).toBe(1500);
    expect(thresholdMilli({ kind: 'percent', percent: 80 }, milli(20_000))).toBe(16_000);
    expect(thresholdMilli({ kind: 'percent', percent: 33 }, milli(1001))).toBe(331);
  });

  it('never fires a percentage of a scope without a limit', () => {
    expect(crossedThresholds([pool('p', { kind: 'percent', percent: 50 })], milli(0), milli(1_000_000), null)).toEqual([]);
  });

  it('crosses a level once as usage climbs in any steps: the step that reaches it, none before or after', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 50 }), fc.integer({ min: 1, max: 100_000 }), (steps, level) => {
        const thresholds = [pool('t', { kind: 'absolute', cuMilli: milli(level) })];
        let used = 0;
        let fired = 0;
        for (const step of steps) {
          fired += crossedThresholds(thresholds, milli(used), milli(used + step), null).length;
          used += step;
        }
        expect(fired).toBe(used >= level ? 1 : 0);
      }),
    );
  });

  it('refuses a list whose ids repeat, naming the repeat', () => {
    const list = [pool('a', { kind: 'percent', percent: 50 }), pool('b', { kind: 'percent', percent: 60 }), pool('a', { kind: 'percent', percent: 70 })];
    expect(() => checkThresholds(list)).toThrow(expect.objectContaining({ field: 'thresholds.2.id' }));
    expect(() => checkThresholds(list)).toThrow(ValidationError);
  });
});
