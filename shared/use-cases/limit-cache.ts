// What a warm process remembers of the limits (org, project, actor records) so that a consume needs one round trip.
// It never decides alone: every charge is conditioned on the cached caps and config version, and a 402 is only ever
// answered from state read in the same request. Counts in it are estimates that feed the reported `availableCu`.

import { LRUCache } from 'lru-cache';
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

  /** After our own charge or refund: move the cached estimates without resetting their age. */
  addUsage(orgId: string, counters: readonly CounterRef[], periodId: string, deltaMilli: number): void {
    for (const { kind, id } of counters) {
      const key = kind === 'team' ? orgCacheKey(orgId) : scopeCacheKey(orgId, kind, id);
      const cached = this.records.get(key, { updateAgeOnGet: false });
      if (!cached) continue;
      const usage = 'org' in cached ? cached.org.usage : cached.scope.usage;
      const moved = { ...usage, [periodId]: (usage[periodId] ?? 0) + deltaMilli };
      const next: CachedRecord = 'org' in cached ? { org: { ...cached.org, usage: moved } } : { scope: { ...cached.scope, usage: moved } };
      this.records.set(key, next, { ttl: this.records.getRemainingTTL(key) });
    }
  }
}

function orgCacheKey(orgId: string): string {
  return `org\u0000${orgId}`;
}

function scopeCacheKey(orgId: string, kind: ScopeKind, id: string): string {
  return `${kind}\u0000${orgId}\u0000${id}`;
}
