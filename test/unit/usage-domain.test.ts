// The usage rules without a table: day ranges and the reader's scope, what one event adds to its cell, the series'
// buckets, the by-day index's amount order, and spreadsheet-safe CSV cells.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvLines, safeCell } from '../../shared/domain/csv';
import { eventDayKeys, AMOUNT_SORT_KEY } from '../../shared/adapters/dynamodb/ledger-table';
import { timeSeries } from '../../shared/domain/usage-analytics';
import { dayRange, selectionFor } from '../../shared/domain/usage-filters';
import { usageDeltaOf, type MeteredEvent } from '../../shared/domain/usage-rollup';

const today = new Date('2026-05-20T15:00:00.000Z');
const admin = { orgId: 'acme', projects: 'all' as const };
const projectAdmin = { orgId: 'acme', projects: ['web'] };

describe('day ranges', () => {
  it.each([
    ['no dates: the last 30 days, today included', {}, { startDate: '2026-04-21', endDate: '2026-05-20' }],
    ['a start only: 30 days from it, not past today', { startDate: '2026-05-10' }, { startDate: '2026-05-10', endDate: '2026-05-20' }],
    ['an end only: the 30 days up to it', { endDate: '2026-03-31' }, { startDate: '2026-03-02', endDate: '2026-03-31' }],
    ['one day', { startDate: '2026-05-01', endDate: '2026-05-01' }, { startDate: '2026-05-01', endDate: '2026-05-01' }],
    ['a leap year, whole', { startDate: '2028-01-01', endDate: '2028-12-31' }, { startDate: '2028-01-01', endDate: '2028-12-31' }],
  ])('%s', (_name, input, expected) => {
    expect(dayRange(input, today)).toEqual(expected);
  });

  it('refuses reversed dates and ranges over 366 days, naming endDate', () => {
    expect(() => dayRange({ startDate: '2026-05-02', endDate: '2026-05-01' }, today)).toThrow(expect.objectContaining({ field: 'endDate', code: 'validation_failed' }));
    expect(() => dayRange({ startDate: '2025-01-01', endDate: '2026-01-02' }, today)).toThrow(expect.objectContaining({ field: 'endDate' }));
  });
});

describe("a reader's selection", () => {
  it("applies a project admin's scope, refuses another project, and 404s another org's teamId", () => {
    expect(selectionFor(projectAdmin, {}, today).projects).toEqual(new Set(['web']));
    expect(selectionFor(admin, {}, today).projects).toBe('all');
    expect(selectionFor(admin, { projectIds: ['app'] }, today).projects).toEqual(new Set(['app']));
    expect(() => selectionFor(projectAdmin, { projectIds: ['web', 'app'] }, today)).toThrow(expect.objectContaining({ code: 'forbidden' }));
    expect(selectionFor(admin, { teamId: 'acme' }, today).orgId).toBe('acme');
    expect(() => selectionFor(admin, { teamId: 'globex' }, today)).toThrow(expect.objectContaining({ code: 'team_not_found', field: 'teamId' }));
  });
});

describe('what one event adds to its cell', () => {
  const consume: MeteredEvent = { kind: 'consume', eventId: 'e1', createdAt: '2026-05-03T23:59:59.999Z', projectId: 'web', userId: 'ana', jobType: 'upscale', modelId: 'm1', cuMilli: 2500, assetKind: 'image', assetCount: 3 };

  it('a consume: its CU and one job in its UTC day cell (with its outputs) and its hour cell', () => {
    const day = { day: '2026-05-03', projectId: 'web', userId: 'ana', modelId: 'm1', jobType: 'upscale' };
    expect(usageDeltaOf(consume)).toEqual([
      { key: day, cuMilli: 2500, jobs: 1, asset: { kind: 'image', count: 3 } },
      { key: { ...day, hour: '23' }, cuMilli: 2500, jobs: 1, asset: null },
    ]);
  });

  it('a partial refund takes CU back only; the refund in full takes the job and its outputs back too, at its own time', () => {
    const [partial] = usageDeltaOf({ ...consume, kind: 'refund', eventId: 'e2', createdAt: '2026-06-01T00:00:00.000Z', cuMilli: 1000, refundsInFull: false });
    const [full, fullHour] = usageDeltaOf({ ...consume, kind: 'refund', eventId: 'e3', createdAt: '2026-06-01T01:00:00.000Z', cuMilli: 1500, refundsInFull: true });
    expect([partial.key.day, partial.cuMilli, partial.jobs, partial.asset]).toEqual(['2026-06-01', -1000, 0, null]);
    expect([full.cuMilli, full.jobs, full.asset]).toEqual([-1500, -1, { kind: 'image', count: -3 }]);
    expect([fullHour.key.hour, fullHour.cuMilli, fullHour.jobs]).toEqual(['01', -1500, -1]);
  });
});

describe('the main graph', () => {
  it('has every bucket of the range, zero where empty; weeks start on Monday, months on the 1st, hours 24 a day', () => {
    const range = { startDate: '2026-05-29', endDate: '2026-06-02' }; // Friday to Tuesday, across a month's end
    expect(timeSeries([], range, 'cu', 'week').map((bucket) => bucket.start)).toEqual(['2026-05-25T00:00:00.000Z', '2026-06-01T00:00:00.000Z']);
    expect(timeSeries([], range, 'cu', 'month').map((bucket) => bucket.start)).toEqual(['2026-05-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z']);
    expect(timeSeries([], range, 'jobs', 'day')).toHaveLength(5);
    const hours = timeSeries([], range, 'jobs', 'hour');
    expect([hours.length, hours[0]!.start, hours.at(-1)!.start]).toEqual([120, '2026-05-29T00:00:00.000Z', '2026-06-02T23:00:00.000Z']);
    expect(hours.every((bucket) => bucket.value === 0 && Object.keys(bucket.byJobType).length === 0)).toBe(true);
  });
});

describe('the by-day amount index', () => {
  it('sorts keys as the signed amounts sort (refunds negative), then by time and event id', () => {
    const event = fc.record({ amountMilli: fc.integer({ min: -1_000_000_000_000, max: 1_000_000_000_000 }), second: fc.integer({ min: 0, max: 59 }), eventId: fc.constantFrom('a', 'b') });
    fc.assert(
      fc.property(event, event, (a, b) => {
        const key = (e: typeof a) => eventDayKeys({ orgId: 'o', userId: 'u', createdAt: `2026-05-01T00:00:${String(e.second).padStart(2, '0')}.000Z`, eventId: e.eventId, amountMilli: e.amountMilli })[AMOUNT_SORT_KEY]!;
        const byKey = Math.sign(key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
        const byValue = Math.sign(a.amountMilli - b.amountMilli || a.second - b.second || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
        expect(byKey).toBe(byValue);
      }),
    );
  });
});

describe('CSV cells', () => {
  it('neutralise what a spreadsheet would run, keep numbers, and quote what CSV needs quoted', () => {
    expect(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', 'plain', 'a-b'].map(safeCell)).toEqual(["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", 'plain', 'a-b']);
    expect([safeCell(-10), safeCell(1.5), safeCell(null), safeCell(undefined), safeCell(true)]).toEqual(['-10', '1.5', '', '', 'true']);
    expect(csvLines(['a', 'b'], [{ a: 'x, "y"', b: -2 }], true)).toBe('a,b\n"x, ""y""",-2\n');
  });
});
