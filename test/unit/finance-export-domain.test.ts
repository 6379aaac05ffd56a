// The finance export's month and period rules, its key layout and the monthly due item, without a store.

import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/domain/errors';
import { exportCoverage, exportKeys, exportMonthOf, monthlyExportDue, monthTarget } from '../../shared/domain/finance-export';

describe('finance export months', () => {
  it('covers a calendar month in UTC, its end excluded, leap days included', () => {
    expect(exportMonthOf('2028-02')).toEqual({ month: '2028-02', startDate: '2028-02-01', endDate: '2028-02-29', from: '2028-02-01T00:00:00.000Z', to: '2028-03-01T00:00:00.000Z' });
    expect(exportMonthOf('2026-12')).toMatchObject({ endDate: '2026-12-31', to: '2027-01-01T00:00:00.000Z' });
  });

  it('cuts a closed month off at its end, whenever it runs, and the current one at the instant it runs', () => {
    expect(exportCoverage(monthTarget('2026-04'), '2026-01-10T00:00:00Z', new Date('2026-09-01T12:00:00Z'))).toMatchObject({ partial: false, cutoff: '2026-05-01T00:00:00.000Z' });
    expect(exportCoverage(monthTarget('2026-04'), '2026-04-30T23:00:00Z', new Date('2026-04-30T23:30:00Z'))).toMatchObject({ partial: true, cutoff: '2026-04-30T23:30:00.000Z' });
  });

  it.each([
    ['a future month', '2026-05'],
    ['a month before the org was created', '2025-12'],
    ['a malformed month', '2026-4'],
  ])('refuses %s on the month field', (_name, month) => {
    const attempt = () => exportCoverage(monthTarget(month), '2026-01-10T00:00:00Z', new Date('2026-04-30T23:59:59Z'));
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(expect.objectContaining({ field: 'month' }));
  });

  it('puts the events under a Hive-style prefix of their own, everything under exports/', () => {
    const keys = exportKeys('acme', monthTarget('2026-04'));
    expect(keys).toEqual({
      usage: 'exports/acme/2026-04/usage.json',
      events: 'exports/events/org_id=acme/month=2026-04/events.csv',
      byProject: 'exports/acme/2026-04/by-project.csv',
      byUser: 'exports/acme/2026-04/by-user.csv',
      byModel: 'exports/acme/2026-04/by-model.csv',
      manifest: 'exports/acme/2026-04/manifest.json',
    });
  });
});

describe('finance export periods', () => {
  const period = (periodStart: string, periodEnd: string) => ({ kind: 'period' as const, periodStart, periodEnd });

  it('covers a closed period from its start to its reset, by the UTC days its instants fall on', () => {
    const coverage = exportCoverage(period('2026-03-15T00:00:00.000Z', '2026-04-15T00:00:00.000Z'), '2026-01-10T00:00:00Z', new Date('2026-04-15T00:05:00Z'));
    expect(coverage).toEqual({ startDate: '2026-03-15', endDate: '2026-04-14', from: '2026-03-15T00:00:00.000Z', to: '2026-04-15T00:00:00.000Z', partial: false, cutoff: '2026-04-15T00:00:00.000Z' });
    // A period an upgrade started inside a day starts on that day.
    expect(exportCoverage(period('2026-03-20T10:30:00.000Z', '2026-04-20T00:00:00.000Z'), '2026-01-10T00:00:00Z', new Date('2026-05-01T00:00:00Z'))).toMatchObject({ startDate: '2026-03-20', endDate: '2026-04-19' });
  });

  it.each([
    ['a period still open', period('2026-04-15T00:00:00.000Z', '2026-05-15T00:00:00.000Z')],
    ['a period that ends before it starts', period('2026-04-15T00:00:00.000Z', '2026-03-15T00:00:00.000Z')],
    ['a period that is not instants', period('april', 'may')],
  ])('refuses %s on the period field', (_name, target) => {
    const attempt = () => exportCoverage(target, '2026-01-10T00:00:00Z', new Date('2026-04-30T23:59:59Z'));
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(expect.objectContaining({ field: 'period' }));
  });

  it("puts a period's files, its events too, in a periods/ folder beside the months, outside the month partitions", () => {
    const keys = exportKeys('acme', period('2026-03-15T00:00:00.000Z', '2026-04-15T00:00:00.000Z'));
    const folder = 'exports/acme/periods/2026-03-15T00:00:00.000Z';
    expect(keys).toEqual({
      usage: `${folder}/usage.json`,
      events: `${folder}/events.csv`,
      byProject: `${folder}/by-project.csv`,
      byUser: `${folder}/by-user.csv`,
      byModel: `${folder}/by-model.csv`,
      manifest: `${folder}/manifest.json`,
    });
    expect(Object.values(keys).some((key) => key.startsWith('exports/events/'))).toBe(false);
  });
});

describe('the monthly export due', () => {
  it('falls due at the first instant of the next month (UTC) for the month an instant is in', () => {
    expect(monthlyExportDue('acme', new Date('2026-01-31T23:59:59.999Z'))).toEqual({ kind: 'export', orgId: 'acme', dueAt: '2026-02-01T00:00:00.000Z', ref: '2026-01' });
    expect(monthlyExportDue('acme', new Date('2026-12-01T00:00:00.000Z'))).toEqual({ kind: 'export', orgId: 'acme', dueAt: '2027-01-01T00:00:00.000Z', ref: '2026-12' });
    // Handled at its due instant, the next one is the following month's.
    const first = monthlyExportDue('acme', new Date('2026-02-10T00:00:00Z'));
    expect(monthlyExportDue('acme', new Date(first.dueAt))).toMatchObject({ ref: '2026-03', dueAt: '2026-04-01T00:00:00.000Z' });
  });
});
