// Who may read an org's usage: the caller's verified identity, then CU Ledger's own member record for a person
// (the token names the org and the user; the role and administered projects come from here, never from the token).

import { forbidden } from '../domain/errors';
import { readScopeOf, type Principal, type ReadScope } from '../domain/permissions';
import type { AdminStore } from '../ports/admin-store';
import { withStoreRetries } from './store-retry';

/** What the caller may read, or 403: contributors, viewers and people the org does not know read nothing. */
export async function resolveReader(principal: Principal, deps: { readonly store: Pick<AdminStore, 'getScope'> }): Promise<ReadScope> {
  // The service has the admin routes; it does not read through the analytics routes.
  if (principal.kind === 'service') throw forbidden();
  if (principal.kind === 'analytics_key') return readScopeOf(principal, undefined)!;
  const member = await withStoreRetries(() => deps.store.getScope(principal.orgId, { kind: 'member', id: principal.userId }));
  const scope = readScopeOf(principal, member.exists && member.role ? { role: member.role, adminOfProjectIds: member.adminOfProjectIds } : undefined);
  if (!scope) throw forbidden();
  return scope;
}
