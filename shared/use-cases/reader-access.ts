// Who may read an org's usage: the caller's verified identity, then CU Ledger's own member record for a person
// (the token names the org and the user; the role and administered projects come from here, never from the token).

import { forbidden } from '../domain/errors';
import { readScopeOf, type Membership, type Principal, type ReadScope } from '../domain/permissions';
import type { AdminStore } from '../ports/admin-store';
import { withStoreRetries } from './store-retry';

/** What the caller may read, or 403: contributors, viewers and people the org does not know read nothing. */
export async function resolveReader(principal: Principal, deps: { readonly store: Pick<AdminStore, 'getScope'> }): Promise<ReadScope> {
  // The service has the admin routes; it does not read through the analytics routes.
  if (principal.kind === 'service') throw forbidden();
  if (principal.kind === 'analytics_key') return readScopeOf(principal, undefined)!;
  const scope = readScopeOf(principal, await membershipOf(principal, deps));
  if (!scope) throw forbidden();
  return scope;
}

/** What the org's member record says of a person: role and administered projects; undefined when the org has no such member. */
export async function membershipOf(person: Extract<Principal, { kind: 'person' }>, deps: { readonly store: Pick<AdminStore, 'getScope'> }): Promise<Membership | undefined> {
  const member = await withStoreRetries(() => deps.store.getScope(person.orgId, { kind: 'member', id: person.userId }));
  return member.exists && member.role ? { role: member.role, adminOfProjectIds: member.adminOfProjectIds } : undefined;
}
