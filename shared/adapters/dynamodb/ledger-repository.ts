// DynamoDB implementation of the ledger ports. Every consume is one TransactWriteItems; SDK exceptions are turned
// into port outcomes (duplicate, rejected) or a TransientStoreError the use cases retry.

import { TransactionCanceledException, type CancellationReason } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { invalidCursor } from '../../domain/errors';
import { DEFAULT_MEMBER_ROLE } from '../../domain/permissions';
import {
  parseCounter,
  TransientStoreError,
  type AdminStore,
  type ChargeCommand,
  type ChargeOutcome,
  type MemberRole,
  type MeterEventRecord,
  type MeterSnapshot,
  type MeterStore,
  type OrgRecord,
  type OrgSettings,
  type Page,
  type PeriodUsage,
  type RefundCommand,
  type RefundOutcome,
  type ScopeKind,
  type ScopeRecord,
  type ScopeRef,
  type ScopeSettings,
} from '../../ports/ledger-store';
import {
  EVENT_LOG_INDEX,
  USAGE_PREFIX,
  eventKey,
  eventLogKey,
  eventLogPartition,
  orgKey,
  scopeKey,
  scopeQuery,
  usageAttribute,
  type ItemKey,
} from './ledger-table';

type Item = Record<string, unknown>;

// Condition expressions, named. `#used` is the counter of the charge's period; `:max` the largest usage the counter
// may hold before the charge (limit minus amount): DynamoDB conditions have no arithmetic.
const EVENT_IS_NEW = 'attribute_not_exists(#pk)';
const USAGE_FITS = '(attribute_not_exists(#used) OR #used <= :max)';
const ORG_UNCHANGED_AND_POOL_FITS = `#configVersion = :configVersion AND ${USAGE_FITS}`;
const CAP_UNCHANGED_AND_USAGE_FITS = `#capMilli = :cap AND ${USAGE_FITS}`;
const NO_OWN_CAP_AND_USAGE_FITS = `attribute_not_exists(#capMilli) AND ${USAGE_FITS}`;
const NO_OWN_CAP = 'attribute_not_exists(#capMilli)';
const ITEM_EXISTS = 'attribute_exists(#pk)';
const REFUND_FITS = '#kind = :consume AND (attribute_not_exists(#refundedMilli) OR #refundedMilli <= :maxRefunded)';

const TRANSIENT_ERROR_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
  'TimeoutError',
]);
const TRANSIENT_REASON_CODES = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);
const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

