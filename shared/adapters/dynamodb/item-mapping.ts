// Items to records and back. What comes out of the table is validated against the shape this service writes
// (zod/mini), so a malformed item fails loudly here instead of travelling on as a wrongly typed record.

import * as z from 'zod/mini';
import { MEMBER_ROLES, DEFAULT_MEMBER_ROLE } from '../../domain/permissions';
import type { TopUpBatch } from '../../domain/pool';
import { ACTIVITY_ACTOR_KINDS, SCOPE_CHANGE_KINDS, isCounterName, logConcerns, type ScopeChangeKind, type ActivityRecord, type LogEntry, type MeterEventRecord, type OrgRecord, type PeriodUsage, type ScopeKind, type ScopeRecord } from '../../ports/ledger-records';
import { signedAmount } from '../../domain/usage-events';
import { ASSET_KINDS, type CellDelta, type UsageCell, type UsageCellKey } from '../../domain/usage-rollup';
import { ACTIVITY_ENTITY, EVENT_ENTITY, REFILLS_PREFIX, TOP_UP_PREFIX, TOP_UP_USED_PREFIX, USAGE_PREFIX, eventDayKeys, eventLogKey, feedAttributes, withoutKeys } from './ledger-table';

type Item = Record<string, unknown>;

const text = z.string();
const count = z.number();

const plan = z.object({ planName: text, allowanceMilli: count });
const pendingPlan = z.extend(plan, { effectiveAt: text });
const termsSource = z.extend(plan, {
  billingAnchor: text,
  periodStartedAt: z.nullable(text),
  pendingPlan: z.nullable(pendingPlan),
  highCostMilli: z.nullable(count),
});

const orgItem = z.object({
  orgId: text,
  name: z.optional(text),
  planName: text,
  allowanceMilli: count,
  billingAnchor: text,
  periodStartedAt: z.optional(text),
  pendingPlan: z.optional(pendingPlan),
  defaultCapMilli: z.optional(count),
  highCostMilli: z.optional(count),
  configVersion: count,
  autoRefill: z.optional(
    z.object({ enabled: z.boolean(), thresholdMilli: count, amountMilli: count, expiresInDays: count, maxPerPeriod: count }),
  ),
  countersKeptFrom: z.optional(text),
  nextResetDue: z.optional(text),
  createdAt: text,
  updatedAt: text,
});

const topUpTerms = z.object({ source: z.enum(['purchase', 'auto_refill']), cuMilli: count, purchasedAt: text, expiresAt: text });

const sourceRef = z.union([z.object({ kind: z.literal('allowance') }), z.object({ kind: z.literal('top_up'), purchaseId: text })]);

const scopeItem = z.object({
  capMilli: z.optional(count),
  name: z.optional(text),
  role: z.optional(z.enum(MEMBER_ROLES)),
  adminOfProjectIds: z.optional(z.array(text)),
  projectId: z.optional(text),
  settingsVersion: z.optional(count),
  createdAt: z.optional(text),
  updatedAt: z.optional(text),
});

const eventItem = z.object({
  kind: z.enum(['consume', 'refund']),
  orgId: text,
  requestId: text,
  eventId: text,
  createdAt: text,
  periodId: text,
  projectId: text,
  userId: text,
  actorKind: z.enum(['member', 'api_key']),
  jobType: text,
  modelId: z.optional(text),
  modelName: z.optional(text),
  assetKind: z.optional(z.enum(['image', 'video', '3d', 'audio'])),
  assetCount: z.optional(count),
  resourceType: z.optional(text),
  ioType: z.optional(z.enum(['input', 'output'])),
  endpoint: z.optional(text),
  cuMilli: count,
  // `allowance`: a consume from before top-ups existed (all of it from the allowance, no draws recorded).
  poolCategory: z.enum(['allocated', 'surplus', 'hybrid', 'allowance']),
  draws: z.optional(z.array(z.object({ ref: sourceRef, milli: count }))),
  returns: z.optional(
    z.array(z.object({ ref: sourceRef, milli: count, restored: z.boolean(), reason: z.enum(['restored', 'period_ended', 'top_up_expired']) })),
  ),
  counters: z.array(z.string().check(z.refine(isCounterName, 'must be a counter name'))),
  fingerprint: text,
  attemptId: text,
  availableAfterMilli: z.optional(z.nullable(count)),
  refundedMilli: z.optional(count),
  refundOf: z.optional(text),
  refundsInFull: z.optional(z.boolean()),
});

/** Parses an item read back from the table; a shape this service never writes is a fault, not a record. */
function parseItem<T extends z.ZodMiniType>(schema: T, item: Item, entity: string): z.output<T> {
  const result = schema.safeParse(item);
  if (!result.success) throw new Error(`ledger table: malformed ${entity} item (${result.error.issues[0]?.path.join('.') ?? '?'})`);
  return result.data;
}

