// The finance-export job (a rule on the service's bus, FinanceExportRequested; in-process locally): runs one org's
// month export into the export bucket and records how it ended. Safe twice: a re-run rewrites the same files.

import type { EventBridgeEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { financeExportDependencies } from '../../shared/export-composition';
import { runFinanceExport, type FinanceExportRequest } from '../../shared/use-cases/finance-export';
import { loggedRun } from './logged-run';

const requestDetail = z.object({ orgId: z.string(), month: z.string(), exportId: z.string() });

export async function handler(event: Pick<EventBridgeEvent<string, unknown>, 'detail'>): Promise<void> {
  const request: FinanceExportRequest = requestDetail.parse(event.detail);
  await loggedRun(async () => {
    await runFinanceExport(request, financeExportDependencies());
    return { job: 'finance-export', handled: 1 };
  });
}