export class DynamoDbLedgerRepository implements MeterStore, AdminStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Cancels this repository's calls in flight and refuses new ones: the request they serve was answered. */
    private readonly abortSignal?: AbortSignal,
  ) {}

  /** The same table and client, for one request: its calls end when `signal` aborts. */
  forRequest(signal: AbortSignal): DynamoDbLedgerRepository {
    return new DynamoDbLedgerRepository(this.db, this.tableName, signal);
  }

  async loadSnapshot(orgId: string, projectId: string, actor: ScopeRef, requestId: string | null): Promise<MeterSnapshot> {
    const keys = [orgKey(orgId), scopeKey(orgId, 'project', projectId), scopeKey(orgId, actor.kind, actor.id)];
    if (requestId !== null) keys.push(eventKey(orgId, requestId));
    const items = await this.batchGet(keys);
    const find = (key: ItemKey) => items.find((item) => item.pk === key.pk && item.sk === key.sk);
    const eventItem = requestId === null ? undefined : find(keys[3]!);
    return {
      org: toOrgRecord(find(keys[0]!)),
      project: toScopeRecord('project', projectId, find(keys[1]!)),
      actor: toScopeRecord(actor.kind, actor.id, find(keys[2]!)),
      existingEvent: eventItem ? toEventRecord(eventItem) : undefined,
    };
  }

  async getEvents(orgId: string, requestIds: readonly string[]): Promise<MeterEventRecord[]> {
    const items = await this.batchGet(requestIds.map((requestId) => eventKey(orgId, requestId)));
    return items.map(toEventRecord);
  }

  // Consume: the event (idempotency record), the team pool, the project and the actor, all or nothing.
  async commitCharge(command: ChargeCommand): Promise<ChargeOutcome> {
    const { event } = command;
    const used = usageAttribute(event.periodId);
    const amount = event.cuMilli;
    const actorKind = event.actorKind;
    const actorCondition = chargeCondition(command.expectedActorCapMilli, command.maxUsedBefore.actor);
    const projectCondition = chargeCondition(command.expectedProjectCapMilli, command.maxUsedBefore.project);
    const actorSets: Record<string, [string, unknown]> =
      actorKind === 'api_key'
        ? { '#projectId': ['projectId', command.apiKeyProjectId ?? event.projectId] }
        : { '#role': ['role', DEFAULT_MEMBER_ROLE] };
    try {
      await this.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: newEventPut(this.tableName, event) },
            {
              Update: {
                TableName: this.tableName,
                Key: orgKey(event.orgId),
                UpdateExpression: 'ADD #used :amount',
                ConditionExpression: ORG_UNCHANGED_AND_POOL_FITS,
                ExpressionAttributeNames: { '#used': used, '#configVersion': 'configVersion' },
                ExpressionAttributeValues: {
                  ':amount': amount,
                  ':configVersion': command.expectedConfigVersion,
                  ':max': command.maxUsedBefore.team,
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Update: counterUpdate(this.tableName, scopeKey(event.orgId, 'project', event.projectId), {
                used,
                amount,
                entity: 'project',
                scopeId: event.projectId,
                now: event.createdAt,
                sets: {},
                condition: projectCondition,
              }),
            },
            {
              Update: counterUpdate(this.tableName, scopeKey(event.orgId, actorKind, event.userId), {
                used,
                amount,
                entity: actorKind,
                scopeId: event.userId,
                now: event.createdAt,
                sets: actorSets,
                condition: actorCondition,
              }),
            },
          ],
        }),
      );
      return { status: 'charged' };
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons) throw translate(error);
      const [eventReason, orgReason, projectReason, actorReason] = reasons;
      if (failedCondition(eventReason)) return { status: 'duplicate', existing: toEventRecord(reasonItem(eventReason)!) };
      if (reasons.some((reason) => TRANSIENT_REASON_CODES.has(reason.Code ?? ''))) {
        throw new TransientStoreError('consume transaction conflicted', { cause: error });
      }
      if (![orgReason, projectReason, actorReason].some(failedCondition)) throw error;
      const orgItem = reasonItem(orgReason);
      return {
        status: 'rejected',
        orgMissing: failedCondition(orgReason) && orgItem === undefined,
        org: failedCondition(orgReason) ? toOrgRecord(orgItem) : undefined,
        project: failedCondition(projectReason) ? toScopeRecord('project', event.projectId, reasonItem(projectReason)) : undefined,
        actor: failedCondition(actorReason) ? toScopeRecord(actorKind, event.userId, reasonItem(actorReason)) : undefined,
      };
    }
  }

  // Refund: the refund event, the original's refunded total, and every counter the original moved, all or nothing.
  async commitRefund(command: RefundCommand): Promise<RefundOutcome> {
    const { event, original } = command;
    const used = usageAttribute(original.periodId);
    try {
      await this.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: newEventPut(this.tableName, event) },
            {
              Update: {
                TableName: this.tableName,
                Key: eventKey(original.orgId, original.requestId),
                UpdateExpression: 'ADD #refundedMilli :amount',
                ConditionExpression: REFUND_FITS,
                ExpressionAttributeNames: { '#kind': 'kind', '#refundedMilli': 'refundedMilli' },
                ExpressionAttributeValues: { ':amount': event.cuMilli, ':consume': 'consume', ':maxRefunded': command.maxRefundedBefore },
              },
            },
            ...original.counters.map((counter) => ({
              Update: {
                TableName: this.tableName,
                Key: counterKey(original.orgId, counter),
                UpdateExpression: 'ADD #used :amount',
                ConditionExpression: ITEM_EXISTS,
                ExpressionAttributeNames: { '#used': used, '#pk': 'pk' },
                ExpressionAttributeValues: { ':amount': -event.cuMilli },
              },
            })),
          ],
        }),
      );
      return { status: 'refunded' };
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons) throw translate(error);
      if (failedCondition(reasons[0])) return { status: 'duplicate', existing: toEventRecord(reasonItem(reasons[0])!) };
      if (reasons.some((reason) => TRANSIENT_REASON_CODES.has(reason.Code ?? ''))) {
        throw new TransientStoreError('refund transaction conflicted', { cause: error });
      }
      if (reasons.some(failedCondition)) return { status: 'rejected' };
      throw error;
    }
  }

  async getOrg(orgId: string): Promise<OrgRecord | undefined> {
    const result = await this.call(() => this.send(new GetCommand({ TableName: this.tableName, Key: orgKey(orgId), ConsistentRead: true })));
    return toOrgRecord(result.Item);
  }

  async putOrg(settings: OrgSettings, now: string): Promise<OrgRecord> {
    const update = new ExpressionBuilder()
      .set('entity', 'org')
      .set('orgId', settings.orgId)
      .set('planName', settings.planName)
      .set('allowanceMilli', settings.allowanceMilli)
      .set('billingAnchor', settings.billingAnchor)
      .set('updatedAt', now)
      .setIfNotExists('createdAt', now)
      .add('configVersion', 1);
    if (settings.name !== undefined) update.set('name', settings.name);
    if (settings.highCostMilli === null) update.remove('highCostMilli');
    else if (settings.highCostMilli !== undefined) update.set('highCostMilli', settings.highCostMilli);
    const result = await this.call(() =>
      this.send(new UpdateCommand({ TableName: this.tableName, Key: orgKey(settings.orgId), ...update.build(), ReturnValues: 'ALL_NEW' })),
    );
    return toOrgRecord(result.Attributes)!;
  }

  async setDefaultLimit(orgId: string, capMilli: number | null, now: string): Promise<OrgRecord | undefined> {
    const update = new ExpressionBuilder().set('updatedAt', now).add('configVersion', 1);
    if (capMilli === null) update.remove('defaultCapMilli');
    else update.set('defaultCapMilli', capMilli);
    try {
      const result = await this.call(() =>
        this.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: orgKey(orgId),
            ...update.build(),
            ConditionExpression: 'attribute_exists(pk)',
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return toOrgRecord(result.Attributes);
    } catch (error) {
      if (isConditionalCheckFailure(error)) return undefined;
      throw error;
    }
  }

  async putScope(orgId: string, scope: ScopeRef, settings: ScopeSettings, now: string): Promise<ScopeRecord | undefined> {
    const update = new ExpressionBuilder()
      .set('entity', scope.kind)
      .set('scopeId', scope.id)
      .set('updatedAt', now)
      .setIfNotExists('createdAt', now);
    if (settings.name !== undefined) update.set('name', settings.name);
    if (settings.role !== undefined) update.set('role', settings.role);
    else if (scope.kind === 'member') update.setIfNotExists('role', DEFAULT_MEMBER_ROLE);
    if (settings.adminOfProjectIds !== undefined) update.set('adminOfProjectIds', [...settings.adminOfProjectIds]);
    if (settings.projectId !== undefined) update.set('projectId', settings.projectId);
    if (settings.capMilli === null) update.remove('capMilli');
    else if (settings.capMilli !== undefined) update.set('capMilli', settings.capMilli);
    const key = scopeKey(orgId, scope.kind, scope.id);
    try {
      await this.call(() =>
        this.send(
          new TransactWriteCommand({
            TransactItems: [
              { ConditionCheck: { TableName: this.tableName, Key: orgKey(orgId), ConditionExpression: 'attribute_exists(pk)' } },
              { Update: { TableName: this.tableName, Key: key, ...update.build() } },
            ],
          }),
        ),
      );
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons && failedCondition(reasons[0])) return undefined;
      throw translate(error);
    }
    const result = await this.call(() => this.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })));
    return toScopeRecord(scope.kind, scope.id, result.Item);
  }

  async listScopes(orgId: string, kind: ScopeKind, limit: number, cursor: string | null): Promise<Page<ScopeRecord>> {
    const { pk, skPrefix } = scopeQuery(orgId, kind);
    const result = await this.call(() =>
      this.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix },
          ConsistentRead: true,
          Limit: limit,
          ExclusiveStartKey: decodeCursor(cursor, (key) => key.pk === pk && (key.sk ?? '').startsWith(skPrefix), ['pk', 'sk']),
        }),
      ),
    );
    const items = (result.Items ?? []).map((item) => toScopeRecord(kind, String(item.scopeId), item));
    return { items, nextCursor: encodeCursor(result.LastEvaluatedKey) };
  }

  async listEvents(orgId: string, limit: number, cursor: string | null): Promise<Page<MeterEventRecord>> {
    const result = await this.call(() =>
      this.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: EVENT_LOG_INDEX,
          KeyConditionExpression: 'gsi1pk = :log',
          ExpressionAttributeValues: { ':log': eventLogPartition(orgId) },
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: decodeCursor(cursor, (key) => key.gsi1pk === eventLogPartition(orgId), ['pk', 'sk', 'gsi1pk', 'gsi1sk']),
        }),
      ),
    );
    return { items: (result.Items ?? []).map(toEventRecord), nextCursor: encodeCursor(result.LastEvaluatedKey) };
  }

  private async batchGet(keys: readonly ItemKey[]): Promise<Item[]> {
    const found: Item[] = [];
    // BatchGetItem refuses a list with the same key twice (a refund whose requestId is its own refundOf).
    const unique = [...new Map(keys.map((key) => [`${key.pk}\u0000${key.sk}`, key])).values()];
    let pending: Record<string, unknown>[] = unique.map((key) => ({ ...key }));
    // BatchGetItem may hand keys back unprocessed under load; ask again for those only.
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(200, 10 * 2 ** round)));
      if (round > 8) throw new TransientStoreError('BatchGetItem left keys unprocessed');
      const result = await this.call(() =>
        this.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } })),
      );
      found.push(...((result.Responses?.[this.tableName] ?? []) as Item[]));
      pending = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
    }
    return found;
  }

  /** Every call of this repository goes through here, so the request's abort signal reaches each one. */
  private send: DynamoDBDocumentClient['send'] = (command: never) => this.db.send(command, { abortSignal: this.abortSignal });

  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw translate(error);
    }
  }
}

