// How the API shows a charge's draws and a refund's returns: the source by name, CU in decimal.

import * as z from 'zod/mini';
import { toCu } from '../domain/compute-units';
import type { Draw, SourceReturn } from '../domain/pool';

export const drawRowSchema = z.object({
  source: z.enum(['allowance', 'top_up']),
  purchaseId: z.optional(z.string()),
  cu: z.number(),
});

export const returnRowSchema = z.extend(drawRowSchema, {
  restored: z.boolean(),
  reason: z.enum(['restored', 'period_ended', 'top_up_expired']),
});

type DrawRow = z.output<typeof drawRowSchema>;

const sourceName = (part: Draw): Omit<DrawRow, 'cu'> => (part.ref.kind === 'allowance' ? { source: 'allowance' } : { source: 'top_up', purchaseId: part.ref.purchaseId });

export const drawRow = (part: Draw): DrawRow => ({ ...sourceName(part), cu: toCu(part.milli) });

export const returnRow = (part: SourceReturn): z.output<typeof returnRowSchema> => ({ ...drawRow(part), restored: part.restored, reason: part.reason });

/** What a refund could not give back: CU of an ended period or an expired batch. */
export const notRestoredCu = (returns: readonly SourceReturn[]) => toCu(returns.filter((part) => !part.restored).reduce((sum, part) => sum + part.milli, 0));
