// Who may do what in an org: member roles, the principals that call us, and what each may read (seed 000): an org
// admin reads every project of the org, a project admin the projects they administer, anyone else nothing. The
// service acts for every org; an analytics key reads its own org.

export const MEMBER_ROLES = ['org_admin', 'project_admin', 'contributor', 'viewer'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** The role of a member seen first in a consume, or provisioned without one. */
export const DEFAULT_MEMBER_ROLE: MemberRole = 'contributor';

/** The caller of a route, as the gateway (or its authorizer) verified it. */
export type Principal =
  /** The platform's backend (IAM SigV4 on AWS, the bearer token locally). */
  | { readonly kind: 'service'; readonly id: string }
  /** A signed-in person: the token names the org and the user; the role comes from CU Ledger's member records. */
  | { readonly kind: 'person'; readonly orgId: string; readonly userId: string }
  /** A BI tool holding one org's analytics key. */
  | { readonly kind: 'analytics_key'; readonly orgId: string; readonly keyId: string };

export type PrincipalKind = Principal['kind'];

/** What CU Ledger's member record says of a person in an org; undefined when the org has no such member. */
export interface Membership {
  readonly role: MemberRole;
  readonly adminOfProjectIds: readonly string[];
}

/** What a reader of usage data may see: one org, all of its projects or only some. */
export interface ReadScope {
  readonly orgId: string;
  readonly projects: 'all' | readonly string[];
}

/**
 * What the principal may read of its own org, or undefined when nothing (403). An org admin and an analytics key read
 * every project; a project admin only theirs; contributors, viewers and people the org does not know, nothing.
 */
export function readScopeOf(principal: Exclude<Principal, { kind: 'service' }>, membership: Membership | undefined): ReadScope | undefined {
  if (principal.kind === 'analytics_key') return { orgId: principal.orgId, projects: 'all' };
  if (!membership) return undefined;
  if (membership.role === 'org_admin') return { orgId: principal.orgId, projects: 'all' };
  if (membership.role === 'project_admin') return { orgId: principal.orgId, projects: [...new Set(membership.adminOfProjectIds)].sort() };
  return undefined;
}

/** Whether the scope reaches a project. */
export function scopeIncludes(scope: ReadScope, projectId: string): boolean {
  return scope.projects === 'all' || scope.projects.includes(projectId);
}

/** What a person may set a cap on: a project, a member or an API key by id, or the org's default limit. */
export type CapTarget = { readonly kind: 'project' | 'member' | 'api_key'; readonly id: string } | { readonly kind: 'default_limit' };

/**
 * Whether a person may set (raise, lower or remove) a cap (seed 001): an org admin any cap of the org and its default
 * limit; a project admin the caps of the projects they administer, and nothing else (members and API keys are the
 * team admins'); contributors, viewers and people the org does not know, nothing.
 */
export function mayEditCap(membership: Membership | undefined, target: CapTarget): boolean {
  if (!membership) return false;
  if (membership.role === 'org_admin') return true;
  return membership.role === 'project_admin' && target.kind === 'project' && membership.adminOfProjectIds.includes(target.id);
}
