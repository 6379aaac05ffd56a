// The single table's shape: its key and index definition (used by CDK and by the local runner alike), every key
// this service writes, the queries it runs and the named conditions its writes carry. Nothing else spells a pk.

import { requestFingerprint } from '../../domain/fingerprint';
import type { ActivitySelection } from '../../ports/admin-store';
import type { ExportTarget } from '../../domain/finance-export';
import type { DueKind } from '../../ports/job-store';
import type { LogConcerns, ScopeKind } from '../../ports/ledger-records';
import { cellIdOf, type UsageCellKey } from '../../domain/usage-rollup';

export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
export const EVENT_LOG_INDEX = 'gsi1' as const;
export const EVENT_LOG_PARTITION_KEY = 'gsi1pk';
export const EVENT_LOG_SORT_KEY = 'gsi1sk';
/** The events of one org and UTC day, by signed amount (the events table sorted by amount). */
export const EVENTS_BY_AMOUNT_INDEX = 'gsi2' as const;
/** The events of one org and UTC day, by user (the events table sorted by user). */
export const EVENTS_BY_USER_INDEX = 'gsi3' as const;
/** The partition key both by-day indexes share: `ORG#<org>#DAY#<date>`. */
export const EVENT_DAY_KEY = 'gsi2pk';
export const AMOUNT_SORT_KEY = 'gsi2sk';
export const USER_SORT_KEY = 'gsi3sk';
/** Only for clean-up of disposable items; never relied on for correctness (TTL deletes days late). */
export const TTL_ATTRIBUTE = 'expiresAt';

export type LedgerIndexName = typeof EVENT_LOG_INDEX | typeof EVENTS_BY_AMOUNT_INDEX | typeof EVENTS_BY_USER_INDEX;

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
    {
      indexName: EVENTS_BY_AMOUNT_INDEX,
      partitionKey: { name: EVENT_DAY_KEY, type: 'S' },
      sortKey: { name: AMOUNT_SORT_KEY, type: 'S' },
      projection: 'ALL',
    },
    {
      indexName: EVENTS_BY_USER_INDEX,
      partitionKey: { name: EVENT_DAY_KEY, type: 'S' },
      sortKey: { name: USER_SORT_KEY, type: 'S' },
      projection: 'ALL',
    },
  ],
  timeToLiveAttribute: TTL_ATTRIBUTE,
  /** The table's stream: auto-refill reads a consume's before and after, and activity entries are published from it. */
  stream: 'NEW_AND_OLD_IMAGES',
} as const;

/** The sort key of an org's own item (its plan, limits and pool). */
export const ORG_SORT_KEY = 'ORG';
/** The `entity` of a consume or refund: the stream rolls each one up into the usage cells once. */
export const EVENT_ENTITY = 'event';
/** The `entity` of an activity-log entry besides consumes and refunds (a plan change, reset, top-up, expiry); the stream publishes some. */
export const ACTIVITY_ENTITY = 'activity';
/** The `entity` of a cost alert's firing: the stream publishes each one when it is written (once per threshold and period). */
export const ALERT_FIRING_ENTITY = 'alert_firing';

/** The `entity` of a project's, member's or API key's item: its kind (a charge sets it, as provisioning does). */
export const SCOPE_ENTITIES = ['project', 'member', 'api_key'] as const satisfies readonly ScopeKind[];

/**
 * The stream records the stream job is given, as Lambda event filter patterns (the local runner reads every record and
 * acts on the same ones): a changed org item (auto-refill and cost alerts compare its pool before and after), a
 * project, member or API key written (its cost alerts compare its counter before and after), a new activity-log entry or alert
 * firing (published) and a new consume or refund (rolled up into the usage cells).
 */
export const LEDGER_STREAM_FILTERS = [
  { eventName: ['MODIFY'], dynamodb: { Keys: { [SORT_KEY]: { S: [ORG_SORT_KEY] } } } },
  { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { entity: { S: [...SCOPE_ENTITIES] } } } },
  { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: [ACTIVITY_ENTITY, EVENT_ENTITY, ALERT_FIRING_ENTITY] } } } },
] as const;

