// The finance exports' composition root: the ledger's stores and clock, and the export bucket. Apart from the API's
// (composition.ts) so that only the functions that write exports bundle the S3 client.

import { createS3Client, s3ObjectStore } from './adapters/s3/object-store';
import { processDependencies } from './composition';
import type { FinanceExportStore } from './ports/finance-export-store';
import type { ObjectStore } from './ports/object-store';
import type { FinanceExportDependencies } from './use-cases/finance-export';

let objects: ObjectStore | undefined;

/** The export bucket: EXPORT_BUCKET (the stack sets it; the local runner too, with S3_ENDPOINT for its s3rver). */
function exportObjectStore(env: NodeJS.ProcessEnv = process.env): ObjectStore {
  if (!env.EXPORT_BUCKET) throw new Error('No export bucket: set EXPORT_BUCKET (AWS), or run under the local runner.');
  objects ??= s3ObjectStore(createS3Client({ endpoint: env.S3_ENDPOINT }), env.EXPORT_BUCKET);
  return objects;
}

/** What an export's run needs: the ledger's reads, the export records, the clock and the bucket. */
export function financeExportDependencies(): FinanceExportDependencies & { store: FinanceExportStore } {
  const { store, clock } = processDependencies();
  return { store, clock, objects: exportObjectStore() };
}
