// The finance export's month rules and key layout, without a store.

import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/domain/errors';
import { exportCoverage, exportKeys, exportMonthOf } from '../../shared/domain/finance-export';

describe('finance export months', () => {
  it('covers a calendar month in UTC, its end excluded, leap days included', () => {
    expect(exportMonthOf('2028-02')).toEqual({ month: '2028-02', startDate: '2028-02-01', endDate: '2028-02-29', from: '2028-02-01T00:00:00.000Z', to: '2028-03-01T00:00:00.000Z' });
    expect(exportMonthOf('2026-12')).toMatchObject({ endDate: '2026-12-31', to: '2027-01-01T00:00:00.000Z' });
  });

  it('cuts a closed month off at its end, whenever it runs, and the current one at the instant it runs', () => {
    expect(exportCoverage('2026-04', '2026-01-10T00:00:00Z', new Date('2026-09-01T12:00:00Z'))).toMatchObject({ partial: false, cutoff: '2026-05-01T00:00:00.000Z' });
    expect(exportCoverage('2026-04', '2026-04-30T23:00:00Z', new Date('2026-04-30T23:30:00Z'))).toMatchObject({ partial: true, cutoff: '2026-04-30T23:30:00.000Z' });
  });

  it.each([
    ['a future month', '2026-05'],
    ['a month before the org was created', '2025-12'],
    ['a malformed month', '2026-4'],
  ])('refuses %s on the month field', (_name, month) => {
    const attempt = () => exportCoverage(month, '2026-01-10T00:00:00Z', new Date('2026-04-30T23:59:59Z'));
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(expect.objectContaining({ field: 'month' }));
  });

  it('puts the events under a Hive-style prefix of their own, everything under exports/', () => {
    const keys = exportKeys('acme', '2026-04');
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
