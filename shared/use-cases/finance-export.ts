// Finance exports (issue 12) of a month or of a closed billing period: the usage summary, the events, the chargeback
// files and, last, the manifest that says the export is complete. Everything streams into the object store while it
// is hashed and counted. Months are exported on request and on the 1st for the month before; a period when its reset
// (BillingPeriodReset) or an upgrade (BillingPeriodRestarted) closes it.

import { createHash } from 'node:crypto';
import { csvStream } from '../domain/csv';
import {
  CHARGEBACK_COLUMNS,
  chargebackCells,
  chargebackRows,
  exportCoverage,
  exportKeys,
  exportManifest,
  monthlyExportDue,
  monthTarget,
  type ExportedFile,
  type ExportManifest,
  type ExportTarget,
} from '../domain/finance-export';
import type { ReadScope } from '../domain/permissions';
import { isApiKeyUser, type BreakdownDimension } from '../domain/usage-analytics';
import { EVENT_COLUMNS, eventTableRow, usageSummaryBody } from '../domain/usage-rows';
import type { AdminStore } from '../ports/admin-store';
import type { EventPublisher } from '../ports/event-publisher';
import type { FinanceExportRecord, FinanceExportStore } from '../ports/finance-export-store';
import type { JobStore } from '../ports/job-store';
import type { ObjectStore } from '../ports/object-store';
import type { Clock, IdGenerator } from '../ports/runtime';
import type { UsageStore } from '../ports/usage-store';
import { eachEventsPage, getBreakdown, getUsageSummary } from './usage-analytics';
import { readOrg } from './usage-views';
import { DETAIL_TYPES, eachDue, type JobRunSummary } from './jobs';
import { withStoreRetries } from './store-retry';

export interface FinanceExportDependencies {
  readonly store: UsageStore & Pick<AdminStore, 'getOrg'>;
  readonly clock: Clock;
  readonly objects: ObjectStore;
}

/**
 * Exports the org's usage of `target`: a month (YYYY-MM) or a closed period. Steps:
 * 1. check the target: a month not in the future, not before the org existed (400 `month`), the current one partial;
 *    a period closed (400 `period`);
 * 2. write `usage.json`, the events CSV (page by page, oldest first, cut at the range's instants), and the
 *    by-project, by-user and by-model CSVs, each hashed and counted as it streams;
 * 3. write `manifest.json` last: its presence means every other file is complete.
 * Every file is written whole again on each run, so a run cut short before the manifest is simply redone.
 */
export async function exportRange(orgId: string, target: ExportTarget, deps: FinanceExportDependencies): Promise<ExportManifest> {
  const org = await readOrg(orgId, deps);
  const coverage = exportCoverage(target, org.createdAt, deps.clock.now());
  const keys = exportKeys(orgId, target);
  const reader: ReadScope = { orgId, projects: 'all' };
  const range = { startDate: coverage.startDate, endDate: coverage.endDate };
  const write = (key: string, contentType: string, chunks: AsyncIterable<string>, rows: () => number) => measuredPut(deps.objects, key, contentType, chunks, rows);

  const summary = await getUsageSummary(reader, range, deps);
  const usage = await write(keys.usage, 'application/json', once(`${JSON.stringify(usageSummaryBody(summary), null, 2)}\n`), () => 1);

  let eventRows = 0;
  const eventPages = (async function* () {
    for await (const page of eachEventsPage(reader, range, { sort: 'createdAt', order: 'asc' }, deps)) {
      // Pages are whole days: a range that starts or ends inside one (a period) drops the instants outside it.
      const covered = page.filter((event) => event.createdAt >= coverage.from && event.createdAt < coverage.cutoff).map(eventTableRow);
      eventRows += covered.length;
      yield covered;
    }
  })();
  const events = await write(keys.events, 'text/csv; charset=utf-8', csvStream(EVENT_COLUMNS, eventPages), () => eventRows);

  const modelNames = await withStoreRetries(() => deps.store.modelNames(orgId));
  const chargeback = async (key: string, dimension: BreakdownDimension, idColumns: readonly string[], named?: (id: string | null) => Record<string, unknown>) => {
    const groupBy: BreakdownDimension[] = dimension === 'userId' ? ['userId'] : [dimension, 'userId'];
    const rows = chargebackRows((await getBreakdown(reader, range, groupBy, deps)).groups, dimension).map((row) => ({ ...chargebackCells(row, dimension), ...named?.(row.id) }));
    return write(key, 'text/csv; charset=utf-8', csvStream([...idColumns, ...CHARGEBACK_COLUMNS], once(rows)), () => rows.length);
  };
  const byProject = await chargeback(keys.byProject, 'projectId', ['projectId']);
  const byUser = await chargeback(keys.byUser, 'userId', ['userId', 'apiKey'], (id) => ({ apiKey: id !== null && isApiKeyUser(id) }));
  const byModel = await chargeback(keys.byModel, 'modelId', ['modelId', 'modelName'], (id) => ({ modelName: id === null ? null : (modelNames.get(id) ?? id) }));

  const manifest = exportManifest(orgId, target, coverage, [usage, events, byProject, byUser, byModel]);
  await deps.objects.put(keys.manifest, once(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)), 'application/json');
  return manifest;
}

