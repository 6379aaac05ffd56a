// People's admin writes (issue 13): an org admin or a project admin, signed in, sets, raises or removes caps through
// the API that authorizes people. The rules are the seed's (mayEditCap); the writes are the platform's own
// provisioning use cases, so a person's change governs the very next consume and is in the activity feed with who
// made it, exactly as a change by the platform's backend is.

import type { MilliCu } from '../domain/compute-units';
import { forbidden } from '../domain/errors';
import { mayEditCap, type CapTarget, type Principal } from '../domain/permissions';
import type { OrgRecord } from '../ports/ledger-records';
import { setDefaultLimit, setScopeCap, type AdminDependencies } from './provisioning';
import { membershipOf } from './reader-access';
import type { ScopeView } from './usage-views';

export interface PersonCapChange {
  readonly principal: Principal;
  readonly orgId: string;
  readonly target: CapTarget;
  /** null: remove the cap (the default limit then applies to a member or key; a project has no cap at all). */
  readonly capMilli: MilliCu | null;
}

/**
 * Steps:
 * 1. The caller is a person of this org (anyone else: 403), whose member record allows the change (mayEditCap: 403).
 * 2. The platform's provisioning use case writes the cap and its activity entry, with the person as the actor: a
 *    project, member or key must exist (a person changes caps, never creates scopes: 404 `scope_not_found`), and its
 *    other settings stay as they are.
 */
export async function setCapAsPerson(change: PersonCapChange, deps: AdminDependencies): Promise<ScopeView | OrgRecord> {
  const { principal, orgId, target, capMilli } = change;
  if (principal.kind !== 'person' || principal.orgId !== orgId) throw forbidden();
  if (!mayEditCap(await membershipOf(principal, deps), target)) throw forbidden();
  const actor = { kind: 'person' as const, id: principal.userId };
  if (target.kind === 'default_limit') return setDefaultLimit({ orgId, capMilli, actor }, deps);
  return setScopeCap(target.kind, { orgId, id: target.id, capMilli, actor }, deps);
}