/** The partition of an org's own items (the org, its scopes, settings and firings): `ORG#<org>`. */
export const ORG_PARTITION_PREFIX = 'ORG#';

const SCOPE_PREFIX: Record<ScopeKind, string> = { project: 'PROJECT#', member: 'MEMBER#', api_key: 'APIKEY#' };

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

/** The org: plan, anchor, default limit, config version, the allowance's usage per period, and its top-up batches. */
export function orgKey(orgId: string): ItemKey {
  return { pk: `${ORG_PARTITION_PREFIX}${orgId}`, sk: ORG_SORT_KEY };
}

/** The org item's record of the last charge's time: the auto-refill trigger reads the pool as of that write. */
export const CHARGED_AT = 'chargedAt';

/** A project, member or API key of the org: its cap and its usage per period. */
export function scopeKey(orgId: string, kind: ScopeKind, id: string): ItemKey {
  return { pk: `ORG#${orgId}`, sk: `${SCOPE_PREFIX[kind]}${id}` };
}

/** The prefix of an org's analytics keys' listings (`AKEY#<keyId>`, beside its scopes under the org's partition). */
const ANALYTICS_KEY_PREFIX = 'AKEY#';

/** An org's cost-alert thresholds: one item beside the org's own, so consumes never read it. */
export function alertThresholdsKey(orgId: string): ItemKey {
  return { pk: orgKey(orgId).pk, sk: 'ALERTS' };
}

/** An org's cost-alert webhook: its own item, so replacing the thresholds never touches it (nor it them). */
export function alertWebhookKey(orgId: string): ItemKey {
  return { pk: orgKey(orgId).pk, sk: 'ALERT_WEBHOOK' };
}

const ALERT_FIRED_PREFIX = 'ALERT_FIRED#';

/** The one firing a threshold may have in a period: its conditional put is what makes the alert fire once. */
export function alertFiringKey(orgId: string, periodStart: string, thresholdId: string): ItemKey {
  return { pk: orgKey(orgId).pk, sk: `${ALERT_FIRED_PREFIX}${periodStart}#${thresholdId}` };
}

/** What fired in one period of an org. */
export function alertFiringsQuery(orgId: string, periodStart: string): TableQuery {
  return orgItemsQuery(orgId, `${ALERT_FIRED_PREFIX}${periodStart}#`);
}

/** An analytics key's line in the org's list: name, status, timestamps, lastUsedAt; the key store holds its digests. */
export function analyticsKeyListingKey(orgId: string, keyId: string): ItemKey {
  return { pk: `ORG#${orgId}`, sk: `${ANALYTICS_KEY_PREFIX}${keyId}` };
}

/** Every analytics key listing of an org, in key id order. */
export function analyticsKeysQuery(orgId: string): TableQuery {
  return orgItemsQuery(orgId, ANALYTICS_KEY_PREFIX);
}

/**
 * The prefix of an org's finance exports, beside its scopes: the latest request per month (`FEXP#<YYYY-MM>`) and per
 * closed period (`FEXP#period#<periodStart>`, after every month in sort order).
 */
const FINANCE_EXPORT_PREFIX = 'FEXP#';

/** A month's or a period's finance export: its id, status and, once done, its manifest. */
export function financeExportKey(orgId: string, target: ExportTarget): ItemKey {
  const named = target.kind === 'month' ? target.month : `period#${target.periodStart}`;
  return { pk: `ORG#${orgId}`, sk: `${FINANCE_EXPORT_PREFIX}${named}` };
}

/** Every finance export of an org: months, oldest first, then periods, oldest first. */
export function financeExportsQuery(orgId: string): TableQuery {
  return orgItemsQuery(orgId, FINANCE_EXPORT_PREFIX);
}

