// The finance-export job (a rule on the service's bus; in-process locally): runs one org's export into the export
// bucket and records how it ended. FinanceExportRequested asks for a month (on demand, or the monthly job's);
// BillingPeriodReset (or BillingPeriodRestarted, an upgrade) closes a period, which is exported under the org's
// periods/ folder. Safe twice: a re-run rewrites the same files.

import type { EventBridgeEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { monthTarget } from '../../shared/domain/finance-export';
import { financeExportDependencies } from '../../shared/export-composition';
import { exportClosedPeriod, PERIOD_CLOSED_EVENTS, runFinanceExport } from '../../shared/use-cases/finance-export';
import { loggedRun } from './logged-run';

const requestDetail = z.object({ orgId: z.string(), month: z.string(), exportId: z.string() });
const resetDetail = z.object({ eventId: z.string(), orgId: z.string(), periodStart: z.string(), previousPeriodStart: z.string() });

export async function handler(event: Pick<EventBridgeEvent<string, unknown>, 'detail-type' | 'detail'>): Promise<void> {
  const deps = financeExportDependencies();
  const run =
    PERIOD_CLOSED_EVENTS.includes(event['detail-type'])
      ? () => exportClosedPeriod(resetDetail.parse(event.detail), deps)
      : () => {
          const { orgId, month, exportId } = requestDetail.parse(event.detail);
          return runFinanceExport({ orgId, target: monthTarget(month), exportId }, deps);
        };
  await loggedRun(async () => {
    await run();
    return { job: 'finance-export', handled: 1 };
  });
}
