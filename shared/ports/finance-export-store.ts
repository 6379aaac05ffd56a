// Where the finance exports asked for are tracked: one record per org and target (a month, or a closed period), the
// latest request's.

import type { ExportManifest, ExportTarget } from '../domain/finance-export';

export type FinanceExportStatus = 'requested' | 'done' | 'failed';

export interface FinanceExportRecord {
  readonly orgId: string;
  readonly target: ExportTarget;
  readonly exportId: string;
  readonly status: FinanceExportStatus;
  readonly requestedAt: string;
  readonly finishedAt: string | null;
  /** Once done. */
  readonly manifest: ExportManifest | null;
}

export interface FinanceExportStore {
  /** Files a request for the target, in place of any earlier one. */
  putFinanceExport(record: FinanceExportRecord): Promise<void>;
  /** The org's exports: months, oldest first, then periods, oldest first. */
  listFinanceExports(orgId: string): Promise<FinanceExportRecord[]>;
  /** How the request `exportId` ended; ignored when a newer request for the target replaced it. */
  finishFinanceExport(orgId: string, target: ExportTarget, exportId: string, outcome: { status: 'done' | 'failed'; finishedAt: string; manifest: ExportManifest | null }): Promise<void>;
}
