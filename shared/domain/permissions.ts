// Who may do what in an org: member roles, and the access rules principals are checked against.

export const MEMBER_ROLES = ['org_admin', 'project_admin', 'contributor', 'viewer'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** The role of a member seen first in a consume, or provisioned without one. */
export const DEFAULT_MEMBER_ROLE: MemberRole = 'contributor';
