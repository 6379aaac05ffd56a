// Read models for admins: usage bars per member, project and API key, and the activity log.

import { termsAt } from '../domain/billing-terms';
import { usedIn } from '../domain/charge-limits';
import type { MilliCu } from '../domain/compute-units';
import { capFor, usageStatus, type CapSource, type UsageStatus } from '../domain/limits';
import type { AdminStore, Page } from '../ports/admin-store';
import type { LogEntry, OrgRecord, ScopeKind, ScopeRecord } from '../ports/ledger-records';
import type { Clock } from '../ports/runtime';
import { orgNotFound } from '../domain/errors';
import { withStoreRetries } from './store-retry';

export interface ScopeView {
  readonly record: ScopeRecord;
  readonly usedMilli: MilliCu;
  readonly capMilli: MilliCu | null;
  readonly capSource: CapSource;
  readonly status: UsageStatus;
}

export function scopeView(org: OrgRecord, scope: ScopeRecord, at: Date): ScopeView {
  const cap = capFor(scope, org);
  const usedMilli = usedIn(scope, termsAt(org, at).period);
  return { record: scope, usedMilli, capMilli: cap.capMilli, capSource: cap.capSource, status: usageStatus(usedMilli, cap.capMilli) };
}

/** The org as stored; unknown org: 404. */
export async function readOrg(orgId: string, deps: { store: Pick<AdminStore, 'getOrg'> }): Promise<OrgRecord> {
  const org = await withStoreRetries(() => deps.store.getOrg(orgId));
  if (!org) throw orgNotFound(orgId);
  return org;
}

/** One page of an org's members, projects or API keys, each with its usage bar for the current period. */
export async function listScopes(
  orgId: string,
  kind: ScopeKind,
  page: { limit: number; cursor: string | null },
  deps: { store: AdminStore; clock: Clock },
): Promise<Page<ScopeView>> {
  const org = await readOrg(orgId, deps);
  const now = deps.clock.now();
  const scopes = await withStoreRetries(() => deps.store.listScopes(orgId, kind, page.limit, page.cursor));
  return { items: scopes.items.map((scope) => scopeView(org, scope, now)), nextCursor: scopes.nextCursor };
}

/** The org's activity log, newest first. */
export async function listEvents(
  orgId: string,
  page: { limit: number; cursor: string | null },
  deps: { store: AdminStore },
): Promise<Page<LogEntry>> {
  await readOrg(orgId, deps);
  return withStoreRetries(() => deps.store.listEvents(orgId, page.limit, page.cursor));
}