interface CounterUpdate {
  readonly used: string;
  readonly amount: number;
  readonly entity: ScopeKind;
  readonly scopeId: string;
  readonly now: string;
  /** Attributes set only when the item is new (implicit registration): placeholder -> [attribute, value]. */
  readonly sets: Record<string, [string, unknown]>;
  readonly condition: { expression: string; values: Record<string, unknown> };
}

// A project or actor counter: charge it, and register the scope implicitly if this is its first charge.
function counterUpdate(tableName: string, key: ItemKey, update: CounterUpdate) {
  const names: Record<string, string> = { '#used': update.used, '#capMilli': 'capMilli', '#entity': 'entity', '#scopeId': 'scopeId', '#createdAt': 'createdAt' };
  const values: Record<string, unknown> = { ':amount': update.amount, ':entity': update.entity, ':scopeId': update.scopeId, ':now': update.now };
  const sets = ['#entity = :entity', '#scopeId = :scopeId', '#createdAt = if_not_exists(#createdAt, :now)'];
  for (const [placeholder, [attribute, value]] of Object.entries(update.sets)) {
    names[placeholder] = attribute;
    values[`:${attribute}`] = value;
    sets.push(`${placeholder} = if_not_exists(${placeholder}, :${attribute})`);
  }
  return {
    TableName: tableName,
    Key: key,
    UpdateExpression: `ADD #used :amount SET ${sets.join(', ')}`,
    ConditionExpression: update.condition.expression,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ...values, ...update.condition.values },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

/** The condition a project or actor counter must meet: its cap is still the one we evaluated, and the charge fits. */
function chargeCondition(expectedCapMilli: number | null, maxUsedBefore: number | null) {
  if (expectedCapMilli !== null) {
    return { expression: CAP_UNCHANGED_AND_USAGE_FITS, values: { ':cap': expectedCapMilli, ':max': maxUsedBefore } };
  }
  if (maxUsedBefore !== null) return { expression: NO_OWN_CAP_AND_USAGE_FITS, values: { ':max': maxUsedBefore } };
  return { expression: NO_OWN_CAP, values: {} };
}

function counterKey(orgId: string, name: string): ItemKey {
  const counter = parseCounter(name);
  return counter.kind === 'team' ? orgKey(orgId) : scopeKey(orgId, counter.kind, counter.id);
}

/** The event under its request id, written only if that id is new: the idempotency check of both transactions. */
function newEventPut(tableName: string, event: MeterEventRecord) {
  return {
    TableName: tableName,
    Item: eventItem(event),
    ConditionExpression: EVENT_IS_NEW,
    ExpressionAttributeNames: { '#pk': 'pk' },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

function eventItem(event: MeterEventRecord): Item {
  return { ...eventKey(event.orgId, event.requestId), ...eventLogKey(event.orgId, event.createdAt, event.eventId), entity: 'event', ...event };
}

function usageOf(item: Item): PeriodUsage {
  const usage: Record<string, number> = {};
  for (const [attribute, value] of Object.entries(item)) {
    if (attribute.startsWith(USAGE_PREFIX)) usage[attribute.slice(USAGE_PREFIX.length)] = Number(value);
  }
  return usage;
}

function optionalNumber(value: unknown): number | null {
  return value === undefined || value === null ? null : Number(value);
}

function optionalString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function toOrgRecord(item: Item | undefined): OrgRecord | undefined {
  if (!item || item.configVersion === undefined) return undefined;
  return {
    orgId: String(item.orgId),
    name: optionalString(item.name),
    planName: String(item.planName),
    allowanceMilli: Number(item.allowanceMilli),
    billingAnchor: String(item.billingAnchor),
    defaultCapMilli: optionalNumber(item.defaultCapMilli),
    highCostMilli: optionalNumber(item.highCostMilli),
    configVersion: Number(item.configVersion),
    usage: usageOf(item),
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
  };
}

function toScopeRecord(kind: ScopeKind, id: string, item: Item | undefined): ScopeRecord {
  return {
    kind,
    id,
    exists: item !== undefined,
    capMilli: optionalNumber(item?.capMilli),
    usage: item ? usageOf(item) : {},
    name: optionalString(item?.name),
    role: (optionalString(item?.role) as MemberRole | null) ?? (kind === 'member' ? DEFAULT_MEMBER_ROLE : null),
    adminOfProjectIds: Array.isArray(item?.adminOfProjectIds) ? (item.adminOfProjectIds as string[]) : [],
    projectId: optionalString(item?.projectId),
    createdAt: optionalString(item?.createdAt),
    updatedAt: optionalString(item?.updatedAt),
  };
}

function toEventRecord(item: Item): MeterEventRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _gsi1pk, gsi1sk: _gsi1sk, entity: _entity, ...event } = item;
  return event as unknown as MeterEventRecord;
}

function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if (error instanceof TransactionCanceledException || (error as Error | undefined)?.name === 'TransactionCanceledException') {
    return (error as TransactionCanceledException).CancellationReasons ?? [];
  }
  return undefined;
}

