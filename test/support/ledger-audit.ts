// Brute-force audit of a ledger table: recompute every counter from the event log and compare.

import { TOP_UP_USED_PREFIX, USAGE_PREFIX } from '../../shared/adapters/dynamodb/ledger-table';
import type { Draw, SourceReturn } from '../../shared/domain/pool';

export interface LedgerAudit {
  /**
   * counter name (`team`, `project:p1`, ...) @ period start date -> milli-CU held by the counter item. Counters are
   * keyed by the period's first instant; two periods starting on one date would be a collision, and throw. The team
   * counter holds the allowance's part of each charge; each top-up batch's usage is `topUp:<purchaseId>@-`.
   */
  readonly counters: Map<string, number>;
  /** The same, recomputed from consume and refund events. */
  readonly fromEvents: Map<string, number>;
  readonly consumes: Record<string, unknown>[];
  readonly refunds: Record<string, unknown>[];
}

export function auditLedger(items: Record<string, unknown>[], orgId: string): LedgerAudit {
  const counters = new Map<string, number>();
  const fromEvents = new Map<string, number>();
  const consumes: Record<string, unknown>[] = [];
  const refunds: Record<string, unknown>[] = [];
  const periodDates = new Map<string, string>();
  for (const item of items) {
    if (item.entity === 'event') {
      if (item.orgId !== orgId) continue;
      (item.kind === 'consume' ? consumes : refunds).push(item);
      const sign = item.kind === 'consume' ? 1 : -1;
      const period = periodDate(String(item.periodId), periodDates);
      const add = (key: string, milli: number) => fromEvents.set(key, (fromEvents.get(key) ?? 0) + milli);
      for (const counter of item.counters as string[]) {
        if (counter !== 'team') add(`${counter}@${period}`, sign * Number(item.cuMilli));
      }
      // The team counter moves by the allowance's part; a batch by its part, on a refund only where it was restored.
      const parts = item.kind === 'consume' ? (item.draws as Draw[]) : ((item.returns ?? []) as SourceReturn[]);
      for (const part of parts) {
        if (part.ref.kind === 'allowance') add(`team@${period}`, sign * part.milli);
        else if (item.kind === 'consume' || (part as SourceReturn).restored) add(`topUp:${part.ref.purchaseId}@-`, sign * part.milli);
      }
      continue;
    }
    if (item.pk !== `ORG#${orgId}`) continue;
    const counter = item.entity === 'org' ? 'team' : `${String(item.entity)}:${String(item.scopeId)}`;
    for (const [attribute, value] of Object.entries(item)) {
      if (attribute.startsWith(USAGE_PREFIX)) counters.set(`${counter}@${periodDate(attribute.slice(USAGE_PREFIX.length), periodDates)}`, Number(value));
      if (attribute.startsWith(TOP_UP_USED_PREFIX)) counters.set(`topUp:${attribute.slice(TOP_UP_USED_PREFIX.length)}@-`, Number(value));
    }
  }
  return { counters, fromEvents, consumes, refunds };
}

/** The date a period id (its first instant) falls on; refuses anything but an ISO instant, and two ids on one date. */
function periodDate(periodId: string, seen: Map<string, string>): string {
  const date = new Date(periodId);
  if (Number.isNaN(date.getTime()) || date.toISOString() !== periodId) throw new Error(`not a period id: ${periodId}`);
  const day = periodId.slice(0, 10);
  const other = seen.get(day);
  if (other !== undefined && other !== periodId) throw new Error(`two periods start on ${day}: ${other}, ${periodId}`);
  seen.set(day, periodId);
  return day;
}

/** Counters without zero entries, for comparing with recomputed sums. */
export function nonZero(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map].filter(([, value]) => value !== 0).sort(([a], [b]) => a.localeCompare(b)));
}