/** The bus event that starts an export's run (the job Lambda on AWS, the runner locally). */
export const FINANCE_EXPORT_REQUESTED = 'FinanceExportRequested';

/** The detail-types that start the finance-export job: a month asked for, a period closed by its reset or by an upgrade. */
export const FINANCE_EXPORT_TRIGGERS: readonly string[] = [FINANCE_EXPORT_REQUESTED, DETAIL_TYPES.periodReset, DETAIL_TYPES.periodRestarted];

/** The detail-types that close a period, with the same `{ eventId, orgId, periodStart, previousPeriodStart }`. */
export const PERIOD_CLOSED_EVENTS: readonly string[] = [DETAIL_TYPES.periodReset, DETAIL_TYPES.periodRestarted];

/** FinanceExportRequested's detail: on-demand and scheduled requests are for months. */
export interface FinanceExportRequestedDetail {
  readonly orgId: string;
  readonly month: string;
  readonly exportId: string;
}

/** One filed export to run. */
export interface FinanceExportRequest {
  readonly orgId: string;
  readonly target: ExportTarget;
  readonly exportId: string;
}

export interface ExportRequestDependencies {
  readonly store: Pick<AdminStore, 'getOrg'> & FinanceExportStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly publisher: EventPublisher;
}

/**
 * Asks for a month's export, to run in the background (a large month outlasts an HTTP answer). Steps:
 * 1. check the org and the month (404, 400 `month`) before anything is filed;
 * 2. file the request (status `requested`, replacing an earlier one for the month);
 * 3. publish FinanceExportRequested, which starts the run.
 * A publish that fails leaves the request filed as `requested`; asking again files a new one.
 */
export async function requestFinanceExport(orgId: string, month: string, deps: ExportRequestDependencies): Promise<FinanceExportRecord> {
  const org = await readOrg(orgId, deps);
  const now = deps.clock.now();
  const target = monthTarget(month);
  exportCoverage(target, org.createdAt, now);
  const record: FinanceExportRecord = { orgId, target, exportId: deps.ids.eventId(), status: 'requested', requestedAt: now.toISOString(), finishedAt: null, manifest: null };
  await withStoreRetries(() => deps.store.putFinanceExport(record));
  const detail: FinanceExportRequestedDetail = { orgId, month, exportId: record.exportId };
  await deps.publisher.publish([{ detailType: FINANCE_EXPORT_REQUESTED, id: record.exportId, time: record.requestedAt, detail: { ...detail } }]);
  return record;
}

export interface MonthlyExportDependencies extends ExportRequestDependencies {
  readonly store: ExportRequestDependencies['store'] & JobStore;
}

