import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { billingPeriodAt, daysInMonth, parseIsoDate } from '../../shared/domain/billing-period';

const DAY_MS = 86_400_000;
const anchors = fc
  .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-12-31T00:00:00Z'), noInvalidDate: true })
  .map((date) => date.toISOString().slice(0, 10));
const instants = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true });

describe('billing periods anchored on the subscription day', () => {
  it('runs 15th to 15th for an anchor on the 15th', () => {
    const period = billingPeriodAt('2026-01-15', new Date('2026-05-20T10:00:00Z'));
    expect(period.start).toBe('2026-05-15');
    expect(period.end).toBe('2026-06-15');
    expect(period.resetsAt.toISOString()).toBe('2026-06-15T00:00:00.000Z');
  });

  it('falls on the last day of shorter months for an anchor on the 31st, leap years included', () => {
    expect(billingPeriodAt('2026-01-31', new Date('2024-02-29T12:00:00Z')).start).toBe('2024-02-29');
    expect(billingPeriodAt('2026-01-31', new Date('2024-02-28T12:00:00Z')).start).toBe('2024-01-31');
    expect(billingPeriodAt('2026-01-31', new Date('2025-02-28T00:00:00Z')).start).toBe('2025-02-28');
    expect(billingPeriodAt('2026-01-31', new Date('2025-03-30T23:59:59Z')).start).toBe('2025-02-28');
    expect(billingPeriodAt('2026-01-31', new Date('2025-03-31T00:00:00Z')).start).toBe('2025-03-31');
    expect(billingPeriodAt('2026-01-31', new Date('2025-04-30T00:00:00Z')).start).toBe('2025-04-30');
    expect(billingPeriodAt('2026-01-29', new Date('2023-02-28T00:00:00Z')).end).toBe('2023-03-29');
  });

  it('puts an instant on the boundary in the new period and one millisecond before it in the old one', () => {
    const boundary = new Date('2026-12-15T00:00:00.000Z');
    expect(billingPeriodAt('2026-03-15', boundary).start).toBe('2026-12-15');
    expect(billingPeriodAt('2026-03-15', new Date(boundary.getTime() - 1)).start).toBe('2026-11-15');
  });

  it('crosses the year end', () => {
    const period = billingPeriodAt('2026-03-20', new Date('2027-01-05T00:00:00Z'));
    expect([period.start, period.end]).toEqual(['2026-12-20', '2027-01-20']);
  });

  it('always contains the instant, and starts on the anchor day or the last day of a shorter month', () => {
    fc.assert(
      fc.property(anchors, instants, (anchor, at) => {
        const period = billingPeriodAt(anchor, at);
        expect(period.startsAt.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(period.resetsAt.getTime()).toBeGreaterThan(at.getTime());
        const anchorDay = Number(anchor.slice(8, 10));
        for (const boundary of [period.startsAt, period.resetsAt]) {
          const expectedDay = Math.min(anchorDay, daysInMonth(boundary.getUTCFullYear(), boundary.getUTCMonth() + 1));
          expect(boundary.getUTCDate()).toBe(expectedDay);
          expect(boundary.getTime() % DAY_MS).toBe(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('tiles time: each period ends where the next begins, one calendar month apart', () => {
    fc.assert(
      fc.property(anchors, instants, (anchor, at) => {
        const period = billingPeriodAt(anchor, at);
        expect(billingPeriodAt(anchor, period.resetsAt).start).toBe(period.end);
        expect(billingPeriodAt(anchor, new Date(period.resetsAt.getTime() - 1)).start).toBe(period.start);
        expect(billingPeriodAt(anchor, period.startsAt).start).toBe(period.start);
        const days = (period.resetsAt.getTime() - period.startsAt.getTime()) / DAY_MS;
        expect(days).toBeGreaterThanOrEqual(28);
        expect(days).toBeLessThanOrEqual(31);
        const monthsApart =
          (period.resetsAt.getUTCFullYear() - period.startsAt.getUTCFullYear()) * 12 +
          (period.resetsAt.getUTCMonth() - period.startsAt.getUTCMonth());
        expect(monthsApart).toBe(1);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts only real calendar dates as anchors', () => {
    expect(parseIsoDate('2024-02-29')).toEqual({ year: 2024, month: 2, day: 29 });
    for (const text of ['2025-02-29', '2026-02-30', '2026-13-01', '2026-00-10', '2026-1-1', '20260101', '2026-01-01T00:00:00Z', '']) {
      expect(parseIsoDate(text)).toBeUndefined();
    }
    expect(() => billingPeriodAt('2026-02-30', new Date())).toThrow(RangeError);
  });
});
