// Items to records and back. What comes out of the table is validated against the shape this service writes
// (zod/mini), so a malformed item fails loudly here instead of travelling on as a wrongly typed record.

import * as z from 'zod/mini';
import { MEMBER_ROLES, DEFAULT_MEMBER_ROLE } from '../../domain/permissions';
import { isCounterName, type MeterEventRecord, type OrgRecord, type PeriodUsage, type ScopeKind, type ScopeRecord } from '../../ports/ledger-records';
import { USAGE_PREFIX, eventLogKey, withoutKeys } from './ledger-table';

type Item = Record<string, unknown>;

const text = z.string();
const count = z.number();

const orgItem = z.object({
  orgId: text,
  name: z.optional(text),
  planName: text,
  allowanceMilli: count,
  billingAnchor: text,
  defaultCapMilli: z.optional(count),
  highCostMilli: z.optional(count),
  configVersion: count,
  createdAt: text,
  updatedAt: text,
});

const scopeItem = z.object({
  capMilli: z.optional(count),
  name: z.optional(text),
  role: z.optional(z.enum(MEMBER_ROLES)),
  adminOfProjectIds: z.optional(z.array(text)),
  projectId: z.optional(text),
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
  periodStart: text,
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
  poolCategory: z.enum(['allowance', 'top_up', 'mixed']),
  counters: z.array(z.string().check(z.refine(isCounterName, 'must be a counter name'))),
  fingerprint: text,
  attemptId: text,
  availableAfterMilli: z.optional(z.nullable(count)),
  refundedMilli: z.optional(count),
  refundOf: z.optional(text),
});

/** Parses an item read back from the table; a shape this service never writes is a fault, not a record. */
function parseItem<T extends z.ZodMiniType>(schema: T, item: Item, entity: string): z.output<T> {
  const result = schema.safeParse(item);
  if (!result.success) throw new Error(`ledger table: malformed ${entity} item (${result.error.issues[0]?.path.join('.') ?? '?'})`);
  return result.data;
}

function usageOf(item: Item): PeriodUsage {
  const usage: Record<string, number> = {};
  for (const [attribute, value] of Object.entries(item)) {
    if (attribute.startsWith(USAGE_PREFIX)) usage[attribute.slice(USAGE_PREFIX.length)] = Number(value);
  }
  return usage;
}

/** undefined: no such org (no item, or only what a failed condition handed back for a missing item). */
export function toOrgRecord(item: Item | undefined): OrgRecord | undefined {
  if (!item || item.configVersion === undefined) return undefined;
  const org = parseItem(orgItem, item, 'org');
  return {
    ...org,
    name: org.name ?? null,
    defaultCapMilli: org.defaultCapMilli ?? null,
    highCostMilli: org.highCostMilli ?? null,
    usage: usageOf(item),
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
    createdAt: scope.createdAt ?? null,
    updatedAt: scope.updatedAt ?? null,
  };
}

export function toEventRecord(item: Item): MeterEventRecord {
  return parseItem(eventItem, withoutKeys(item), 'event');
}

/** The event's item (without its primary key): the record, its place in the activity log, and its entity. */
export function toEventItem(event: MeterEventRecord): Item {
  return { ...eventLogKey(event.orgId, event.createdAt, event.eventId), entity: 'event', ...event };
}

const listedScope = z.object({ scopeId: text });

/** A scope item found by a query: it names its own id. */
export function toListedScopeRecord(kind: ScopeKind, item: Item): ScopeRecord {
  return toScopeRecord(kind, parseItem(listedScope, item, kind).scopeId, item);
}
