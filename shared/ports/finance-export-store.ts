// Where the finance exports asked for are tracked: one record per org and month, the latest request's.

import type { ExportManifest } from '../domain/finance-export';

export type FinanceExportStatus = 'requested' | 'done' | 'failed';

export interface FinanceExportRecord {
  readonly orgId: string;
  readonly month: string;
  readonly exportId: string;
  readonly status: FinanceExportStatus;
  readonly requestedAt: string;
  readonly finishedAt: string | null;
  /** Once done. */
  readonly manifest: ExportManifest | null;
}

export interface FinanceExportStore {
  /** Files a request for the month, in place of any earlier one. */
  putFinanceExport(record: FinanceExportRecord): Promise<void>;
  /** The org's exports, oldest month first. */
  listFinanceExports(orgId: string): Promise<FinanceExportRecord[]>;
  /** How the request `exportId` ended; ignored when a newer request for the month replaced it. */
  finishFinanceExport(orgId: string, month: string, exportId: string, outcome: { status: 'done' | 'failed'; finishedAt: string; manifest: ExportManifest | null }): Promise<void>;
}
