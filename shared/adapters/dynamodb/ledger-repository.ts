// DynamoDB implementation of the ledger ports. Every consume is one TransactWriteItems; SDK exceptions are turned
// into port outcomes (duplicate, rejected) or a TransientStoreError the use cases retry.

import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
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
  CONDITIONS,
  CONDITION_NAMES,
  eventKey,
  keyIdentity,
  keyOf,
  eventLogKey,
  eventLogPartition,
  orgKey,
  scopeKey,
  scopeQuery,
  usageAttribute,
  type ItemKey,
} from './ledger-table';
import { cancellationReasons, failedCondition, isConditionalCheckFailure, translate } from './sdk-errors';
import { chargeLegs, refundLegs } from './charge-legs';
import { CancelledLegs, transactItems, type TransactionLeg } from './transaction-legs';
import { UpdateExpressionBuilder } from './update-expression';

type Item = Record<string, unknown>;

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
    const found = await this.batchGetNamed({
      org: orgKey(orgId),
      project: scopeKey(orgId, 'project', projectId),
      actor: scopeKey(orgId, actor.kind, actor.id),
      ...(requestId === null ? {} : { event: eventKey(orgId, requestId) }),
    });
    return {
      org: toOrgRecord(found.org),
      project: toScopeRecord('project', projectId, found.project),
      actor: toScopeRecord(actor.kind, actor.id, found.actor),
      existingEvent: found.event ? toEventRecord(found.event) : undefined,
    };
  }

  async getEvents(orgId: string, requestIds: readonly string[]): Promise<MeterEventRecord[]> {
    const items = await this.batchGet(requestIds.map((requestId) => eventKey(orgId, requestId)));
    return items.map(toEventRecord);
  }

  // Consume: the event (idempotency record), the team pool, the project and the actor, all or nothing.
  async commitCharge(command: ChargeCommand): Promise<ChargeOutcome> {
    const { event } = command;
    const legs = chargeLegs(command);
    try {
      await this.send(new TransactWriteCommand({ TransactItems: transactItems(this.tableName, legs) }));
      return { status: 'charged' };
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons) throw translate(error);
      const cancelled = new CancelledLegs(legs, reasons);
      if (cancelled.failed('event')) return { status: 'duplicate', existing: toEventRecord(cancelled.item('event')!) };
      if (cancelled.anyTransient()) throw new TransientStoreError('consume transaction conflicted', { cause: error });
      if (!cancelled.anyFailed()) throw error;
      return {
        status: 'rejected',
        orgMissing: cancelled.failed('team') && cancelled.item('team') === undefined,
        org: cancelled.failed('team') ? toOrgRecord(cancelled.item('team')) : undefined,
        project: cancelled.failed('project') ? toScopeRecord('project', event.projectId, cancelled.item('project')) : undefined,
        actor: cancelled.failed('actor') ? toScopeRecord(event.actorKind, event.userId, cancelled.item('actor')) : undefined,
      };
    }
  }

  // Refund: the refund event, the original's refunded total, and every counter the original moved, all or nothing.
  async commitRefund(command: RefundCommand): Promise<RefundOutcome> {
    const legs = refundLegs(command);
    try {
      await this.send(new TransactWriteCommand({ TransactItems: transactItems(this.tableName, legs) }));
      return { status: 'refunded' };
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (!reasons) throw translate(error);
      const cancelled = new CancelledLegs(legs, reasons);
      if (cancelled.failed('event')) return { status: 'duplicate', existing: toEventRecord(cancelled.item('event')!) };
      if (cancelled.anyTransient()) throw new TransientStoreError('refund transaction conflicted', { cause: error });
      if (cancelled.anyFailed()) return { status: 'rejected' };
      throw error;
    }
  }

  async getOrg(orgId: string): Promise<OrgRecord | undefined> {
    const result = await this.call(() => this.send(new GetCommand({ TableName: this.tableName, Key: orgKey(orgId), ConsistentRead: true })));
    return toOrgRecord(result.Item);
  }

  async putOrg(settings: OrgSettings, now: string): Promise<OrgRecord> {
    const update = new UpdateExpressionBuilder()
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
    const update = new UpdateExpressionBuilder().set('updatedAt', now).add('configVersion', 1);
    if (capMilli === null) update.remove('defaultCapMilli');
    else update.set('defaultCapMilli', capMilli);
    try {
      const result = await this.call(() =>
        this.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: orgKey(orgId),
            ...update.build(),
            ConditionExpression: CONDITIONS.itemExists,
            ExpressionAttributeNames: { ...update.build().ExpressionAttributeNames, ...CONDITION_NAMES.itemExists },
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
    const update = new UpdateExpressionBuilder()
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
    // The scope is written only while its org exists.
    const legs: TransactionLeg<'org' | 'scope'>[] = [
      { role: 'org', key: orgKey(orgId), write: { check: true }, condition: { name: 'itemExists' } },
      { role: 'scope', key, write: { update: update.build() } },
    ];
    try {
      await this.call(() => this.send(new TransactWriteCommand({ TransactItems: transactItems(this.tableName, legs) })));
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons && new CancelledLegs(legs, reasons).failed('org')) return undefined;
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

  /** Strongly consistent read of named keys: each name answers its item, or undefined. */
  private async batchGetNamed<Name extends string>(keys: Readonly<Partial<Record<Name, ItemKey>>>): Promise<Partial<Record<Name, Item>>> {
    const named = Object.entries(keys) as [Name, ItemKey][];
    const items = await this.batchGet(named.map(([, key]) => key));
    const byKey = new Map(items.map((item) => [keyOf(item), item]));
    const found: Partial<Record<Name, Item>> = {};
    for (const [name, key] of named) {
      const item = byKey.get(keyIdentity(key));
      if (item) found[name] = item;
    }
    return found;
  }

  private async batchGet(keys: readonly ItemKey[]): Promise<Item[]> {
    const found: Item[] = [];
    // BatchGetItem refuses a list with the same key twice (a refund whose requestId is its own refundOf).
    const unique = [...new Map(keys.map((key) => [keyIdentity(key), key])).values()];
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
