// The admin port on DynamoDB: orgs and their limits, projects, members and API keys, and paged lists of them and
// of the activity log. Every change to a limit bumps the org's config version or a scope's cap, which the next
// consume's conditions see.

import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_MEMBER_ROLE } from '../../domain/permissions';
import type { AdminStore, OrgSettings, Page, ScopeSettings } from '../../ports/admin-store';
import type { MeterEventRecord, OrgRecord, ScopeKind, ScopeRecord, ScopeRef } from '../../ports/ledger-records';
import { decodeCursor, encodeCursor } from './cursor-codec';
import { toEventRecord, toListedScopeRecord, toOrgRecord, toScopeRecord } from './item-mapping';
import { CONDITIONS, CONDITION_NAMES, eventLogQuery, orgKey, scopeKey, scopesQuery, type ItemKey, type TableQuery } from './ledger-table';
import { isConditionalCheckFailure } from './sdk-errors';
import type { LedgerTableAccess } from './table-access';
import type { TransactionLeg } from './transaction-legs';
import { UpdateExpressionBuilder } from './update-expression';

export function dynamoDbAdminStore(table: LedgerTableAccess): AdminStore {
  const get = async (key: ItemKey) =>
    (await table.call(() => table.send(new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true })))).Item;
  const query = async (tableQuery: TableQuery, page: { limit: number; cursor: string | null; newestFirst?: boolean }) => {
    const { cursorAttributes: _attributes, cursorBelongs: _belongs, ...input } = tableQuery;
    const result = await table.call(() =>
      table.send(
        new QueryCommand({
          TableName: table.tableName,
          ...input,
          // The log index is eventually consistent by nature; the base table is read strongly.
          ...(input.IndexName ? { ScanIndexForward: !page.newestFirst } : { ConsistentRead: true }),
          Limit: page.limit,
          ExclusiveStartKey: decodeCursor(page.cursor, tableQuery),
        }),
      ),
    );
    return { items: result.Items ?? [], nextCursor: encodeCursor(result.LastEvaluatedKey) };
  };

  return {
    async getOrg(orgId: string): Promise<OrgRecord | undefined> {
      return toOrgRecord(await get(orgKey(orgId)));
    },

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
      const result = await table.call(() =>
        table.send(new UpdateCommand({ TableName: table.tableName, Key: orgKey(settings.orgId), ...update.build(), ReturnValues: 'ALL_NEW' })),
      );
      return toOrgRecord(result.Attributes)!;
    },

    async setDefaultLimit(orgId: string, capMilli: number | null, now: string): Promise<OrgRecord | undefined> {
      const update = new UpdateExpressionBuilder().set('updatedAt', now).add('configVersion', 1);
      if (capMilli === null) update.remove('defaultCapMilli');
      else update.set('defaultCapMilli', capMilli);
      const parts = update.build();
      const names = { ...parts.ExpressionAttributeNames, ...CONDITION_NAMES.itemExists };
      try {
        const result = await table.call(() =>
          table.send(
            new UpdateCommand({
              TableName: table.tableName,
              Key: orgKey(orgId),
              ...parts,
              ExpressionAttributeNames: names,
              ConditionExpression: CONDITIONS.itemExists,
              ReturnValues: 'ALL_NEW',
            }),
          ),
        );
        return toOrgRecord(result.Attributes);
      } catch (error) {
        if (isConditionalCheckFailure(error)) return undefined;
        throw error;
      }
    },

    async putScope(orgId: string, scope: ScopeRef, settings: ScopeSettings, now: string): Promise<ScopeRecord | undefined> {
      const key = scopeKey(orgId, scope.kind, scope.id);
      // The scope is written only while its org exists.
      const legs: TransactionLeg<'org' | 'scope'>[] = [
        { role: 'org', key: orgKey(orgId), write: { check: true }, condition: { name: 'itemExists' } },
        { role: 'scope', key, write: { update: scopeUpdate(scope, settings, now).build() } },
      ];
      const cancelled = await table.transact(legs);
      if (cancelled?.failed('org')) return undefined;
      if (cancelled) throw cancelled.asError();
      return toScopeRecord(scope.kind, scope.id, await get(key));
    },

    async listScopes(orgId: string, kind: ScopeKind, limit: number, cursor: string | null): Promise<Page<ScopeRecord>> {
      const page = await query(scopesQuery(orgId, kind), { limit, cursor });
      return { items: page.items.map((item) => toListedScopeRecord(kind, item)), nextCursor: page.nextCursor };
    },

    async listEvents(orgId: string, limit: number, cursor: string | null): Promise<Page<MeterEventRecord>> {
      const page = await query(eventLogQuery(orgId), { limit, cursor, newestFirst: true });
      return { items: page.items.map(toEventRecord), nextCursor: page.nextCursor };
    },
  };
}

function scopeUpdate(scope: ScopeRef, settings: ScopeSettings, now: string): UpdateExpressionBuilder {
  const update = new UpdateExpressionBuilder().set('entity', scope.kind).set('scopeId', scope.id).set('updatedAt', now).setIfNotExists('createdAt', now);
  if (settings.name !== undefined) update.set('name', settings.name);
  if (settings.role !== undefined) update.set('role', settings.role);
  else if (scope.kind === 'member') update.setIfNotExists('role', DEFAULT_MEMBER_ROLE);
  if (settings.adminOfProjectIds !== undefined) update.set('adminOfProjectIds', [...settings.adminOfProjectIds]);
  if (settings.projectId !== undefined) update.set('projectId', settings.projectId);
  if (settings.capMilli === null) update.remove('capMilli');
  else if (settings.capMilli !== undefined) update.set('capMilli', settings.capMilli);
  return update;
}
