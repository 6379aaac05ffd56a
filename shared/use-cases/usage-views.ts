// Read models for admins: usage bars per member, project and API key, and the activity log.

import { termsAt } from '../domain/billing-terms';
import { usedIn } from '../domain/charge-limits';
import type { MilliCu } from '../domain/compute-units';
import { capFor, usageStatus, type CapSource, type UsageStatus } from '../domain/limits';
import type { AdminStore, Page } from '../ports/admin-store';
import type { LogEntry, OrgRecord, ScopeKind, ScopeRecord } from '../ports/ledger-records';
import type { Clock } from '../ports/runtime';
import { forbidden, orgNotFound } from '../domain/errors';
import { scopeIncludes, type ReadScope } from '../domain/permissions';
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
  return listVisibleScopes(orgId, kind, page, () => true, deps);
}

/** How many store reads one page of a project admin's listing may take; a page may then hold fewer rows than asked. */
const READS_PER_PAGE = 10;

/**
 * One page of what a reader of the org may see of its members, projects or API keys, with their usage bars:
 * 1. members: only a reader of every project (an org admin); a project admin gets 403, as members span projects;
 * 2. projects and API keys: those of the projects the reader reaches (all for an org admin);
 * 3. the org's listing is read in order and filtered, until the page is full or the listing ends.
 */
export async function listReadableScopes(
  reader: ReadScope,
  kind: ScopeKind,
  page: { limit: number; cursor: string | null },
  deps: { store: AdminStore; clock: Clock },
): Promise<Page<ScopeView>> {
  if (kind === 'member' && reader.projects !== 'all') throw forbidden();
  const projectOf = (scope: ScopeRecord) => (scope.kind === 'project' ? scope.id : scope.projectId);
  return listVisibleScopes(reader.orgId, kind, page, (scope) => scopeIncludes(reader, projectOf(scope) ?? ''), deps);
}

async function listVisibleScopes(
  orgId: string,
  kind: ScopeKind,
  page: { limit: number; cursor: string | null },
  visible: (scope: ScopeRecord) => boolean,
  deps: { store: AdminStore; clock: Clock },
): Promise<Page<ScopeView>> {
  const org = await readOrg(orgId, deps);
  const now = deps.clock.now();
  const items: ScopeView[] = [];
  let cursor = page.cursor;
  // Each read asks for just the rows the page still needs, so no visible row is ever read past and skipped.
  for (let reads = 0; reads < READS_PER_PAGE && items.length < page.limit; reads++) {
    const wanted = page.limit - items.length;
    const scopes = await withStoreRetries(() => deps.store.listScopes(orgId, kind, wanted, cursor));
    items.push(...scopes.items.filter(visible).map((scope) => scopeView(org, scope, now)));
    cursor = scopes.nextCursor;
    if (cursor === null) break;
  }
  return { items, nextCursor: cursor };
}

/** Every row a reader may see of one kind, page by page (the CSV download). */
export async function* eachReadableScopesPage(
  reader: ReadScope,
  kind: ScopeKind,
  deps: { store: AdminStore; clock: Clock },
): AsyncGenerator<ScopeView[]> {
  let cursor: string | null = null;
  do {
    const page: Page<ScopeView> = await listReadableScopes(reader, kind, { limit: CSV_PAGE_SIZE, cursor }, deps);
    yield page.items;
    cursor = page.nextCursor;
  } while (cursor !== null);
}

const CSV_PAGE_SIZE = 500;

/** The org's activity log, newest first. */
export async function listEvents(
  orgId: string,
  page: { limit: number; cursor: string | null },
  deps: { store: AdminStore },
): Promise<Page<LogEntry>> {
  await readOrg(orgId, deps);
  return withStoreRetries(() => deps.store.listEvents(orgId, page.limit, page.cursor));
}
