// The single table's shape: its key and index definition (used by CDK and by the local runner alike) and every
// key this service writes. Nothing else in the codebase spells a pk.

import type { ScopeKind } from '../../ports/ledger-store';

export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
export const EVENT_LOG_INDEX = 'gsi1';
export const EVENT_LOG_PARTITION_KEY = 'gsi1pk';
export const EVENT_LOG_SORT_KEY = 'gsi1sk';
/** Only for clean-up of disposable items; never relied on for correctness (TTL deletes days late). */
export const TTL_ATTRIBUTE = 'expiresAt';

/** The table definition both deployment targets build from. */
export const LEDGER_TABLE_DEFINITION = {
  partitionKey: { name: PARTITION_KEY, type: 'S' },
  sortKey: { name: SORT_KEY, type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: EVENT_LOG_INDEX,
      partitionKey: { name: EVENT_LOG_PARTITION_KEY, type: 'S' },
      sortKey: { name: EVENT_LOG_SORT_KEY, type: 'S' },
      projection: 'ALL',
    },
  ],
  timeToLiveAttribute: TTL_ATTRIBUTE,
} as const;

const SCOPE_PREFIX: Record<ScopeKind, string> = { project: 'PROJECT#', member: 'MEMBER#', api_key: 'APIKEY#' };

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

/** The org: plan, anchor, default limit, config version, and the team pool's usage per period. */
export function orgKey(orgId: string): ItemKey {
  return { pk: `ORG#${orgId}`, sk: 'ORG' };
}

/** A project, member or API key of the org: its cap and its usage per period. */
export function scopeKey(orgId: string, kind: ScopeKind, id: string): ItemKey {
  return { pk: `ORG#${orgId}`, sk: `${SCOPE_PREFIX[kind]}${id}` };
}

/** Query bounds for every scope item of one kind in an org. */
export function scopeQuery(orgId: string, kind: ScopeKind): { pk: string; skPrefix: string } {
  return { pk: `ORG#${orgId}`, skPrefix: SCOPE_PREFIX[kind] };
}

/** A consume or refund, stored under its request id: the item itself is the idempotency record. */
export function eventKey(orgId: string, requestId: string): ItemKey {
  return { pk: `ORG#${orgId}#REQ#${requestId}`, sk: 'EVENT' };
}

/** Where an event sits in the org's activity log (the event-log index), in time order. */
export function eventLogKey(orgId: string, createdAt: string, eventId: string): { gsi1pk: string; gsi1sk: string } {
  return { gsi1pk: eventLogPartition(orgId), gsi1sk: `${createdAt}#${eventId}` };
}

export function eventLogPartition(orgId: string): string {
  return `ORG#${orgId}#LOG`;
}

/** The attribute that counts a scope's usage in one billing period (by its id, the first instant): a new period starts at zero by itself. */
export function usageAttribute(periodId: string): string {
  return `${USAGE_PREFIX}${periodId}`;
}

export const USAGE_PREFIX = 'used@';
