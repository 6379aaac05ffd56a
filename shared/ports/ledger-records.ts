// The records the ledger's ports speak: an org, a scope (project, member, API key), an event of the activity log.

import type { AutoRefillSettings } from '../domain/auto-refill';
import type { OrgTermsSource, PendingPlan, Plan } from '../domain/billing-terms';
import type { MilliCu } from '../domain/compute-units';
import type { PeriodUsage } from '../domain/charge-limits';
import type { ActorKind, ScopeKind } from '../domain/limits';
import type { Draw, PoolCategory, SourceReturn, TopUpBatch, TopUpSource } from '../domain/pool';
import type { MemberRole } from '../domain/permissions';
import type { SettingChanges } from '../domain/setting-changes';

export type { MemberRole, PeriodUsage, ScopeKind };

export interface OrgRecord extends OrgTermsSource {
  readonly orgId: string;
  readonly name: string | null;
  readonly defaultCapMilli: MilliCu | null;
  /** Bumped by every change to the org's limits or pool; a consume conditions its pool write on the version it used. */
  readonly configVersion: number;
  /** The allowance used, per period. */
  readonly usage: PeriodUsage;
  /** Top-up batches not yet dropped by the expiry job (expired ones among them no longer count). */
  readonly topUps: readonly TopUpBatch[];
  readonly autoRefill: AutoRefillSettings | null;
  /** Auto-refills per period. */
  readonly refills: PeriodUsage;
  /** The reset the org's pending rollover is filed for; null for an org from before resets were filed. */
  readonly nextResetDue: string | null;
  /** Counters of periods before this one were pruned by the rollover job; null: none pruned yet. */
  readonly countersKeptFrom: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ScopeRecord {
  readonly kind: ScopeKind;
  readonly id: string;
  /** false: never provisioned nor charged; the record is the implicit default. */
  readonly exists: boolean;
  readonly capMilli: MilliCu | null;
  readonly usage: PeriodUsage;
  readonly name: string | null;
  readonly role: MemberRole | null;
  readonly adminOfProjectIds: readonly string[];
  /** API keys only: the project the key belongs to. */
  readonly projectId: string | null;
  /** How many admin changes the settings have had (0: none yet): a change is planned on the settings as read. */
  readonly settingsVersion: number;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
}

export interface JobDetails {
  readonly jobType: string;
  readonly modelId?: string | undefined;
  readonly modelName?: string | undefined;
  readonly assetKind?: 'image' | 'video' | '3d' | 'audio' | undefined;
  readonly assetCount?: number | undefined;
  readonly resourceType?: string | undefined;
  readonly ioType?: 'input' | 'output' | undefined;
  readonly endpoint?: string | undefined;
}

/** One line of the org's activity log: a consume or a refund, with everything needed to answer it again. */
export interface MeterEventRecord extends JobDetails {
  readonly kind: 'consume' | 'refund';
  readonly orgId: string;
  readonly requestId: string;
  readonly eventId: string;
  readonly createdAt: string;
  /** The billing period whose counters the event moved: its id (first instant), which keys the counters. */
  readonly periodId: string;
  readonly projectId: string;
  readonly userId: string;
  readonly actorKind: ActorKind;
  readonly cuMilli: MilliCu;
  readonly poolCategory: PoolCategory;
  /** consume: where the charge came from, in draw order (allowance of `periodId`, top-up batches). */
  readonly draws: readonly Draw[];
  /** refund: what went back to each source, and what could not (ended period, expired batch). */
  readonly returns?: readonly SourceReturn[] | undefined;
  /** The counters the event moved, e.g. `team`, `project:p1`, `member:u1`. */
  readonly counters: readonly string[];
  /** Hash of the validated request: the same requestId with another body is refused. */
  readonly fingerprint: string;
  /** Random per processing attempt: tells our own lost-response retry from a client's replay. */
  readonly attemptId: string;
  /** consume: the headroom reported in the first answer. */
  readonly availableAfterMilli?: MilliCu | null | undefined;
  /** consume: how much of the charge was refunded so far. */
  readonly refundedMilli?: MilliCu | undefined;
  /** refund: the requestId of the consume it reverses. */
  readonly refundOf?: string | undefined;
  /** refund: it brings the consume's refunded total to the whole charge, so the job no longer counts. */
  readonly refundsInFull?: boolean | undefined;
}

/** The org's stored terms alone (plan, anchor, plan-change state), as a plan change or the log records them. */
export function termsSourceOf(org: OrgRecord): OrgTermsSource {
  const { planName, allowanceMilli, billingAnchor, periodStartedAt, pendingPlan, highCostMilli } = org;
  return { planName, allowanceMilli, billingAnchor, periodStartedAt, pendingPlan, highCostMilli };
}

/** The kinds of actor an activity entry names. */
export const ACTIVITY_ACTOR_KINDS = ['service', 'job', 'person', 'analytics_key'] as const;

/**
 * Who caused an activity entry: the platform's backend (on an admin's behalf), one of the service's jobs, a signed-in
 * person (an org admin managing analytics keys), or whoever presented an analytics key (a failed authentication).
 */
export interface ActivityActor {
  readonly kind: (typeof ACTIVITY_ACTOR_KINDS)[number];
  readonly id: string;
  /** The person the platform's backend acted for (its `X-Acting-User` header), when it named one. */
  readonly actingUserId?: string | undefined;
}

/** The platform's backend: who the activity log names for the admin writes it makes. */
export const SERVICE_ACTOR: ActivityActor = { kind: 'service', id: 'platform' };

/** The platform's backend acting for `actingUserId`, or for no one it named. */
export function serviceActor(actingUserId: string | undefined): ActivityActor {
  return actingUserId === undefined ? SERVICE_ACTOR : { ...SERVICE_ACTOR, actingUserId };
}

/** A write the activity log records: who made it (the platform's backend for no one named, when left out). */
export interface ActingRequest {
  readonly actor?: ActivityActor | undefined;
}

interface ActivityBase {
  readonly orgId: string;
  readonly entryId: string;
  readonly createdAt: string;
  readonly actor: ActivityActor;
}

/** The stored terms before and after a plan change: the log answers the terms of any past instant from them. */
export interface TermsChange {
  readonly before: OrgTermsSource;
  readonly after: OrgTermsSource;
  /** The org's config version once the change was written: orders changes made in the same millisecond. */
  readonly configVersion: number;
}

/** The kind of entry an admin's change to a project, member or API key writes, by what it did. */
export const SCOPE_CHANGE_KINDS = {
  project: { created: 'project_created', changed: 'project_changed' },
  member: { created: 'member_added', changed: 'member_changed' },
  api_key: { created: 'api_key_created', changed: 'api_key_changed' },
} as const satisfies Record<ScopeKind, { created: string; changed: string }>;

export type ScopeChangeKind = (typeof SCOPE_CHANGE_KINDS)[ScopeKind][keyof (typeof SCOPE_CHANGE_KINDS)[ScopeKind]];

/** Which kind of scope a change entry is about, and whether the change created it. */
export function scopeChangeOf(kind: ScopeChangeKind): { readonly scope: ScopeKind; readonly created: boolean } {
  const scopes = Object.keys(SCOPE_CHANGE_KINDS) as ScopeKind[];
  const scope = scopes.find((candidate) => Object.values<string>(SCOPE_CHANGE_KINDS[candidate]).includes(kind))!;
  return { scope, created: SCOPE_CHANGE_KINDS[scope].created === kind };
}

/**
 * An entry of the activity log besides consumes and refunds: provisioning, plan changes, resets, top-ups, expiries,
 * and the changes admins make to projects, members, API keys and the default limit.
 */
export type ActivityRecord =
  | (ActivityBase & { readonly kind: 'org_provisioned'; readonly after: OrgTermsSource; readonly configVersion: number })
  | (ActivityBase & TermsChange & { readonly kind: 'plan_upgraded'; readonly plan: Plan; readonly periodId: string; readonly cancelledDowngrade: PendingPlan | null })
  | (ActivityBase & TermsChange & { readonly kind: 'plan_downgrade_scheduled'; readonly plan: Plan; readonly effectiveAt: string })
  | (ActivityBase & TermsChange & { readonly kind: 'plan_downgrade_cancelled'; readonly plan: Plan; readonly cancelledDowngrade: PendingPlan })
  | (ActivityBase & {
      readonly kind: 'period_reset';
      readonly periodId: string;
      readonly previousPeriodId: string;
      readonly plan: Plan;
      readonly downgradeApplied: boolean;
    })
  | (ActivityBase & {
      readonly kind: 'top_up_purchased';
      readonly purchaseId: string;
      readonly source: TopUpSource;
      readonly cuMilli: MilliCu;
      readonly expiresAt: string;
      /** The request's hash: the same purchaseId with another body is refused. */
      readonly fingerprint: string;
    })
  | (ActivityBase & { readonly kind: 'top_up_expired'; readonly purchaseId: string; readonly cuMilli: MilliCu; readonly unspentMilli: MilliCu; readonly expiresAt: string })
  | (ActivityBase & {
      readonly kind: ScopeChangeKind;
      /** The project, member or API key created or changed. */
      readonly scopeId: string;
      /** The project the change concerns: the project itself, or the API key's project; null for a member. */
      readonly projectId: string | null;
      /** Every setting it changed, before and after; for a new one, every setting it was given. */
      readonly changes: SettingChanges;
    })
  | (ActivityBase & {
      readonly kind: 'default_limit_set' | 'default_limit_removed';
      /** The default limit now; null once removed. */
      readonly capMilli: MilliCu | null;
      readonly previousCapMilli: MilliCu | null;
      /** The org's config version once the change was written. */
      readonly configVersion: number;
    })
  | (ActivityBase & {
      readonly kind: 'platform_action';
      /** What the platform did, e.g. `asset.deleted`: lowercase dotted segments, never one of the kinds above. */
      readonly action: string;
      /** The platform's id for the action: the same id again is a replay. */
      readonly eventId: string;
      /** Who did it. */
      readonly userId: string;
      readonly projectId: string | null;
      /** A short label of what it was done to (an asset's or model's name). */
      readonly subject: string | null;
      /** The request's hash: the same eventId with another body is refused. */
      readonly fingerprint: string;
    })
  | (ActivityBase & {
      readonly kind: 'analytics_key_created' | 'analytics_key_rotated' | 'analytics_key_revoked';
      readonly keyId: string;
      readonly name: string;
      /** A rotation's: when the previous secret stops working (null: at once). */
      readonly graceEndsAt: string | null;
    })
  | (ActivityBase & {
      /** Secrets refused for a known key within one minute (one entry per key and minute, however many attempts). */
      readonly kind: 'analytics_key_auth_failed';
      readonly keyId: string;
      /** The minute the failures fall in (its first instant). */
      readonly windowStart: string;
      /** At least this many: each instance adds its count at 1, 2, 4, 8, ... failures. */
      readonly failures: number;
    });

export type ActivityKind = ActivityRecord['kind'];

/** One line of the org's activity log, whatever it records. */
export type LogEntry = MeterEventRecord | ActivityRecord;

export function isMeterEvent(entry: LogEntry): entry is MeterEventRecord {
  return entry.kind === 'consume' || entry.kind === 'refund';
}

/** What a log line concerns: its project, and the person (or API key) it is about: the activity feed filters on them. */
export interface LogConcerns {
  readonly projectId: string | null;
  readonly userId: string | null;
}

export function logConcerns(entry: LogEntry): LogConcerns {
  if (isMeterEvent(entry) || entry.kind === 'platform_action') return { projectId: entry.projectId, userId: entry.userId };
  // An analytics key belongs to the org, not to a project: only org admins see its entries.
  if ('keyId' in entry) return { projectId: null, userId: entry.keyId };
  // A change to a member or an API key is about that member or key; a project's, about no one.
  if ('scopeId' in entry) return { projectId: entry.projectId, userId: scopeChangeOf(entry.kind).scope === 'project' ? null : entry.scopeId };
  return { projectId: null, userId: null };
}

export interface ScopeRef {
  readonly kind: ScopeKind;
  readonly id: string;
}

export type CounterRef = { readonly kind: 'team'; readonly id: '' } | ScopeRef;

/** How an event names a counter it moved: `team`, or `<kind>:<id>`. */
export function counterName(counter: CounterRef): string {
  return counter.kind === 'team' ? 'team' : `${counter.kind}:${counter.id}`;
}

const SCOPE_KINDS: readonly ScopeKind[] = ['project', 'member', 'api_key'];

/** Whether `name` is a counter name as `counterName` writes it. */
export function isCounterName(name: string): boolean {
  if (name === 'team') return true;
  const separator = name.indexOf(':');
  return separator > 0 && separator < name.length - 1 && SCOPE_KINDS.includes(name.slice(0, separator) as ScopeKind);
}

/** The counter an event names; a name `counterName` could not have written is a corrupt record, not a counter. */
export function parseCounter(name: string): CounterRef {
  if (!isCounterName(name)) throw new Error(`not a counter name: ${name}`);
  if (name === 'team') return { kind: 'team', id: '' };
  const separator = name.indexOf(':');
  return { kind: name.slice(0, separator) as ScopeKind, id: name.slice(separator + 1) };
}

/** A fault the store expects to pass (conflict, throttling, a lost connection): safe to retry, the writes are idempotent. */
export class TransientStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientStoreError';
  }
}
