// A transaction as a list of named legs: each leg has a role, the key it writes, its write (a new item, an update,
// or only a check) and a named condition. A cancelled transaction's reasons are read back by role, never by position.

import type { CancellationReason } from '@aws-sdk/client-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { CONDITIONS, CONDITION_NAMES, type ComposedCondition, type ConditionName, type ItemKey } from './ledger-table';
import { failedCondition, isTransientReason, translate } from './sdk-errors';
import type { UpdateExpressionParts } from './update-expression';

type Item = Record<string, unknown>;

export interface NamedCondition {
  readonly name: ConditionName;
  /** Names and values the condition needs beyond its fixed ones (`#used`, `:max`, ...). */
  readonly names?: Readonly<Record<string, string>>;
  readonly values?: Readonly<Record<string, unknown>>;
}

export type LegWrite = { readonly put: Item } | { readonly update: UpdateExpressionParts } | { readonly check: true } | { readonly delete: true };

export interface TransactionLeg<Role extends string> {
  readonly role: Role;
  readonly key: ItemKey;
  readonly write: LegWrite;
  /** None: the write goes through whatever the item holds (an upsert). */
  readonly condition?: NamedCondition | ComposedCondition;
  /** On a failed condition, hand back the item as it was, so the caller can re-evaluate on it. */
  readonly returnItemOnFailure?: boolean;
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** The TransactItems of the legs, in their order. */
export function transactItems(tableName: string, legs: readonly TransactionLeg<string>[]): TransactItem[] {
  assertUniqueRoles(legs);
  return legs.map((leg) => {
    const condition = leg.condition ? conditionParts(leg.condition) : undefined;
    const names = condition?.names ?? {};
    const values = condition?.values ?? {};
    const common = {
      TableName: tableName,
      ...(condition ? { ConditionExpression: condition.expression } : {}),
      ...(leg.returnItemOnFailure ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
    };
    if ('put' in leg.write) {
      return { Put: { ...common, Item: { ...leg.key, ...leg.write.put }, ...namesPart(names), ...valuesPart(values) } };
    }
    if ('delete' in leg.write) {
      return { Delete: { ...common, Key: { ...leg.key }, ...namesPart(names), ...valuesPart(values) } };
    }
    if ('check' in leg.write) {
      if (!condition) throw new Error(`leg ${leg.role}: a check needs a condition`);
      const check = { ...common, ConditionExpression: condition.expression, Key: { ...leg.key }, ExpressionAttributeNames: names };
      return { ConditionCheck: { ...check, ...valuesPart(values) } };
    }
    const { UpdateExpression, ExpressionAttributeNames, ExpressionAttributeValues } = leg.write.update;
    return {
      Update: {
        ...common,
        Key: { ...leg.key },
        UpdateExpression,
        ExpressionAttributeNames: merged(leg.role, 'name', ExpressionAttributeNames, names),
        ...valuesPart(merged(leg.role, 'value', ExpressionAttributeValues ?? {}, values)),
      },
    };
  });
}

/** A condition's expression with every name and value it needs. */
function conditionParts(condition: NamedCondition | ComposedCondition): { expression: string; names: Record<string, string>; values: Record<string, unknown> } {
  if ('composed' in condition) return { expression: condition.expression, names: { ...condition.names }, values: { ...condition.values } };
  return { expression: CONDITIONS[condition.name], names: { ...CONDITION_NAMES[condition.name], ...condition.names }, values: { ...condition.values } };
}

/** Roles are how a cancelled transaction is read back: two legs with one role would hide a reason. */
function assertUniqueRoles(legs: readonly TransactionLeg<string>[]): void {
  const roles = legs.map((leg) => leg.role);
  const repeated = roles.find((role, index) => roles.indexOf(role) !== index);
  if (repeated !== undefined) throw new Error(`two transaction legs share the role ${repeated}`);
}

/**
 * The update's placeholders and the condition's, together. A placeholder both use must mean the same thing, or
 * one would silently overwrite the other (an update `:configVersion` + 1 under a condition on the expected one).
 */
function merged<T>(role: string, kind: string, update: Readonly<Record<string, T>>, condition: Readonly<Record<string, T>>): Record<string, T> {
  for (const [placeholder, value] of Object.entries(condition)) {
    if (placeholder in update && update[placeholder] !== value) throw new Error(`leg ${role}: the ${kind} placeholder ${placeholder} means two things`);
  }
  return { ...update, ...condition };
}

function namesPart(names: Record<string, string>) {
  return Object.keys(names).length ? { ExpressionAttributeNames: names } : {};
}

function valuesPart(values: Record<string, unknown>) {
  return Object.keys(values).length ? { ExpressionAttributeValues: values } : {};
}

/** Why a transaction of these legs was cancelled, read by role. */
export class CancelledLegs<Role extends string> {
  private readonly byRole: ReadonlyMap<Role, CancellationReason>;

  constructor(
    legs: readonly TransactionLeg<Role>[],
    reasons: readonly CancellationReason[],
    /** The SDK's exception, kept as the cause of whatever the caller throws. */
    readonly error: unknown,
  ) {
    this.byRole = new Map(legs.map((leg, index) => [leg.role, reasons[index] ?? {}]));
  }

  /** The leg's condition failed. */
  failed(role: Role): boolean {
    return failedCondition(this.byRole.get(role));
  }

  /** The leg's item as the failed condition saw it (undefined: there was none, or it was not asked for). */
  item(role: Role): Item | undefined {
    const reason = this.byRole.get(role);
    return failedCondition(reason) && reason?.Item ? (unmarshall(reason.Item) as Item) : undefined;
  }

  /** A conflict or throttle on any leg: the whole transaction may be retried. */
  anyTransient(): boolean {
    return [...this.byRole.values()].some(isTransientReason);
  }

  anyFailed(): boolean {
    return [...this.byRole.values()].some(failedCondition);
  }

  /** The error to throw when no leg's outcome answers the call: transient faults become TransientStoreError. */
  asError(): unknown {
    return translate(this.error);
  }
}