/** The org partition's items under one sort-key prefix, in sort-key order. */
function orgItemsQuery(orgId: string, prefix: string): TableQuery {
  const pk = orgKey(orgId).pk;
  return {
    KeyConditionExpression: `${PARTITION_KEY} = :pk AND begins_with(${SORT_KEY}, :prefix)`,
    ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
    cursorAttributes: [PARTITION_KEY, SORT_KEY],
    cursorBelongs: (key) => key[PARTITION_KEY] === pk && (key[SORT_KEY] ?? '').startsWith(prefix),
  };
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

/** Keeps signed amounts (refunds are negative) non-negative and fixed-width in a sort key: MAX_CU is 10^12 milli. */
const AMOUNT_KEY_OFFSET = 10 ** 15;
const AMOUNT_KEY_DIGITS = 16;

/** Where an event sits in the by-day indexes: its day's partition, by signed amount and by user, ties by time then id. */
export function eventDayKeys(event: { orgId: string; createdAt: string; eventId: string; userId: string; amountMilli: number }): Record<string, string> {
  const tail = `${event.createdAt}#${event.eventId}`;
  return {
    [EVENT_DAY_KEY]: eventDayPartition(event.orgId, event.createdAt.slice(0, 10)),
    [AMOUNT_SORT_KEY]: `${amountKeyPart(event.amountMilli)}#${tail}`,
    [USER_SORT_KEY]: `${event.userId}#${tail}`,
  };
}

export function eventDayPartition(orgId: string, day: string): string {
  return `ORG#${orgId}#DAY#${day}`;
}

function amountKeyPart(amountMilli: number): string {
  return String(amountMilli + AMOUNT_KEY_OFFSET).padStart(AMOUNT_KEY_DIGITS, '0');
}

/** A rollup cell, in its org's partition of its month: day cells under `D#<day>#...`, hour cells `H#<day>#<hour>#...` (cellIdOf). */
export function usageCellKey(orgId: string, key: UsageCellKey): ItemKey {
  return { pk: usagePartition(orgId, key.day.slice(0, 7)), sk: cellIdOf(key) };
}

function usagePartition(orgId: string, month: string): string {
  return `ORG#${orgId}#USAGE#${month}`;
}

/** The day cells (or hour cells) of the days from `from` to `to` (ISO dates) of one month, in day order. */
export function usageCellsQuery(orgId: string, month: string, from: string, to: string, grain: 'day' | 'hour'): TableQuery {
  const pk = usagePartition(orgId, month);
  const prefix = grain === 'day' ? 'D#' : 'H#';
  return {
    KeyConditionExpression: `${PARTITION_KEY} = :pk AND ${SORT_KEY} BETWEEN :from AND :to`,
    ExpressionAttributeValues: { ':pk': pk, ':from': `${prefix}${from}`, ':to': `${prefix}${to}#\uffff` },
    cursorAttributes: [PARTITION_KEY, SORT_KEY],
    cursorBelongs: (key) => key[PARTITION_KEY] === pk,
  };
}

/** Says that one event was rolled up (beside the event, under its request id): a redelivered record adds nothing. */
export function rollupMarkerKey(orgId: string, requestId: string): ItemKey {
  return { pk: eventKey(orgId, requestId).pk, sk: 'ROLLUP' };
}

/** How long a rollup marker is kept: far beyond a stream's 24-hour retention, the longest a record can come again. */
export const ROLLUP_MARKER_TTL_DAYS = 7;

/** The latest friendly name recorded for each model of an org. */
export function modelNameKey(orgId: string, modelId: string): ItemKey {
  return { pk: modelNamesPartition(orgId), sk: `MODEL#${modelId}` };
}

function modelNamesPartition(orgId: string): string {
  return `ORG#${orgId}#MODELS`;
}

export function modelNamesQuery(orgId: string): TableQuery {
  const pk = modelNamesPartition(orgId);
  return {
    KeyConditionExpression: `${PARTITION_KEY} = :pk`,
    ExpressionAttributeValues: { ':pk': pk },
    cursorAttributes: [PARTITION_KEY, SORT_KEY],
    cursorBelongs: (key) => key[PARTITION_KEY] === pk,
  };
}

/** The attribute that counts a scope's usage in one billing period (by its id, the first instant): a new period starts at zero by itself. */
export function usageAttribute(periodId: string): string {
  return `${USAGE_PREFIX}${periodId}`;
}

export const USAGE_PREFIX = 'used@';
/** A top-up batch on the org item: its terms (a map), and its usage as a top-level number (ADD and conditions need one). */
export const TOP_UP_PREFIX = 'topUp@';
export const TOP_UP_USED_PREFIX = 'topUpUsed@';
/** Auto-refills per period on the org item. */
export const REFILLS_PREFIX = 'refills@';

export function topUpAttribute(purchaseId: string): string {
  return `${TOP_UP_PREFIX}${purchaseId}`;
}

export function topUpUsedAttribute(purchaseId: string): string {
  return `${TOP_UP_USED_PREFIX}${purchaseId}`;
}

export function refillsAttribute(periodId: string): string {
  return `${REFILLS_PREFIX}${periodId}`;
}

/**
 * An activity entry (plan change, reset, top-up, expiry, an admin's change, a platform action) under a key that makes
 * it happen once: `TOPUP#<purchaseId>`, `EXPIRED#<purchaseId>`, `RESET#<periodId>`, `PLAN#<instant>#<entryId>`,
 * `CHANGE#<instant>#<entryId>`, `ACTION#<eventId>`, an analytics key's `AKEY#<keyId>#CREATED`, `#ROTATED#<instant>`,
 * `#REVOKED` and `#AUTHFAIL#<minute>`.
 */
export function activityKey(orgId: string, entryKey: string): ItemKey {
  return { pk: `ORG#${orgId}#ACT#${entryKey}`, sk: 'ACTIVITY' };
}

export type { DueKind };

/**
 * Something a job must do at `dueAt` for one org (a period's reset, a batch's expiry), filed under its kind in due
 * order, so a job finds everything due with one Query, never a Scan, however long it was stopped. Written in the
 * same transaction as the fact that makes it due; deleted by the job that handled it. One partition per kind takes
 * one write per org per period or batch: far below a partition's limit.
 */
export function dueKey(kind: DueKind, dueAt: string, orgId: string, ref: string): ItemKey {
  return { pk: duePartition(kind), sk: `${dueAt}#${orgId}#${ref}` };
}

function duePartition(kind: DueKind): string {
  return `DUE#${kind}`;
}

/** What is due of one kind up to and including the instant `upTo`, soonest first. */
export function dueQuery(kind: DueKind, upTo: string): TableQuery {
  const pk = duePartition(kind);
  return {
    KeyConditionExpression: `${PARTITION_KEY} = :pk AND ${SORT_KEY} <= :upTo`,
    ExpressionAttributeValues: { ':pk': pk, ':upTo': `${upTo}#\uffff` },
    cursorAttributes: [PARTITION_KEY, SORT_KEY],
    cursorBelongs: (key) => key[PARTITION_KEY] === pk,
  };
}

/** One string per key, for matching items read back (a batch answer) to the keys asked for. */
export function keyIdentity(key: ItemKey | Readonly<Record<string, unknown>>): string {
  const attributes = key as Readonly<Record<string, unknown>>;
  return `${String(attributes[PARTITION_KEY])}\u0000${String(attributes[SORT_KEY])}`;
}

/** An item without its table keys (primary and event-log index): the entity's own attributes. */
export function withoutKeys(item: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const {
    [PARTITION_KEY]: _pk,
    [SORT_KEY]: _sk,
    [EVENT_LOG_PARTITION_KEY]: _logPk,
    [EVENT_LOG_SORT_KEY]: _logSk,
    [EVENT_DAY_KEY]: _dayPk,
    [AMOUNT_SORT_KEY]: _amountSk,
    [USER_SORT_KEY]: _userSk,
    ...rest
  } = item;
  return rest;
}

/** A query and the key attributes a page cursor of it must hold, and where such a cursor may point. */
export interface TableQuery {
  readonly IndexName?: string;
  readonly KeyConditionExpression: string;
  /** Applied after the key condition: items it drops are still read (and paid for). */
  readonly FilterExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues: Record<string, unknown>;
  /** The attributes of this query's LastEvaluatedKey. */
  readonly cursorAttributes: readonly string[];
  /** Whether a cursor's key stays inside this query's partition (and range). */
  readonly cursorBelongs: (key: Readonly<Record<string, string>>) => boolean;
  /** What else a cursor of this query is bound to (its filters): a cursor made for other filters is refused. */
  readonly cursorBinding?: string;
}

/** Every project, member or API key of one kind in an org, in id order. */
export function scopesQuery(orgId: string, kind: ScopeKind): TableQuery {
  return orgItemsQuery(orgId, SCOPE_PREFIX[kind]);
}

/** The org's activity log (the event-log index), in time order; with `upTo`, only entries made at or before it. */
export function eventLogQuery(orgId: string, upTo?: string): TableQuery {
  const partition = eventLogPartition(orgId);
  return {
    IndexName: EVENT_LOG_INDEX,
    KeyConditionExpression: upTo === undefined ? `${EVENT_LOG_PARTITION_KEY} = :log` : `${EVENT_LOG_PARTITION_KEY} = :log AND ${EVENT_LOG_SORT_KEY} <= :upTo`,
    ExpressionAttributeValues: upTo === undefined ? { ':log': partition } : { ':log': partition, ':upTo': `${upTo}#\uffff` },
    cursorAttributes: [PARTITION_KEY, SORT_KEY, EVENT_LOG_PARTITION_KEY, EVENT_LOG_SORT_KEY],
    cursorBelongs: (key) => key[EVENT_LOG_PARTITION_KEY] === partition,
  };
}

/**
 * What the activity feed filters log lines on, besides their time: the project a line concerns and the person (or API
 * key) it is about. Events carry both as their own fields; an activity entry gets them here from what it concerns.
 * Left out when null: a line of no project is in no project's feed.
 */
export function feedAttributes(concerns: LogConcerns): Record<string, string> {
  return { ...(concerns.projectId === null ? {} : { projectId: concerns.projectId }), ...(concerns.userId === null ? {} : { userId: concerns.userId }) };
}

/** DynamoDB's IN takes at most 100 values: longer lists are ORed in parts. */
const IN_LIMIT = 100;

/** `path IN (...)` over every value, placeholders `:<prefix><n>` (kept short: an expression may hold at most 4 KB). */
function isAnyOf(path: string, prefix: string, values: readonly string[], placeholders: Record<string, unknown>): string {
  const parts: string[] = [];
  for (let start = 0; start < values.length; start += IN_LIMIT) {
    const names = values.slice(start, start + IN_LIMIT).map((value, index) => {
      placeholders[`:${prefix}${start + index}`] = value;
      return `:${prefix}${start + index}`;
    });
    parts.push(`${path} IN (${names.join(',')})`);
  }
  return parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
}

/**
 * The activity feed: the org's log between two instants (a key condition on the log index, never a Scan), newest
 * first when asked; filtered on the project and the person each line concerns, or the person who acted (the acting
 * user an admin write names). The filter is applied after the read: every line of the range is read (and paid for),
 * only the selected ones come back. Its cursors are bound to the selection.
 */
export function activityFeedQuery(selection: ActivitySelection): TableQuery {
  const partition = eventLogPartition(selection.orgId);
  const [from, to] = [selection.from, `${selection.to}#\uffff`];
  const values: Record<string, unknown> = { ':log': partition, ':from': from, ':to': to };
  const names: Record<string, string> = {};
  const filters: string[] = [];
  if (selection.projects !== 'all') {
    names['#project'] = 'projectId';
    filters.push(isAnyOf('#project', 'p', selection.projects, values));
  }
  if (selection.users !== null) {
    Object.assign(names, { '#user': 'userId', '#actor': 'actor', '#acting': 'actingUserId' });
    filters.push(`(${isAnyOf('#user', 'u', selection.users, values)} OR ${isAnyOf('#actor.#acting', 'u', selection.users, {})})`);
  }
  return {
    IndexName: EVENT_LOG_INDEX,
    KeyConditionExpression: `${EVENT_LOG_PARTITION_KEY} = :log AND ${EVENT_LOG_SORT_KEY} BETWEEN :from AND :to`,
    ...(filters.length ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names } : {}),
    ExpressionAttributeValues: values,
    cursorAttributes: [PARTITION_KEY, SORT_KEY, EVENT_LOG_PARTITION_KEY, EVENT_LOG_SORT_KEY],
    // DynamoDB refuses a start key outside the key condition: such a cursor is refused here first.
    cursorBelongs: (key) => key[EVENT_LOG_PARTITION_KEY] === partition && (key[EVENT_LOG_SORT_KEY] ?? '') >= from && (key[EVENT_LOG_SORT_KEY] ?? '') <= to,
    cursorBinding: requestFingerprint('activity_feed', { from: selection.from, to: selection.to, projects: selection.projects, users: selection.users }),
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
  /** The scope's own cap is the one evaluated, and its usage has room. */
  capUnchangedAndUsageFits: `#capMilli = :cap AND ${USAGE_FITS}`,
  /** The scope still has no cap of its own, and its usage has room under the limit that applies (the default). */
  noOwnCapAndUsageFits: `attribute_not_exists(#capMilli) AND ${USAGE_FITS}`,
  /** The scope still has no cap of its own, and no limit applies to it. */
  noOwnCap: 'attribute_not_exists(#capMilli)',
  /** The original is a consume and was never refunded: the refund was planned on nothing refunded. */
  firstRefund: '#kind = :consume AND (attribute_not_exists(#refundedMilli) OR #refundedMilli = :zero)',
  /** The original is a consume and its refunded total is the one the refund was planned on. */
  refundFollows: '#kind = :consume AND #refundedMilli = :refundedBefore',
  /** The counter of the original's period is still kept (the rollover prunes old ones): a refund may move it. */
  counterKept: 'attribute_exists(#used)',
  /** A listing older than the change being listed, or none yet: a late write never takes a listing back. */
  listingIsOlder: 'attribute_not_exists(#pk) OR #version < :version',
  /** The key is listed, and its lastUsedAt is older than a minute (or unset): one write a minute, not one a call. */
  lastUseIsStale: 'attribute_exists(#pk) AND (attribute_not_exists(#lastUsedAt) OR #lastUsedAt < :staleBefore)',
  /** An org's plan-change state is the version the change was planned on. */
  orgUnchanged: '#configVersion = :configVersion',
  /** A scope no admin has changed yet (a consume registered it), as its change was planned on. */
  settingsUnset: 'attribute_exists(#pk) AND attribute_not_exists(#settingsVersion)',
  /** A scope's settings are the version its change was planned on. */
  settingsAsSeen: '#settingsVersion = :settingsVersion',
  /** The batch is still on the org, exactly as used as when its expiry was planned. */
  batchUnchanged: 'attribute_exists(#batch) AND #batchUsed = :batchUsed',
  /** The org is there, and the period has no refill yet, as the crossing saw. */
  firstRefillOfPeriod: 'attribute_exists(#pk) AND attribute_not_exists(#refills)',
  /** The org is there, and its refills of the period are as many as the crossing saw. */
  refillsAsSeen: 'attribute_exists(#pk) AND #refills = :refillsSeen',
  /** The finance export is still the request being finished (a newer one for the month replaces it). */
  sameExportRequest: '#exportId = :exportId',
} as const;

export type ConditionName = keyof typeof CONDITIONS;

/** The attribute names a condition refers to, besides the ones its caller supplies (`#used`). */
export const CONDITION_NAMES: Record<ConditionName, Record<string, string>> = {
  itemIsNew: { '#pk': PARTITION_KEY },
  itemExists: { '#pk': PARTITION_KEY },
  capUnchangedAndUsageFits: { '#capMilli': 'capMilli' },
  noOwnCapAndUsageFits: { '#capMilli': 'capMilli' },
  noOwnCap: { '#capMilli': 'capMilli' },
  firstRefund: { '#kind': 'kind', '#refundedMilli': 'refundedMilli' },
  refundFollows: { '#kind': 'kind', '#refundedMilli': 'refundedMilli' },
  counterKept: {},
  listingIsOlder: { '#pk': PARTITION_KEY, '#version': 'version' },
  lastUseIsStale: { '#pk': PARTITION_KEY, '#lastUsedAt': 'lastUsedAt' },
  orgUnchanged: { '#configVersion': 'configVersion' },
  settingsUnset: { '#pk': PARTITION_KEY, '#settingsVersion': 'settingsVersion' },
  settingsAsSeen: { '#settingsVersion': 'settingsVersion' },
  batchUnchanged: {},
  firstRefillOfPeriod: { '#pk': PARTITION_KEY },
  refillsAsSeen: { '#pk': PARTITION_KEY },
  sameExportRequest: { '#exportId': 'exportId' },
};

/** A condition whose number of clauses varies: one clause per pool source a charge or refund touches. */
export interface ComposedCondition {
  readonly composed: 'orgUnchangedAndDrawsHold' | 'returnedSourcesLive' | 'capHoldsAndKeyInProject';
  readonly expression: string;
  readonly names: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, unknown>>;
}

/** A pool source as the org item holds it: the usage attribute, and for a batch its terms attribute. */
export interface SourceAttributes {
  readonly used: string;
  readonly batch?: string;
}

/**
 * The consume's org leg: the config version it was evaluated on, and each drawn source's usage within the bounds
 * its draw assumed (exactly so for a source the charge empties; at most so for the last one drawn). A batch must
 * still be on the org.
 */
export function drawsHold(configVersion: number, draws: readonly { source: SourceAttributes; usedBefore: { min: number | null; max: number } }[]): ComposedCondition {
  const names: Record<string, string> = { '#configVersion': 'configVersion' };
  const values: Record<string, unknown> = { ':configVersion': configVersion };
  const clauses = ['#configVersion = :configVersion'];
  draws.forEach(({ source, usedBefore }, index) => {
    const used = `#s${index}used`;
    names[used] = source.used;
    values[`:s${index}`] = usedBefore.max;
    const exact = usedBefore.min !== null;
    const bound = exact ? `${used} = :s${index}` : `${used} <= :s${index}`;
    // A fresh period's allowance has no counter yet: it counts as 0.
    const absentIsZero = !source.batch && (!exact || usedBefore.max === 0);
    clauses.push(absentIsZero ? `(attribute_not_exists(${used}) OR ${bound})` : bound);
    if (source.batch) {
      names[`#s${index}batch`] = source.batch;
      clauses.push(`attribute_exists(#s${index}batch)`);
    }
  });
  return { composed: 'orgUnchangedAndDrawsHold', expression: clauses.join(' AND '), names, values };
}

/**
 * An API key's counter in a consume: its cap condition, and the key still belongs to the project charged, or to none
 * yet (a key seen first here; the charge registers it there). A warm process's cached record, or another consume
 * registering the key first, cannot let a charge land in another project. `:projectId` is the value the charge's
 * own `if_not_exists` registration writes.
 */
export function keyInProject(cap: { name: ConditionName; names?: Readonly<Record<string, string>>; values?: Readonly<Record<string, unknown>> }, projectId: string): ComposedCondition {
  return {
    composed: 'capHoldsAndKeyInProject',
    expression: `${CONDITIONS[cap.name]} AND (attribute_not_exists(#projectId) OR #projectId = :projectId)`,
    names: { ...CONDITION_NAMES[cap.name], ...cap.names, '#projectId': 'projectId' },
    values: { ...cap.values, ':projectId': projectId },
  };
}

/**
 * The refund's org leg: every source it gives back to is still there (the allowance's counter kept, the batch not
 * dropped) and, for a batch, not expired at `now`.
 */
export function returnedSourcesLive(sources: readonly SourceAttributes[], now: string): ComposedCondition {
  const names: Record<string, string> = {};
  const clauses: string[] = [];
  sources.forEach((source, index) => {
    names[`#r${index}used`] = source.used;
    clauses.push(`attribute_exists(#r${index}used)`);
    if (source.batch) {
      names[`#r${index}batch`] = source.batch;
      names['#expiresAt'] = 'expiresAt';
      clauses.push(`#r${index}batch.#expiresAt > :now`);
    }
  });
  const values = sources.some((source) => source.batch) ? { ':now': now } : {};
  return { composed: 'returnedSourcesLive', expression: clauses.length ? clauses.join(' AND ') : 'attribute_exists(#pk)', names: clauses.length ? names : { '#pk': PARTITION_KEY }, values };
}
