// The port provisioning and the usage views need: orgs, scopes and their settings, and paged lists.

import type { MilliCu } from '../domain/compute-units';
import type { MemberRole } from '../domain/permissions';
import type { MeterEventRecord, OrgRecord, ScopeKind, ScopeRecord, ScopeRef } from './ledger-records';

export interface OrgSettings {
  readonly orgId: string;
  readonly name?: string | undefined;
  readonly planName: string;
  readonly allowanceMilli: MilliCu;
  readonly billingAnchor: string;
  /** undefined: leave as is; null: back to the built-in default. */
  readonly highCostMilli?: MilliCu | null | undefined;
}

export interface ScopeSettings {
  readonly name?: string | undefined;
  /** undefined: leave as is; null: remove the cap. */
  readonly capMilli?: MilliCu | null | undefined;
  readonly role?: MemberRole | undefined;
  readonly adminOfProjectIds?: readonly string[] | undefined;
  readonly projectId?: string | undefined;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface AdminStore {
  getOrg(orgId: string): Promise<OrgRecord | undefined>;
  /** Creates or updates the org; keeps its counters. */
  putOrg(settings: OrgSettings, now: string): Promise<OrgRecord>;
  /** Sets or removes the org's default limit; undefined when the org does not exist. */
  setDefaultLimit(orgId: string, capMilli: MilliCu | null, now: string): Promise<OrgRecord | undefined>;
  /** Creates or updates a project, member or API key; undefined when the org does not exist. */
  putScope(orgId: string, scope: ScopeRef, settings: ScopeSettings, now: string): Promise<ScopeRecord | undefined>;
  listScopes(orgId: string, kind: ScopeKind, limit: number, cursor: string | null): Promise<Page<ScopeRecord>>;
  /** The activity log, newest first. */
  listEvents(orgId: string, limit: number, cursor: string | null): Promise<Page<MeterEventRecord>>;
}
