// Finance exports (issue 12): what may be exported (a calendar month, or a billing period once it has closed), where
// its files go, and what its manifest and chargeback rows say. A closed range's files depend on the ledger alone (no
// wall-clock time anywhere in them), so a re-run writes the same bytes; only the current month's export is partial,
// cut off at the instant it was made.

import { toCu, type MilliCu } from './compute-units';
import { invalidField } from './errors';
import type { BreakdownDimension, BreakdownGroup } from './usage-analytics';
import { isApiKeyUser } from './usage-analytics';
import { addDays, dayOf, type DayRange } from './usage-filters';

/** Bumped when a file's columns or the manifest's fields change, so readers can tell the shapes apart. */
export const EXPORT_SCHEMA_VERSION = 1;

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** A calendar month (UTC) as an export covers it. */
export interface ExportMonth extends DayRange {
  readonly month: string;
  /** First instant of the month. */
  readonly from: string;
  /** First instant of the next month: the end, excluded. */
  readonly to: string;
}

export function exportMonthOf(month: string): ExportMonth {
  const match = MONTH.exec(month);
  if (!match) throw invalidField('month', 'month: must be a calendar month, YYYY-MM');
  const start = Date.UTC(Number(match[1]), Number(match[2]) - 1, 1);
  const next = new Date(start);
  next.setUTCMonth(next.getUTCMonth() + 1);
  const startDate = dayOf(new Date(start));
  return { month, startDate, endDate: addDays(dayOf(next), -1), from: new Date(start).toISOString(), to: next.toISOString() };
}

/**
 * The monthly export an org has due at `at`: the month `at` falls in, exported once it has ended (on the 1st of the
 * next month, UTC). Filed when the org is created, and for the next month each time one is handled.
 */
export function monthlyExportDue(orgId: string, at: Date): { readonly kind: 'export'; readonly orgId: string; readonly dueAt: string; readonly ref: string } {
  const month = dayOf(at).slice(0, 7);
  return { kind: 'export', orgId, dueAt: exportMonthOf(month).to, ref: month };
}

/**
 * What one export is of: a calendar month (on request, and on the 1st for the month before), or one billing period
 * of the org from its start to the reset that closed it (the period ids: their first instants).
 */
export type ExportTarget = { readonly kind: 'month'; readonly month: string } | { readonly kind: 'period'; readonly periodStart: string; readonly periodEnd: string };

export const monthTarget = (month: string): ExportTarget => ({ kind: 'month', month });

/**
 * What an export covers: the instants from `from` up to `cutoff` (the range's end unless partial), and the UTC days
 * they fall on, which the usage summary and the chargeback files are read by.
 */
export interface ExportCoverage extends DayRange {
  readonly from: string;
  readonly to: string;
  readonly partial: boolean;
  readonly cutoff: string;
}

/**
 * The target checked against the org and the clock. A month after the current one, or before the org's creation, is
 * 400 `month`; the current month is partial, cut off now. A period must have closed (its end passed), else 400
 * `period`. A closed range is cut off at its end, which keeps the wall clock out of its files.
 */
export function exportCoverage(target: ExportTarget, orgCreatedAt: string, now: Date): ExportCoverage {
  if (target.kind === 'period') return periodCoverage(target, now);
  const { month } = target;
  const covered = exportMonthOf(month);
  const current = dayOf(now).slice(0, 7);
  if (month > current) throw invalidField('month', `month: ${month} has not begun`);
  if (month < orgCreatedAt.slice(0, 7)) throw invalidField('month', `month: the org did not exist yet in ${month}`);
  const partial = month === current;
  return { startDate: covered.startDate, endDate: covered.endDate, from: covered.from, to: covered.to, partial, cutoff: partial ? now.toISOString() : covered.to };
}

/**
 * A closed period's coverage. Its events are cut at its exact instants; its summary and chargebacks are read by whole
 * UTC days (the rollup's grain), which differ only where a period starts or ends inside a day (an upgrade's instant).
 */
function periodCoverage(target: Extract<ExportTarget, { kind: 'period' }>, now: Date): ExportCoverage {
  const from = Date.parse(target.periodStart);
  const to = Date.parse(target.periodEnd);
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) throw invalidField('period', 'period: must run from an instant to a later one');
  if (to > now.getTime()) throw invalidField('period', `period: ${target.periodStart} has not closed`);
  const fromText = new Date(from).toISOString();
  const toText = new Date(to).toISOString();
  return { startDate: dayOf(fromText), endDate: dayOf(new Date(to - 1)), from: fromText, to: toText, partial: false, cutoff: toText };
}

/** The prefix of the events' Hive-style partitions, which the Glue table (`infra`) is laid over. */
export const EVENTS_PARTITIONS_PREFIX = 'exports/events';
/** The partition keys of the events, in order, as the Glue table names them. */
export const EVENTS_PARTITION_KEYS = ['org_id', 'month'] as const;

