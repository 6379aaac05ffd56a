// The ports the use cases need from storage. The DynamoDB adapter implements them; use cases never see the SDK.

import type { MilliCu } from '../domain/compute-units';
import type { PeriodUsage } from '../domain/charge-limits';
import type { ActorKind, PoolCategory, ScopeKind } from '../domain/limits';
import type { MemberRole } from '../domain/permissions';

export type { MemberRole, PeriodUsage, ScopeKind };

export interface OrgRecord {
  readonly orgId: string;
  readonly name: string | null;
  readonly planName: string;
  readonly allowanceMilli: MilliCu;
  readonly billingAnchor: string;
  readonly defaultCapMilli: MilliCu | null;
  readonly highCostMilli: MilliCu | null;
  /** Bumped by every change to the org's limits; a consume conditions its pool write on the version it used. */
  readonly configVersion: number;
  readonly usage: PeriodUsage;
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
  /** The same period's first day, `YYYY-MM-DD`, as the activity log shows it. */
  readonly periodStart: string;
  readonly projectId: string;
  readonly userId: string;
  readonly actorKind: ActorKind;
  readonly cuMilli: MilliCu;
  readonly poolCategory: PoolCategory;
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
}

export interface ScopeRef {
  readonly kind: ScopeKind;
  readonly id: string;
}

export interface MeterSnapshot {
  readonly org: OrgRecord | undefined;
  readonly project: ScopeRecord;
  readonly actor: ScopeRecord;
  /** The event already stored under the request's id, if any. */
  readonly existingEvent: MeterEventRecord | undefined;
}

/** What the consume transaction must find for its charge to be valid; each field is checked atomically. */
export interface ChargeCommand {
  readonly event: MeterEventRecord;
  readonly apiKeyProjectId: string | null;
  readonly expectedConfigVersion: number;
  readonly expectedProjectCapMilli: MilliCu | null;
  readonly expectedActorCapMilli: MilliCu | null;
  /** The largest usage each counter may hold before the charge (limit minus amount); null: no limit. */
  readonly maxUsedBefore: { readonly team: MilliCu; readonly project: MilliCu | null; readonly actor: MilliCu | null };
}

export type ChargeOutcome =
  | { readonly status: 'charged' }
  | { readonly status: 'duplicate'; readonly existing: MeterEventRecord }
  /** A condition failed: the current state of whatever failed, as the transaction saw it. */
  | {
      readonly status: 'rejected';
      readonly orgMissing: boolean;
      readonly org?: OrgRecord | undefined;
      readonly project?: ScopeRecord | undefined;
      readonly actor?: ScopeRecord | undefined;
    };

export interface RefundCommand {
  readonly event: MeterEventRecord;
  readonly original: MeterEventRecord;
  /** The refund is valid only while the original's refunded total is at most this. */
  readonly maxRefundedBefore: MilliCu;
}

export type RefundOutcome =
  | { readonly status: 'refunded' }
  | { readonly status: 'duplicate'; readonly existing: MeterEventRecord }
  | { readonly status: 'rejected' };

export interface MeterStore {
  /** Strongly consistent read of everything a charge depends on, and of an event already stored under requestId. */
  loadSnapshot(orgId: string, project: string, actor: ScopeRef, requestId: string | null): Promise<MeterSnapshot>;
  /** One atomic write: the event, the team pool, the project and the actor counters, or nothing. */
  commitCharge(command: ChargeCommand): Promise<ChargeOutcome>;
  /** Strongly consistent read of the events stored under the given request ids (missing ones are left out). */
  getEvents(orgId: string, requestIds: readonly string[]): Promise<MeterEventRecord[]>;
  /** One atomic write: the refund event, the original's refunded total and every counter the original moved. */
  commitRefund(command: RefundCommand): Promise<RefundOutcome>;
}

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

/** A fault the store expects to pass (conflict, throttling, a lost connection): safe to retry, the writes are idempotent. */
export class TransientStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientStoreError';
  }
}


export type CounterRef = { readonly kind: 'team'; readonly id: '' } | ScopeRef;

/** How an event names a counter it moved: `team`, or `<kind>:<id>`. */
export function counterName(counter: CounterRef): string {
  return counter.kind === 'team' ? 'team' : `${counter.kind}:${counter.id}`;
}

export function parseCounter(name: string): CounterRef {
  if (name === 'team') return { kind: 'team', id: '' };
  const separator = name.indexOf(':');
  return { kind: name.slice(0, separator) as ScopeKind, id: name.slice(separator + 1) };
}
