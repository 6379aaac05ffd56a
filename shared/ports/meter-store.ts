// The port the metering use cases (consume, refund, check) need: read what a charge depends on, and write a charge
// or a refund as one atomic step. The DynamoDB adapter implements it in one round trip each.

import type { MilliCu } from '../domain/compute-units';
import type { SourceDraw, SourceReturn } from '../domain/pool';
import type { MeterEventRecord, OrgRecord, ScopeRecord, ScopeRef } from './ledger-records';

export interface MeterSnapshot {
  readonly org: OrgRecord | undefined;
  readonly project: ScopeRecord;
  readonly actor: ScopeRecord;
  /** The event already stored under the request's id, if any. */
  readonly existingEvent: MeterEventRecord | undefined;
}

/**
 * What the consume transaction must find for its charge to be valid; each field is checked atomically. An API key's
 * counter must also still belong to the event's project, or to none yet (the charge then registers it there).
 */
export interface ChargeCommand {
  readonly event: MeterEventRecord;
  readonly expectedConfigVersion: number;
  readonly expectedProjectCapMilli: MilliCu | null;
  readonly expectedActorCapMilli: MilliCu | null;
  /** The draw plan on the team pool: each source's draw and the usage it must have for the plan to hold. */
  readonly draws: readonly SourceDraw[];
  /** The largest usage the project and actor counters may hold before the charge (limit minus amount); null: no limit. */
  readonly maxUsedBefore: { readonly project: MilliCu | null; readonly actor: MilliCu | null };
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
  /** The original's refunded total the refund was planned on; the refund is valid only while it still is. */
  readonly refundedBefore: MilliCu;
  /** What goes back to each source; the restored ones are written, conditioned on the source still being live. */
  readonly returns: readonly SourceReturn[];
  /** Whether the table still keeps the counters of the original's period (the rollover prunes older ones). */
  readonly countersKept: boolean;
}

export interface RefundSnapshot {
  readonly org: OrgRecord | undefined;
  /** The event already stored under the refund's own request id, if any. */
  readonly existing: MeterEventRecord | undefined;
  readonly original: MeterEventRecord | undefined;
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
  /** Strongly consistent read of what a refund depends on: the org, the refund's own request id and the original. */
  loadRefund(orgId: string, requestId: string, refundOf: string): Promise<RefundSnapshot>;
  /** One atomic write: the refund event, the original's refunded total, the counters and the restored pool sources. */
  commitRefund(command: RefundCommand): Promise<RefundOutcome>;
}