/** The prefix of one partition of the events, for values of the partition keys (a projection template passes `${org_id}` and `${month}`). */
export function eventsPartitionPrefix(values: Record<(typeof EVENTS_PARTITION_KEYS)[number], string>): string {
  return `${EVENTS_PARTITIONS_PREFIX}/${EVENTS_PARTITION_KEYS.map((key) => `${key}=${values[key]}`).join('/')}/`;
}

/**
 * Where an export's files go. The events sit under a Hive-style prefix of their own (`exports/events/org_id=…/
 * month=…/`), apart from the org's month folder, because Athena reads every file under a partition's prefix; both
 * are under `exports/`, the only prefix the export function may write.
 */
export function exportKeys(orgId: string, target: ExportTarget) {
  const folder = target.kind === 'month' ? `exports/${orgId}/${target.month}` : `exports/${orgId}/periods/${target.periodStart}`;
  return {
    usage: `${folder}/usage.json`,
    // A period's events stay in its own folder: the partitions hold months only, so no event is in two of them.
    events: target.kind === 'month' ? `${eventsPartitionPrefix({ org_id: orgId, month: target.month })}events.csv` : `${folder}/events.csv`,
    byProject: `${folder}/by-project.csv`,
    byUser: `${folder}/by-user.csv`,
    byModel: `${folder}/by-model.csv`,
    manifest: `${folder}/manifest.json`,
  } as const;
}

/** One file of an export, as its manifest lists it. */
export interface ExportedFile {
  readonly key: string;
  /** Data rows (a CSV's header not counted); 1 for a JSON document. */
  readonly rows: number;
  readonly bytes: number;
  readonly sha256: string;
}

/** A month's manifest names its month; a period's its start and end instead. */
export type ExportManifest = {
  readonly schemaVersion: number;
  readonly orgId: string;
  readonly partial: boolean;
  /** The instants covered: `from` included, `to` (the cutoff) excluded. */
  readonly timeRange: { readonly from: string; readonly to: string };
  readonly files: readonly ExportedFile[];
} & ({ readonly month: string } | { readonly period: ExportedPeriod });

export interface ExportedPeriod {
  readonly start: string;
  readonly end: string;
}

export function exportManifest(orgId: string, target: ExportTarget, coverage: ExportCoverage, files: readonly ExportedFile[]): ExportManifest {
  const named = target.kind === 'month' ? { month: target.month } : { period: { start: coverage.from, end: coverage.to } };
  return { schemaVersion: EXPORT_SCHEMA_VERSION, orgId, ...named, partial: coverage.partial, timeRange: { from: coverage.from, to: coverage.cutoff }, files };
}

/** The chargeback files' amount columns, after the group's own. */
export const CHARGEBACK_COLUMNS = ['cu', 'jobs', 'humanCu', 'apiKeyCu'] as const;

export interface ChargebackRow {
  readonly id: string | null;
  readonly cuMilli: MilliCu;
  readonly jobs: number;
  readonly humanCuMilli: MilliCu;
  readonly apiKeyCuMilli: MilliCu;
}

/**
 * CU and jobs per value of `dimension`, with the human and API-key parts of the CU (an API key's user id starts with
 * `apiu_`), from a breakdown by that dimension and the user. Highest CU first, then by id (no model: first).
 */
export function chargebackRows(groups: readonly BreakdownGroup[], dimension: BreakdownDimension): ChargebackRow[] {
  const rows = new Map<string | null, { cuMilli: number; jobs: number; humanCuMilli: number; apiKeyCuMilli: number }>();
  for (const group of groups) {
    const id = group.key[dimension] ?? null;
    const row = rows.get(id) ?? { cuMilli: 0, jobs: 0, humanCuMilli: 0, apiKeyCuMilli: 0 };
    row.cuMilli += group.cuMilli;
    row.jobs += group.jobs;
    if (isApiKeyUser(group.key.userId ?? '')) row.apiKeyCuMilli += group.cuMilli;
    else row.humanCuMilli += group.cuMilli;
    rows.set(id, row);
  }
  const text = (id: string | null) => id ?? '';
  return [...rows.entries()]
    .map(([id, amounts]) => ({ id, ...amounts }))
    .sort((a, b) => b.cuMilli - a.cuMilli || (text(a.id) < text(b.id) ? -1 : text(a.id) > text(b.id) ? 1 : 0));
}

/** A chargeback row in CU, its group's value under `idColumn`. */
export function chargebackCells(row: ChargebackRow, idColumn: string): Record<string, unknown> {
  return { [idColumn]: row.id, cu: toCu(row.cuMilli), jobs: row.jobs, humanCu: toCu(row.humanCuMilli), apiKeyCu: toCu(row.apiKeyCuMilli) };
}
