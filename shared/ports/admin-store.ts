// The port provisioning and the usage views need: orgs, scopes and their settings, and paged lists.

import type { AutoRefillSettings } from '../domain/auto-refill';
import type { OrgTermsSource } from '../domain/billing-terms';
import type { MilliCu } from '../domain/compute-units';
import type { TopUpBatch } from '../domain/pool';
import type { DueItem } from './job-store';
import type { ScopeSettingsValues } from '../domain/setting-changes';
import { isMeterEvent, logConcerns, type ActivityRecord, type LogEntry, type OrgRecord, type ScopeChangeKind, type ScopeKind, type ScopeRecord, type ScopeRef } from './ledger-records';

export interface OrgSettings {
  readonly orgId: string;
  readonly name?: string | undefined;
  readonly planName: string;
  readonly allowanceMilli: MilliCu;
  readonly billingAnchor: string;
  /** undefined: leave as is; null: back to the built-in default. */
  readonly highCostMilli?: MilliCu | null | undefined;
}

/** What may change on an org after provisioning; its plan and anchor change only through a plan change. */
export interface OrgDetails {
  readonly name?: string | undefined;
  /** undefined: leave as is; null: back to the built-in default. */
  readonly highCostMilli?: MilliCu | null | undefined;
}

export interface PlanChangeCommand {
  readonly orgId: string;
  /** The config version the change was planned on: a concurrent change makes it stale. */
  readonly expectedConfigVersion: number;
  readonly after: OrgTermsSource;
  readonly entry: ActivityRecord & { readonly kind: 'plan_upgraded' | 'plan_downgrade_scheduled' | 'plan_downgrade_cancelled' };
  /** An upgrade starts a period: the reset that ends it is due. */
  readonly nextReset: string | null;
}

export interface ScopeChangeCommand {
  readonly orgId: string;
  readonly scope: ScopeRef;
  /** The scope's settings once changed: the store writes exactly these. */
  readonly settings: ScopeSettingsValues;
  /** The scope as the change was planned on; a change in between (or its creation) makes the command stale. */
  readonly seen: { readonly exists: boolean; readonly settingsVersion: number };
  readonly entry: ActivityRecord & { readonly kind: ScopeChangeKind };
}

export type ScopeChangeOutcome = { readonly status: 'done'; readonly scope: ScopeRecord } | { readonly status: 'stale' } | { readonly status: 'org_missing' };

export interface DefaultLimitCommand {
  readonly orgId: string;
  /** The config version the change was planned on: a concurrent change makes it stale. */
  readonly expectedConfigVersion: number;
  /** null: remove the default limit. */
  readonly capMilli: MilliCu | null;
  readonly entry: ActivityRecord & { readonly kind: 'default_limit_set' | 'default_limit_removed' };
}

export interface TopUpCommand {
  readonly orgId: string;
  readonly batch: TopUpBatch;
  readonly entry: ActivityRecord & { readonly kind: 'top_up_purchased' };
}

export type TopUpOutcome =
  | { readonly status: 'added' }
  | { readonly status: 'duplicate'; readonly existing: ActivityRecord }
  | { readonly status: 'org_missing' };

export type PlatformActionOutcome = { readonly status: 'added' } | { readonly status: 'duplicate'; readonly existing: ActivityRecord };

/** What the activity feed selects: one org's log between two instants, of some projects, concerning some people. */
export interface ActivitySelection {
  readonly orgId: string;
  /** ISO instants, both included. */
  readonly from: string;
  readonly to: string;
  /** 'all': every entry, with a project or without; a list (sorted): only entries of these projects. */
  readonly projects: 'all' | readonly string[];
  /** null: anyone's; a list (sorted): entries about these people or keys, or made by them (the acting user). */
  readonly users: readonly string[] | null;
}

/** Whether the feed selects a log line: the rule each store's feed query keeps. */
export function activitySelects(selection: ActivitySelection, entry: LogEntry): boolean {
  const { projectId, userId } = logConcerns(entry);
  const actingUserId = isMeterEvent(entry) ? undefined : entry.actor.actingUserId;
  const users = selection.users;
  return (
    entry.createdAt >= selection.from &&
    entry.createdAt <= selection.to &&
    (selection.projects === 'all' || (projectId !== null && selection.projects.includes(projectId))) &&
    (users === null || [userId, actingUserId].some((id) => typeof id === 'string' && users.includes(id)))
  );
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

/** What a new org has due: its first reset (an instant) and its first monthly export. */
export interface FirstDue {
  readonly reset: string;
  readonly monthlyExport: DueItem;
}

export interface AdminStore {
  getOrg(orgId: string): Promise<OrgRecord | undefined>;
  /** Creates the org with its provisioning entry, its first period's reset and its first monthly export due; undefined when it exists already. */
  createOrg(settings: OrgSettings, entry: ActivityRecord & { readonly kind: 'org_provisioned' }, due: FirstDue): Promise<OrgRecord | undefined>;
  /** Changes what may change after provisioning; undefined when the org does not exist. */
  updateOrgDetails(orgId: string, details: OrgDetails, now: string): Promise<OrgRecord | undefined>;
  /** One atomic write: the org's new terms (config version bumped), the activity entry, the next reset due. */
  changePlan(command: PlanChangeCommand, now: string): Promise<'done' | 'stale'>;
  /** One atomic write: the purchase entry (once per purchase id), the batch on the org (config version bumped), its expiry due. */
  addTopUp(command: TopUpCommand, now: string): Promise<TopUpOutcome>;
  /** Writes a platform action's entry once per eventId in its org: a second one finds the first. */
  recordAction(entry: ActivityRecord & { readonly kind: 'platform_action' }): Promise<PlatformActionOutcome>;
  /** Sets the org's auto-refill settings; undefined when the org does not exist. */
  setAutoRefill(orgId: string, settings: AutoRefillSettings, now: string): Promise<OrgRecord | undefined>;
  /** One atomic write: the org's default limit set or removed (config version bumped), and its activity entry. */
  setDefaultLimit(command: DefaultLimitCommand, now: string): Promise<'done' | 'stale'>;
  /** One atomic write, while the org exists: a project's, member's or API key's settings, and their activity entry. */
  putScope(command: ScopeChangeCommand, now: string): Promise<ScopeChangeOutcome>;
  /** One project, member or API key; the implicit default (`exists: false`) when it has no record. */
  getScope(orgId: string, scope: ScopeRef): Promise<ScopeRecord>;
  listScopes(orgId: string, kind: ScopeKind, limit: number, cursor: string | null): Promise<Page<ScopeRecord>>;
  /** The activity log, newest first. */
  listEvents(orgId: string, limit: number, cursor: string | null): Promise<Page<LogEntry>>;
  /**
   * The activity feed: one page of the log lines `selection` selects, newest first, with a cursor bound to the
   * selection (a cursor of another org or other filters is refused). A page holds `limit` lines unless no more follow,
   * or the page read as much of the log as one page may without finding them: then it ends early, with a cursor.
   */
  activityFeed(selection: ActivitySelection, limit: number, cursor: string | null): Promise<Page<LogEntry>>;
  /** Every entry of the activity log made at or before `at`, oldest first (the balance of a past instant). */
  logUpTo(orgId: string, at: string): Promise<LogEntry[]>;
}
