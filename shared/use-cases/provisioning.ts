// Provisioning by the platform's backend: projects, members, API keys, caps and the org-wide default limit (orgs
// and their plans: billing.ts). Every change governs the very next consume (see the conditions in consume), and is
// written in one transaction with the activity entry that records it and who made it.

import type { MilliCu } from '../domain/compute-units';
import { API_KEY_ACTOR_PREFIX } from '../domain/limits';
import { UNSET, settingChanges, settingsAfter } from '../domain/setting-changes';
import type { AdminStore } from '../ports/admin-store';
import { SCOPE_CHANGE_KINDS, SERVICE_ACTOR, type ActingRequest, type ActivityActor, type MemberRole, type OrgRecord, type ScopeKind } from '../ports/ledger-records';
import type { Clock, IdGenerator } from '../ports/runtime';
import { orgNotFound, scopeNotFound, wrongActorKind } from '../domain/errors';
import { AGAIN, retryRounds, withStoreRetries } from './store-retry';
import { readOrg, scopeView, type ScopeView } from './usage-views';

export interface AdminDependencies {
  readonly store: AdminStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

export interface DefaultLimitRequest extends ActingRequest {
  readonly orgId: string;
  /** null: remove the default limit. */
  readonly capMilli: MilliCu | null;
}

/**
 * Sets (or with null removes) the cap that applies to every member and API key without one of its own.
 * Steps:
 * 1. Read the org; unknown org: 404. The limit it already has changes nothing and writes nothing.
 * 2. Write the limit and its log entry, conditioned on the config version read in step 1 (a change in between: again).
 */
export async function setDefaultLimit(request: DefaultLimitRequest, deps: AdminDependencies): Promise<OrgRecord> {
  // One id for every round: a retried write files the same entry.
  const entryId = deps.ids.eventId();
  return retryRounds(async () => {
    const now = deps.clock.now().toISOString();
    const org = await readOrg(request.orgId, deps);
    if (org.defaultCapMilli === request.capMilli) return org;
    const configVersion = org.configVersion + 1;
    const entry = {
      orgId: org.orgId,
      entryId,
      createdAt: now,
      actor: request.actor ?? SERVICE_ACTOR,
      kind: request.capMilli === null ? ('default_limit_removed' as const) : ('default_limit_set' as const),
      capMilli: request.capMilli,
      previousCapMilli: org.defaultCapMilli,
      configVersion,
    };
    const outcome = await withStoreRetries(() => deps.store.setDefaultLimit({ orgId: org.orgId, expectedConfigVersion: org.configVersion, capMilli: request.capMilli, entry }, now));
    if (outcome === 'stale') return AGAIN;
    return { ...org, defaultCapMilli: request.capMilli, configVersion, updatedAt: now };
  });
}

export interface PutScopeRequest extends ActingRequest {
  readonly orgId: string;
  readonly id: string;
  readonly name?: string | undefined;
  /** undefined: leave as is; null: remove the cap. */
  readonly capMilli?: MilliCu | null | undefined;
  readonly role?: MemberRole | undefined;
  readonly adminOfProjectIds?: readonly string[] | undefined;
  readonly projectId?: string | undefined;
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
 * Changes only the cap of a project, member or API key the org already has (a person's change, which creates no
 * scope: 404 `scope_not_found`); its other settings stay as they are.
 */
export function setScopeCap(kind: ScopeKind, request: { orgId: string; id: string; capMilli: MilliCu | null; actor: ActivityActor }, deps: AdminDependencies): Promise<ScopeView> {
  return putScope(kind, request, deps, { mustExist: true });
}

/**
 * Steps:
 * 1. Read the org (its default limit and billing period shape the answer; unknown org: 404) and the scope as it is
 *    (`mustExist` and none: 404).
 * 2. Work out its settings after the PUT. An existing scope whose settings stay the same is left alone: nothing is
 *    written, so a repeated PUT leaves no entry in the log.
 * 3. Write the settings and the log entry, conditioned on the org still existing and the scope being as read in
 *    step 1 (a change in between: again, so the entry's "before" is exact).
 * 4. Answer with the scope's usage bar for the current period.
 */
async function putScope(kind: ScopeKind, request: PutScopeRequest, deps: AdminDependencies, options: { mustExist: boolean } = { mustExist: false }): Promise<ScopeView> {
  const { orgId, id, actor, ...given } = request;
  const entryId = deps.ids.eventId();
  return retryRounds(async () => {
    const now = deps.clock.now();
    const org = await readOrg(orgId, deps);
    const before = await withStoreRetries(() => deps.store.getScope(orgId, { kind, id }));
    if (options.mustExist && !before.exists) throw scopeNotFound(kind, id);
    const settings = settingsAfter(before, given);
    const changes = settingChanges(before.exists ? before : UNSET, settings);
    if (before.exists && Object.keys(changes).length === 0) return scopeView(org, before, now);
    const entry = {
      orgId,
      entryId,
      createdAt: now.toISOString(),
      actor: actor ?? SERVICE_ACTOR,
      kind: SCOPE_CHANGE_KINDS[kind][before.exists ? 'changed' : 'created'],
      scopeId: id,
      projectId: kind === 'project' ? id : settings.projectId,
      changes,
    };
    const seen = { exists: before.exists, settingsVersion: before.settingsVersion };
    const outcome = await withStoreRetries(() => deps.store.putScope({ orgId, scope: { kind, id }, settings, seen, entry }, now.toISOString()));
    if (outcome.status === 'org_missing') throw orgNotFound(orgId);
    if (outcome.status === 'stale') return AGAIN;
    return scopeView(org, outcome.scope, now);
  });
}
