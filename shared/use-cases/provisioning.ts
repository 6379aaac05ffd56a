// Provisioning by the platform's backend: projects, members, API keys, caps and the org-wide default limit (orgs
// and their plans: billing.ts). Every change governs the very next consume (see the conditions in consume).

import type { MilliCu } from '../domain/compute-units';
import { API_KEY_ACTOR_PREFIX } from '../domain/limits';
import type { AdminStore, ScopeSettings } from '../ports/admin-store';
import type { MemberRole, OrgRecord, ScopeKind } from '../ports/ledger-records';
import type { Clock } from '../ports/runtime';
import { orgNotFound, wrongActorKind } from '../domain/errors';
import { withStoreRetries } from './store-retry';
import { scopeView, type ScopeView } from './usage-views';

export interface AdminDependencies {
  readonly store: AdminStore;
  readonly clock: Clock;
}


/** Sets (or with null removes) the cap that applies to every member and API key without one of its own. */
export async function setDefaultLimit(orgId: string, capMilli: MilliCu | null, deps: AdminDependencies): Promise<OrgRecord> {
  const now = deps.clock.now().toISOString();
  const org = await withStoreRetries(() => deps.store.setDefaultLimit(orgId, capMilli, now));
  if (!org) throw orgNotFound(orgId);
  return org;
}

export interface PutScopeRequest extends ScopeSettings {
  readonly orgId: string;
  readonly id: string;
}

export function putProject(request: PutScopeRequest, deps: AdminDependencies): Promise<ScopeView> {
  return putScope('project', request, deps);
}

export function putMember(request: PutScopeRequest & { role: MemberRole }, deps: AdminDependencies): Promise<ScopeView> {
  if (request.id.startsWith(API_KEY_ACTOR_PREFIX)) {
    throw wrongActorKind('userId', API_KEY_ACTOR_PREFIX);
  }
  return putScope('member', request, deps);
}

export function putApiKey(request: PutScopeRequest & { projectId: string }, deps: AdminDependencies): Promise<ScopeView> {
  if (!request.id.startsWith(API_KEY_ACTOR_PREFIX)) {
    throw wrongActorKind('keyId', API_KEY_ACTOR_PREFIX);
  }
  return putScope('api_key', request, deps);
}

/**
 * Steps:
 * 1. Read the org (its default limit and billing period shape the answer); unknown org: 404.
 * 2. Write the scope's settings, conditioned on the org still existing.
 * 3. Answer with the scope's usage bar for the current period.
 */
async function putScope(kind: ScopeKind, request: PutScopeRequest, deps: AdminDependencies): Promise<ScopeView> {
  const now = deps.clock.now();
  const org = await withStoreRetries(() => deps.store.getOrg(request.orgId));
  if (!org) throw orgNotFound(request.orgId);
  const { orgId: _orgId, id, ...settings } = request;
  const scope = await withStoreRetries(() => deps.store.putScope(request.orgId, { kind, id }, settings, now.toISOString()));
  if (!scope) throw orgNotFound(request.orgId);
  return scopeView(org, scope, now);
}
