// Who may do what in an org: member roles, the principals that call us, and the access rules they are checked
// against (seed 000): an org admin may do everything in the org, a project admin everything in their projects,
// anyone else nothing. The service acts for every org; an analytics key reads its own org.

export const MEMBER_ROLES = ['org_admin', 'project_admin', 'contributor', 'viewer'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** The role of a member seen first in a consume, or provisioned without one. */
export const DEFAULT_MEMBER_ROLE: MemberRole = 'contributor';

/** The caller of a route, as the gateway verified it. */
export type Principal =
  /** The platform's backend (IAM SigV4 on AWS, the bearer token locally). */
  | { readonly kind: 'service'; readonly id: string }
  /** A signed-in person of one org, with the role the identity provider asserts. */
  | { readonly kind: 'person'; readonly orgId: string; readonly userId: string; readonly role: MemberRole; readonly adminOfProjectIds: readonly string[] }
  /** A BI tool holding one org's analytics key. */
  | { readonly kind: 'analytics_key'; readonly orgId: string; readonly keyId: string };

export type PrincipalKind = Principal['kind'];

/** What a request reaches: an org as a whole, or one project of it, to read it or to change it. */
export interface AccessTarget {
  readonly orgId: string;
  /** Set when the request is about one project; unset for org-wide settings and views. */
  readonly projectId?: string | undefined;
  readonly intent: 'read' | 'manage';
}

/** Whether the principal may act on the target. */
export function mayAccess(principal: Principal, target: AccessTarget): boolean {
  switch (principal.kind) {
    case 'service':
      return true;
    case 'analytics_key':
      // Read-only, and only its own org.
      return principal.orgId === target.orgId && target.intent === 'read';
    case 'person':
      if (principal.orgId !== target.orgId) return false;
      if (principal.role === 'org_admin') return true;
      if (principal.role === 'project_admin') return target.projectId !== undefined && principal.adminOfProjectIds.includes(target.projectId);
      return false;
  }
}
