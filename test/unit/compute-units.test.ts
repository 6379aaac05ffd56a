import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CU, hasAtMostThreeDecimals, toCu, toMilli } from '../../shared/domain/compute-units';

describe('CU amounts as integer milli-CU', () => {
  it('round-trips every amount with at most three decimals exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_CU * 1000 }), (milli) => {
        const cu = toCu(milli);
        expect(hasAtMostThreeDecimals(cu)).toBe(true);
        expect(toMilli(cu)).toBe(milli);
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses four decimals, NaN and infinities', () => {
    for (const cu of [1.0001, 0.0005, 2.3456, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(hasAtMostThreeDecimals(cu)).toBe(false);
    }
  });

  it('keeps sums exact where decimal floats would drift', () => {
    const amounts = [0.1, 0.2, 1.234, 0.001];
    const milli = amounts.map(toMilli).reduce((sum, value) => sum + value, 0);
    expect(toCu(milli)).toBe(1.535);
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(toCu(toMilli(0.1) + toMilli(0.2))).toBe(0.3);
  });
});