/**
 * The monthly export (a schedule on the 1st, UTC): for each org whose month has ended, request that month's export
 * as the route does, then refile the due item for the next month. Steps per due item:
 * 1. the org is gone: drop the item;
 * 2. request the month's export (filed, FinanceExportRequested published);
 * 3. in one write, the item goes and the next month's is filed.
 * A run that stops between 2 and 3, or two runs at once, request the month again: the record is replaced and the
 * export rewrites the same bytes, so a repeat changes nothing but the record's id.
 */
export function runMonthlyExport(deps: MonthlyExportDependencies): Promise<JobRunSummary> {
  return eachDue('export', 'monthly-export', deps, async (due) => {
    const org = await withStoreRetries(() => deps.store.getOrg(due.orgId));
    if (!org) {
      await withStoreRetries(() => deps.store.dropDue(due));
      return 'handled';
    }
    await requestFinanceExport(due.orgId, due.ref, deps);
    await withStoreRetries(() => deps.store.refileDue(due, monthlyExportDue(due.orgId, new Date(due.dueAt))));
    return 'handled';
  });
}

/** The org's exports (months, then closed periods, oldest first), each with its status and, once done, its manifest. */
export async function listFinanceExports(orgId: string, deps: { store: Pick<AdminStore, 'getOrg'> & FinanceExportStore }): Promise<FinanceExportRecord[]> {
  await readOrg(orgId, deps);
  return withStoreRetries(() => deps.store.listFinanceExports(orgId));
}

/**
 * Runs a requested export and records how it ended. A failure is recorded and thrown again, so the trigger retries
 * it (and dead-letters it after the last try); a retry that succeeds records `done`.
 */
export async function runFinanceExport(request: FinanceExportRequest, deps: FinanceExportDependencies & { store: FinanceExportStore }): Promise<ExportManifest> {
  const finish = (status: 'done' | 'failed', manifest: ExportManifest | null) =>
    withStoreRetries(() => deps.store.finishFinanceExport(request.orgId, request.target, request.exportId, { status, finishedAt: deps.clock.now().toISOString(), manifest }));
  let manifest: ExportManifest;
  try {
    manifest = await exportRange(request.orgId, request.target, deps);
  } catch (error) {
    await finish('failed', null);
    throw error;
  }
  await finish('done', manifest);
  return manifest;
}

/** A period's close, as BillingPeriodReset (or BillingPeriodRestarted) tells it: the period that ended runs up to the one that started. */
export interface PeriodClose {
  readonly orgId: string;
  readonly previousPeriodStart: string;
  readonly periodStart: string;
  /** The reset entry's id: the same however often the event is delivered. */
  readonly eventId: string;
}

/**
 * Exports the period a reset closed. Steps:
 * 1. file the export's record, its id the reset's event id, so a delivery repeated files the same record again;
 * 2. run it as a requested export runs (the record says how it ended).
 * No FinanceExportRequested in between: the reset event is the request, and its own retries are the run's.
 */
export async function exportClosedPeriod(close: PeriodClose, deps: FinanceExportDependencies & { store: FinanceExportStore }): Promise<ExportManifest> {
  const target: ExportTarget = { kind: 'period', periodStart: close.previousPeriodStart, periodEnd: close.periodStart };
  const record: FinanceExportRecord = { orgId: close.orgId, target, exportId: close.eventId, status: 'requested', requestedAt: deps.clock.now().toISOString(), finishedAt: null, manifest: null };
  await withStoreRetries(() => deps.store.putFinanceExport(record));
  return runFinanceExport({ orgId: close.orgId, target, exportId: record.exportId }, deps);
}

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}

/** Puts the object, hashing and counting its bytes on the way through; `rows` is read once it is stored. */
async function measuredPut(objects: ObjectStore, key: string, contentType: string, chunks: AsyncIterable<string>, rows: () => number): Promise<ExportedFile> {
  const hash = createHash('sha256');
  let bytes = 0;
  const measured = (async function* () {
    for await (const chunk of chunks) {
      const buffer = Buffer.from(chunk, 'utf8');
      hash.update(buffer);
      bytes += buffer.length;
      yield buffer;
    }
  })();
  await objects.put(key, measured, contentType);
  return { key, rows: rows(), bytes, sha256: hash.digest('hex') };
}
