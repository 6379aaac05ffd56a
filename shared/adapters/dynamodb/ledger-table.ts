// The single table's shape: its key and index definition (used by CDK and by the local runner alike), every key
// this service writes, the queries it runs and the named conditions its writes carry. Nothing else spells a pk.

import type { ScopeKind } from '../../ports/ledger-records';

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
  /** The table's stream: auto-refill reads a consume's before and after, and activity entries are published from it. */
  stream: 'NEW_AND_OLD_IMAGES',
} as const;

/** The sort key of an org's own item (its plan, limits and pool). */
export const ORG_SORT_KEY = 'ORG';
/** The `entity` of an activity-log entry: a fact (a reset, an expiry, a refill) that is also published. */
export const ACTIVITY_ENTITY = 'activity';

/**
 * The stream records the stream job is given, as Lambda event filter patterns (the local runner applies the same):
 * a changed org item (auto-refill compares its pool before and after) and a new activity-log entry (published).
 */
export const LEDGER_STREAM_FILTERS = [
  { eventName: ['MODIFY'], dynamodb: { Keys: { [SORT_KEY]: { S: [ORG_SORT_KEY] } } } },
  { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: [ACTIVITY_ENTITY] } } } },
] as const;

const SCOPE_PREFIX: Record<ScopeKind, string> = { project: 'PROJECT#', member: 'MEMBER#', api_key: 'APIKEY#' };

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

/** The org: plan, anchor, default limit, config version, and the team pool's usage per period. */
export function orgKey(orgId: string): ItemKey {
  return { pk: `ORG#${orgId}`, sk: ORG_SORT_KEY };
}

/** A project, member or API key of the org: its cap and its usage per period. */
export function scopeKey(orgId: string, kind: ScopeKind, id: string): ItemKey {
  return { pk: `ORG#${orgId}`, sk: `${SCOPE_PREFIX[kind]}${id}` };
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

/** One string per key, for matching items read back (a batch answer) to the keys asked for. */
export function keyIdentity(key: ItemKey | Readonly<Record<string, unknown>>): string {
  const attributes = key as Readonly<Record<string, unknown>>;
  return `${String(attributes[PARTITION_KEY])}\u0000${String(attributes[SORT_KEY])}`;
}

/** An item without its table keys (primary and event-log index): the entity's own attributes. */
export function withoutKeys(item: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { [PARTITION_KEY]: _pk, [SORT_KEY]: _sk, [EVENT_LOG_PARTITION_KEY]: _logPk, [EVENT_LOG_SORT_KEY]: _logSk, ...rest } = item;
  return rest;
}

/** A query and the key attributes a page cursor of it must hold, and where such a cursor may point. */
export interface TableQuery {
  readonly IndexName?: string;
  readonly KeyConditionExpression: string;
  readonly ExpressionAttributeValues: Record<string, unknown>;
  /** The attributes of this query's LastEvaluatedKey. */
  readonly cursorAttributes: readonly string[];
  /** Whether a cursor's key stays inside this query's partition (and range). */
  readonly cursorBelongs: (key: Readonly<Record<string, string>>) => boolean;
}

/** Every project, member or API key of one kind in an org, in id order. */
export function scopesQuery(orgId: string, kind: ScopeKind): TableQuery {
  const pk = orgKey(orgId).pk;
  const skPrefix = SCOPE_PREFIX[kind];
  return {
    KeyConditionExpression: `${PARTITION_KEY} = :pk AND begins_with(${SORT_KEY}, :prefix)`,
    ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix },
    cursorAttributes: [PARTITION_KEY, SORT_KEY],
    cursorBelongs: (key) => key[PARTITION_KEY] === pk && (key[SORT_KEY] ?? '').startsWith(skPrefix),
  };
}

/** The org's activity log (the event-log index), in time order. */
export function eventLogQuery(orgId: string): TableQuery {
  const partition = eventLogPartition(orgId);
  return {
    IndexName: EVENT_LOG_INDEX,
    KeyConditionExpression: `${EVENT_LOG_PARTITION_KEY} = :log`,
    ExpressionAttributeValues: { ':log': partition },
    cursorAttributes: [PARTITION_KEY, SORT_KEY, EVENT_LOG_PARTITION_KEY, EVENT_LOG_SORT_KEY],
    cursorBelongs: (key) => key[EVENT_LOG_PARTITION_KEY] === partition,
  };
}

// Condition expressions, named. `#used` is the counter of the charge's period; `:max` the largest usage the counter
// may hold before the charge (limit minus amount): DynamoDB conditions have no arithmetic.
const USAGE_FITS = '(attribute_not_exists(#used) OR #used <= :max)';
export const CONDITIONS = {
  /** The item is new: the request id was never used (the idempotency check of consume and refund). */
  itemIsNew: 'attribute_not_exists(#pk)',
  /** The item exists (the org of a scope being provisioned, a counter being refunded). */
  itemExists: 'attribute_exists(#pk)',
  /** The org's limits are the version the charge was evaluated on, and the pool has room. */
  orgUnchangedAndPoolFits: `#configVersion = :configVersion AND ${USAGE_FITS}`,
  /** The scope's own cap is the one evaluated, and its usage has room. */
  capUnchangedAndUsageFits: `#capMilli = :cap AND ${USAGE_FITS}`,
  /** The scope still has no cap of its own, and its usage has room under the limit that applies (the default). */
  noOwnCapAndUsageFits: `attribute_not_exists(#capMilli) AND ${USAGE_FITS}`,
  /** The scope still has no cap of its own, and no limit applies to it. */
  noOwnCap: 'attribute_not_exists(#capMilli)',
  /** The original is a consume, and its refunded total leaves room for this refund. */
  refundFits: '#kind = :consume AND (attribute_not_exists(#refundedMilli) OR #refundedMilli <= :maxRefunded)',
} as const;

export type ConditionName = keyof typeof CONDITIONS;

/** The attribute names a condition refers to, besides the ones its caller supplies (`#used`). */
export const CONDITION_NAMES: Record<ConditionName, Record<string, string>> = {
  itemIsNew: { '#pk': PARTITION_KEY },
  itemExists: { '#pk': PARTITION_KEY },
  orgUnchangedAndPoolFits: { '#configVersion': 'configVersion' },
  capUnchangedAndUsageFits: { '#capMilli': 'capMilli' },
  noOwnCapAndUsageFits: { '#capMilli': 'capMilli' },
  noOwnCap: { '#capMilli': 'capMilli' },
  refundFits: { '#kind': 'kind', '#refundedMilli': 'refundedMilli' },
};