/** Numbers kept per key under one attribute prefix (usage per period, refills per period). */
function numbersUnder(item: Item, prefix: string): Record<string, number> {
  const numbers: Record<string, number> = {};
  for (const [attribute, value] of Object.entries(item)) {
    if (attribute.startsWith(prefix)) numbers[attribute.slice(prefix.length)] = Number(value);
  }
  return numbers;
}

function usageOf(item: Item): PeriodUsage {
  return numbersUnder(item, USAGE_PREFIX);
}

/** The batches on an org item, soonest expiry first: each one's terms and its usage. */
function topUpsOf(item: Item): TopUpBatch[] {
  const used = numbersUnder(item, TOP_UP_USED_PREFIX);
  const batches: TopUpBatch[] = [];
  for (const [attribute, value] of Object.entries(item)) {
    if (!attribute.startsWith(TOP_UP_PREFIX)) continue;
    const purchaseId = attribute.slice(TOP_UP_PREFIX.length);
    const terms = parseItem(topUpTerms, value as Item, 'top-up batch');
    batches.push({ purchaseId, ...terms, usedMilli: used[purchaseId] ?? 0 });
  }
  return batches.sort((a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.purchaseId.localeCompare(b.purchaseId));
}

/** undefined: no such org (no item, or only what a failed condition handed back for a missing item). */
export function toOrgRecord(item: Item | undefined): OrgRecord | undefined {
  if (!item || item.configVersion === undefined) return undefined;
  const org = parseItem(orgItem, item, 'org');
  return {
    ...org,
    name: org.name ?? null,
    periodStartedAt: org.periodStartedAt ?? null,
    pendingPlan: org.pendingPlan ?? null,
    defaultCapMilli: org.defaultCapMilli ?? null,
    highCostMilli: org.highCostMilli ?? null,
    autoRefill: org.autoRefill ?? null,
    countersKeptFrom: org.countersKeptFrom ?? null,
    nextResetDue: org.nextResetDue ?? null,
    usage: usageOf(item),
    topUps: topUpsOf(item),
    refills: numbersUnder(item, REFILLS_PREFIX),
  };
}

/** A scope with no item is the implicit default: never provisioned nor charged, no cap. */
export function toScopeRecord(kind: ScopeKind, id: string, item: Item | undefined): ScopeRecord {
  const scope = item ? parseItem(scopeItem, item, kind) : {};
  return {
    kind,
    id,
    exists: item !== undefined,
    capMilli: scope.capMilli ?? null,
    usage: item ? usageOf(item) : {},
    name: scope.name ?? null,
    role: scope.role ?? (kind === 'member' ? DEFAULT_MEMBER_ROLE : null),
    adminOfProjectIds: scope.adminOfProjectIds ?? [],
    projectId: scope.projectId ?? null,
    settingsVersion: scope.settingsVersion ?? 0,
    createdAt: scope.createdAt ?? null,
    updatedAt: scope.updatedAt ?? null,
  };
}

export function toEventRecord(item: Item): MeterEventRecord {
  const { entity: _entity, ...record } = withoutKeys(item);
  const { poolCategory, draws, ...event } = parseItem(eventItem, record, 'event');
  // Written before top-ups (no draws, category `allowance`): the whole charge came from its period's allowance.
  const allowanceOnly = event.kind === 'consume' ? [{ ref: { kind: 'allowance' as const }, milli: event.cuMilli }] : [];
  return { ...event, poolCategory: poolCategory === 'allowance' ? 'allocated' : poolCategory, draws: draws ?? allowanceOnly };
}

const settingChange = <T extends z.ZodMiniType>(value: T) => z.optional(z.object({ before: value, after: value }));
const settingChanges = z.object({
  name: settingChange(z.nullable(text)),
  capMilli: settingChange(z.nullable(count)),
  role: settingChange(z.nullable(z.enum(MEMBER_ROLES))),
  adminOfProjectIds: settingChange(z.array(text)),
  projectId: settingChange(z.nullable(text)),
});
const scopeChangeKinds = Object.values(SCOPE_CHANGE_KINDS).flatMap((kinds) => [kinds.created, kinds.changed]) as [ScopeChangeKind, ...ScopeChangeKind[]];

const activityBase = { orgId: text, entryId: text, createdAt: text, actor: z.object({ kind: z.enum(ACTIVITY_ACTOR_KINDS), id: text, actingUserId: z.optional(text) }) };
const termsChange = { before: termsSource, after: termsSource, configVersion: count };
const activityItem = z.discriminatedUnion('kind', [
  z.object({ ...activityBase, kind: z.literal('org_provisioned'), after: termsSource, configVersion: count }),
  z.object({ ...activityBase, ...termsChange, kind: z.literal('plan_upgraded'), plan, periodId: text, cancelledDowngrade: z.nullable(pendingPlan) }),
  z.object({ ...activityBase, ...termsChange, kind: z.literal('plan_downgrade_scheduled'), plan, effectiveAt: text }),
  z.object({ ...activityBase, ...termsChange, kind: z.literal('plan_downgrade_cancelled'), plan, cancelledDowngrade: pendingPlan }),
  z.object({ ...activityBase, kind: z.literal('period_reset'), periodId: text, previousPeriodId: text, plan, downgradeApplied: z.boolean() }),
  z.object({
    ...activityBase,
    kind: z.literal('top_up_purchased'),
    purchaseId: text,
    source: z.enum(['purchase', 'auto_refill']),
    cuMilli: count,
    expiresAt: text,
    fingerprint: text,
  }),
  z.object({ ...activityBase, kind: z.literal('top_up_expired'), purchaseId: text, cuMilli: count, unspentMilli: count, expiresAt: text }),
  z.object({ ...activityBase, kind: z.enum(scopeChangeKinds), scopeId: text, projectId: z.nullable(text), changes: settingChanges }),
  z.object({ ...activityBase, kind: z.enum(['default_limit_set', 'default_limit_removed']), capMilli: z.nullable(count), previousCapMilli: z.nullable(count), configVersion: count }),
  z.object({
    ...activityBase,
    kind: z.literal('platform_action'),
    action: text,
    eventId: text,
    userId: text,
    projectId: z.nullable(text),
    subject: z.nullable(text),
    fingerprint: text,
  }),
  z.object({ ...activityBase, kind: z.enum(['analytics_key_created', 'analytics_key_rotated', 'analytics_key_revoked']), keyId: text, name: text, graceEndsAt: z.nullable(text) }),
  z.object({ ...activityBase, kind: z.literal('analytics_key_auth_failed'), keyId: text, windowStart: text, failures: count }),
]);

export function toActivityRecord(item: Item): ActivityRecord {
  const { entity: _entity, ...record } = withoutKeys(item);
  return parseItem(activityItem, record, 'activity');
}

/**
 * The activity entry's item (without its primary key): the record, its place in the activity log, what the feed
 * filters it on, its entity. Reading it back keeps the record's own fields only.
 */
export function toActivityItem(entry: ActivityRecord): Item {
  return { ...eventLogKey(entry.orgId, entry.createdAt, entry.entryId), entity: ACTIVITY_ENTITY, ...feedAttributes(logConcerns(entry)), ...entry };
}

/** Any line of the activity log, told apart by its entity. */
export function toLogEntry(item: Item): LogEntry {
  return item.entity === ACTIVITY_ENTITY ? toActivityRecord(item) : toEventRecord(item);
}

/** The event's item (without its primary key): the record, its place in the activity log and the by-day indexes, its entity. */
export function toEventItem(event: MeterEventRecord): Item {
  return {
    ...eventLogKey(event.orgId, event.createdAt, event.eventId),
    ...eventDayKeys({ ...event, amountMilli: signedAmount(event) }),
    entity: EVENT_ENTITY,
    ...event,
  };
}

// Rollup cells: the dimensions, the totals, and per asset kind one number (top-level numbers, so that one UpdateItem
// ADDs an event to all of them).
const ASSETS_PREFIX = 'assets@';
const USAGE_ENTITY = 'usage';

const cellItem = z.object({ day: text, hour: z.optional(text), projectId: text, userId: text, jobType: text, modelId: z.optional(text), cuMilli: count, jobs: count });

/** The attribute names and numbers an event's delta adds to a cell. */
export function cellIncrements(delta: CellDelta): Record<string, number> {
  return { cuMilli: delta.cuMilli, jobs: delta.jobs, ...(delta.asset ? { [`${ASSETS_PREFIX}${delta.asset.kind}`]: delta.asset.count } : {}) };
}

/** The cell's own attributes, which every write of it sets (the same values each time). */
export function cellDimensions(key: UsageCellKey): Item {
  return {
    entity: USAGE_ENTITY,
    day: key.day,
    ...(key.hour === undefined ? {} : { hour: key.hour }),
    projectId: key.projectId,
    userId: key.userId,
    jobType: key.jobType,
    ...(key.modelId === null ? {} : { modelId: key.modelId }),
  };
}

/** A whole cell as one item (the bulk loader writes cells it summed in memory). */
export function toCellItem(cell: UsageCell): Item {
  const assets = Object.entries(cell.assets).map(([kind, total]) => [`${ASSETS_PREFIX}${kind}`, total]);
  return { ...cellDimensions(cell), cuMilli: cell.cuMilli, jobs: cell.jobs, ...Object.fromEntries(assets) };
}

export function toUsageCell(item: Item): UsageCell {
  const { hour, modelId, ...cell } = parseItem(cellItem, item, 'usage cell');
  const assets = Object.fromEntries(Object.entries(numbersUnder(item, ASSETS_PREFIX)).filter(([kind]) => (ASSET_KINDS as readonly string[]).includes(kind)));
  return { ...cell, ...(hour === undefined ? {} : { hour }), modelId: modelId ?? null, assets };
}

const listedScope = z.object({ scopeId: text });

/** A scope item found by a query: it names its own id. */
export function toListedScopeRecord(kind: ScopeKind, item: Item): ScopeRecord {
  return toScopeRecord(kind, parseItem(listedScope, item, kind).scopeId, item);
}
