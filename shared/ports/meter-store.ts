// The port the metering use cases (consume, refund, check) need: read what a charge depends on, and write a charge
// or a refund as one atomic step. The DynamoDB adapter implements it in one round trip each.

import type { MilliCu } from '../domain/compute-units';
import type { MeterEventRecord, OrgRecord, ScopeRecord, ScopeRef } from './ledger-records';

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