function failedCondition(reason: CancellationReason | undefined): boolean {
  return reason?.Code === 'ConditionalCheckFailed';
}

function reasonItem(reason: CancellationReason | undefined): Item | undefined {
  return reason?.Item ? (unmarshall(reason.Item) as Item) : undefined;
}

function isConditionalCheckFailure(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

/** Transport faults, throttling and conflicts become a TransientStoreError; everything else passes unchanged. */
function translate(error: unknown): unknown {
  if (error instanceof TransientStoreError) return error;
  const candidate = error as { name?: string; code?: string; $retryable?: unknown; cause?: { code?: string } } | undefined;
  const reasons = cancellationReasons(error);
  if (
    TRANSIENT_ERROR_NAMES.has(candidate?.name ?? '') ||
    TRANSIENT_NETWORK_CODES.has(candidate?.code ?? candidate?.cause?.code ?? '') ||
    (reasons?.some((reason) => TRANSIENT_REASON_CODES.has(reason.Code ?? '')) ?? false)
  ) {
    return new TransientStoreError(`DynamoDB: ${candidate?.name ?? 'error'}`, { cause: error });
  }
  return error;
}

function encodeCursor(key: Record<string, unknown> | undefined): string | null {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : null;
}

/**
 * A cursor is the LastEvaluatedKey of the same query, base64url JSON. It must hold exactly that query's key
 * attributes and stay inside the org's partition: a cursor from another org, or a made-up one, is refused.
 */
/** A string DynamoDB accepts as a key value: not empty, at most 1,024 bytes (the sort-key limit). */
function isKeyValue(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && Buffer.byteLength(value, 'utf8') <= 1024;
}

function decodeCursor(cursor: string | null, belongsHere: (key: Record<string, string>) => boolean, attributes: readonly string[]): Record<string, unknown> | undefined {
  if (cursor === null) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const valid =
    typeof key === 'object' &&
    key !== null &&
    !Array.isArray(key) &&
    Object.keys(key).length === attributes.length &&
    attributes.every((attribute) => isKeyValue((key as Record<string, unknown>)[attribute])) &&
    belongsHere(key as Record<string, string>);
  if (!valid) throw invalidCursor();
  return key as Record<string, unknown>;
}

/** Builds SET / REMOVE / ADD update expressions with placeholders for every name and value. */
class ExpressionBuilder {
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  private readonly adds: string[] = [];
  private readonly names: Record<string, string> = {};
  private readonly values: Record<string, unknown> = {};

  set(attribute: string, value: unknown): this {
    this.sets.push(`${this.name(attribute)} = ${this.value(attribute, value)}`);
    return this;
  }

  setIfNotExists(attribute: string, value: unknown): this {
    const name = this.name(attribute);
    this.sets.push(`${name} = if_not_exists(${name}, ${this.value(attribute, value)})`);
    return this;
  }

  remove(attribute: string): this {
    this.removes.push(this.name(attribute));
    return this;
  }

  add(attribute: string, value: number): this {
    this.adds.push(`${this.name(attribute)} ${this.value(attribute, value)}`);
    return this;
  }

  build() {
    const clauses = [
      this.sets.length ? `SET ${this.sets.join(', ')}` : '',
      this.removes.length ? `REMOVE ${this.removes.join(', ')}` : '',
      this.adds.length ? `ADD ${this.adds.join(', ')}` : '',
    ].filter(Boolean);
    return {
      UpdateExpression: clauses.join(' '),
      ExpressionAttributeNames: this.names,
      ...(Object.keys(this.values).length ? { ExpressionAttributeValues: this.values } : {}),
    };
  }

  private name(attribute: string): string {
    this.names[`#${attribute}`] = attribute;
    return `#${attribute}`;
  }

  private value(attribute: string, value: unknown): string {
    this.values[`:${attribute}`] = value;
    return `:${attribute}`;
  }
}
