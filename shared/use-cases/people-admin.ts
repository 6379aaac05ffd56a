// People's admin writes (issue 13): an org admin or a project admin, signed in, sets, raises or removes caps through
// the API that authorizes people. The rules are the seed's (mayEditCap); the writes are the platform's own
// provisioning use cases, so a person's change governs the very next consume and is in the activity feed with who
// made it, exactly as a change by the platform's backend is.

import type { MilliCu } from '../domain/compute-units';
import { forbidden, scopeNotFound } from '../domain/errors';
import { DEFAULT_MEMBER_ROLE, mayEditCap, type CapTarget, type Principal } from '../domain/permissions';
import type { ActivityActor, OrgRecord } from '../ports/ledger-records';
import { putApiKey, putMember, putProject, setDefaultLimit, type AdminDependencies } from './provisioning';
import { withStoreRetries } from './store-retry';
import type { ScopeView } from './usage-views';

export interface PersonCapChange {
  readonly principal: Principal;
  readonly orgId: string;
  readonly target: CapTarget;
  /** null: remove the cap (the default limit then applies to a member or key; a project has no cap at all). */
  readonly capMilli: MilliCu | null;
}

/** The field a target's id came from, as the route names it. */
const ID_FIELDS = { project: 'projectId', member: 'userId', api_key: 'keyId' } as const;

/**
 * Steps:
 * 1. The caller is a person of this org (anyone else: 403), whose member record allows the change (mayEditCap: 403).
 * 2. A project, member or key must exist: a person changes caps, never creates scopes (404 `scope_not_found`).
 * 3. The platform's provisioning use case writes the cap and its activity entry, with the person as the actor; the
 *    scope's other settings stay as they are.
 */
export async function setCapAsPerson(change: PersonCapChange, deps: AdminDependencies): Promise<ScopeView | OrgRecord> {
  const { principal, orgId, target, capMilli } = change;
  if (principal.kind !== 'person' || principal.orgId !== orgId) throw forbidden();
  const member = await withStoreRetries(() => deps.store.getScope(orgId, { kind: 'member', id: principal.userId }));
  const membership = member.exists && member.role ? { role: member.role, adminOfProjectIds: member.adminOfProjectIds } : undefined;
  if (!mayEditCap(membership, target)) throw forbidden();
  const actor: ActivityActor = { kind: 'person', id: principal.userId };
  if (target.kind === 'default_limit') return setDefaultLimit({ orgId, capMilli, actor }, deps);
  const scope = await withStoreRetries(() => deps.store.getScope(orgId, { kind: target.kind, id: target.id }));
  if (!scope.exists) throw scopeNotFound(target.kind, target.id, ID_FIELDS[target.kind]);
  const request = { orgId, id: target.id, capMilli, actor };
  if (target.kind === 'project') return putProject(request, deps);
  if (target.kind === 'member') return putMember({ ...request, role: scope.role ?? DEFAULT_MEMBER_ROLE }, deps);
  // A key always has its project: provisioning names it, and a key's first charge records the project it charged.
  return putApiKey({ ...request, projectId: scope.projectId! }, deps);
}
