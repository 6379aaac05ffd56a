// How the API shows a charge's draws and a refund's returns: the source by name, CU in decimal.

import { toCu } from '../domain/compute-units';
import type { Draw, SourceReturn } from '../domain/pool';

const sourceName = (part: Draw) => (part.ref.kind === 'allowance' ? { source: 'allowance' } : { source: 'top_up', purchaseId: part.ref.purchaseId });

export const drawRow = (part: Draw) => ({ ...sourceName(part), cu: toCu(part.milli) });

export const returnRow = (part: SourceReturn) => ({ ...drawRow(part), restored: part.restored, reason: part.reason });

/** What a refund could not give back: CU of an ended period or an expired batch. */
export const notRestoredCu = (returns: readonly SourceReturn[]) => toCu(returns.filter((part) => !part.restored).reduce((sum, part) => sum + part.milli, 0));
