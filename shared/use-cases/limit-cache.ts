// What a warm process remembers of the limits (org, project, actor records) so that a consume needs one round trip.
// It never decides alone: every charge is conditioned on the cached caps and config version, and a 402 is only ever
// answered from state read in the same request. Counts in it are estimates that feed the reported `availableCu`.

import { LRUCache } from 'lru-cache';
import type { Draw } from '../domain/pool';
import type { CounterRef, OrgRecord, ScopeKind, ScopeRecord } from '../ports/ledger-records';

export interface LimitCacheOptions {
  /** How many records to keep (orgs and scopes together). */
  readonly maxEntries?: number;
  /** How long a record serves before it is read again, so the usage estimates stay near the truth. */
  readonly ttlMs?: number;
}

type CachedRecord = { org: OrgRecord } | { scope: ScopeRecord };

export class LimitCache {
  private readonly records: LRUCache<string, CachedRecord>;

  constructor(options: LimitCacheOptions = {}) {
    this.records = new LRUCache({ max: options.maxEntries ?? 10_000, ttl: options.ttlMs ?? 30_000 });
  }

  org(orgId: string): OrgRecord | undefined {
    const cached = this.records.get(orgCacheKey(orgId));
    return cached && 'org' in cached ? cached.org : undefined;
  }

  scope(orgId: string, kind: ScopeKind, id: string): ScopeRecord | undefined {
    const cached = this.records.get(scopeCacheKey(orgId, kind, id));
    return cached && 'scope' in cached ? cached.scope : undefined;
  }

  rememberOrg(org: OrgRecord): void {
    this.records.set(orgCacheKey(org.orgId), { org });
  }

  rememberScope(orgId: string, scope: ScopeRecord): void {
    this.records.set(scopeCacheKey(orgId, scope.kind, scope.id), { scope });
  }

  forgetOrg(orgId: string): void {
    this.records.delete(orgCacheKey(orgId));
  }

  /**
   * After our own charge: move the cached estimates (the scopes' counters, and the pool by the charge's draws)
   * without resetting their age. A refund forgets the org instead: what it restored depends on the time.
   */
  addCharge(orgId: string, counters: readonly CounterRef[], periodId: string, amountMilli: number, draws: readonly Draw[]): void {
    // The team counter moves by the draws (allowance and batches), not by the whole amount.
    for (const { kind, id } of counters) {
      if (kind === 'team') continue;
      this.update(scopeCacheKey(orgId, kind, id), (cached) => ('scope' in cached ? { scope: { ...cached.scope, usage: moved(cached.scope.usage, periodId, amountMilli) } } : cached));
    }
    this.update(orgCacheKey(orgId), (cached) => ('org' in cached ? { org: withDraws(cached.org, periodId, draws, 1) } : cached));
  }

  /** After our own refund: the scopes' counters move back; the org is read again on next use. */
  addRefund(orgId: string, scopes: readonly CounterRef[], periodId: string, amountMilli: number): void {
    for (const { kind, id } of scopes) {
      if (kind === 'team') continue;
      this.update(scopeCacheKey(orgId, kind, id), (cached) => ('scope' in cached ? { scope: { ...cached.scope, usage: moved(cached.scope.usage, periodId, -amountMilli) } } : cached));
    }
    this.forgetOrg(orgId);
  }

  private update(key: string, change: (cached: CachedRecord) => CachedRecord): void {
    const cached = this.records.get(key, { updateAgeOnGet: false });
    if (!cached) return;
    this.records.set(key, change(cached), { ttl: this.records.getRemainingTTL(key) });
  }
}

function moved(usage: Readonly<Record<string, number>>, periodId: string, deltaMilli: number): Record<string, number> {
  return { ...usage, [periodId]: (usage[periodId] ?? 0) + deltaMilli };
}

/** The org with a charge's draws applied (sign 1) or taken back (sign -1): the allowance of `periodId`, the batches. */
export function withDraws(org: OrgRecord, periodId: string, draws: readonly Draw[], sign: 1 | -1): OrgRecord {
  let usage = org.usage;
  const batchDelta = new Map<string, number>();
  for (const draw of draws) {
    if (draw.ref.kind === 'allowance') usage = moved(usage, periodId, sign * draw.milli);
    else batchDelta.set(draw.ref.purchaseId, (batchDelta.get(draw.ref.purchaseId) ?? 0) + sign * draw.milli);
  }
  const topUps = org.topUps.map((batch) => (batchDelta.has(batch.purchaseId) ? { ...batch, usedMilli: batch.usedMilli + batchDelta.get(batch.purchaseId)! } : batch));
  return { ...org, usage, topUps };
}

function orgCacheKey(orgId: string): string {
  return `org\u0000${orgId}`;
}

function scopeCacheKey(orgId: string, kind: ScopeKind, id: string): string {
  return `${kind}\u0000${orgId}\u0000${id}`;
}
