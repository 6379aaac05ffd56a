// The admin port on DynamoDB: orgs and their limits, projects, members and API keys, and paged lists of them and
// of the activity log. Every change to a limit bumps the org's config version or a scope's cap, which the next
// consume's conditions see.

import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AutoRefillSettings } from '../../domain/auto-refill';
import { DEFAULT_MEMBER_ROLE } from '../../domain/permissions';
import type { AdminStore, OrgDetails, OrgSettings, Page, PlanChangeCommand, ScopeSettings, TopUpCommand, TopUpOutcome } from '../../ports/admin-store';
import type { ActivityRecord, LogEntry, OrgRecord, ScopeKind, ScopeRecord, ScopeRef } from '../../ports/ledger-records';
import { decodeCursor, encodeCursor } from './cursor-codec';
import { toActivityItem, toActivityRecord, toListedScopeRecord, toLogEntry, toOrgRecord, toScopeRecord } from './item-mapping';
import { CONDITIONS, CONDITION_NAMES, activityKey, eventLogQuery, orgKey, scopeKey, scopesQuery, topUpAttribute, topUpUsedAttribute, type ItemKey, type TableQuery } from './ledger-table';
import { dueLeg, termsUpdate } from './job-legs';
import { isConditionalCheckFailure } from './sdk-errors';
import type { LedgerTableAccess } from './table-access';
import type { TransactionLeg } from './transaction-legs';
import { UpdateExpressionBuilder } from './update-expression';

export function dynamoDbAdminStore(table: LedgerTableAccess): AdminStore {
  const get = (key: ItemKey) => table.getItem(key);
  /** One page of a list the API hands out, with its cursor. */
  const query = async (tableQuery: TableQuery, page: { limit: number; cursor: string | null; newestFirst?: boolean }) => {
    const startKey = decodeCursor(page.cursor, tableQuery);
    const result = await table.query(tableQuery, { limit: page.limit, ...(startKey ? { startKey } : {}), ...(page.newestFirst ? { newestFirst: true } : {}) });
    return { items: result.items, nextCursor: encodeCursor(result.lastKey as Record<string, string> | undefined) };
  };

  /** An update of the org item, only while it exists; undefined when it does not. */
  const updateExistingOrg = async (orgId: string, update: UpdateExpressionBuilder): Promise<OrgRecord | undefined> => {
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
    };

  return {
    async getOrg(orgId: string): Promise<OrgRecord | undefined> {
      return toOrgRecord(await get(orgKey(orgId)));
    },

    async createOrg(settings: OrgSettings, entry: ActivityRecord & { kind: 'org_provisioned' }, firstReset: string): Promise<OrgRecord | undefined> {
      const now = entry.createdAt;
      const item: Record<string, unknown> = {
        entity: 'org',
        orgId: settings.orgId,
        planName: settings.planName,
        allowanceMilli: settings.allowanceMilli,
        billingAnchor: settings.billingAnchor,
        configVersion: 1,
        nextResetDue: firstReset,
        createdAt: now,
        updatedAt: now,
        ...(settings.name !== undefined ? { name: settings.name } : {}),
        ...(settings.highCostMilli !== undefined && settings.highCostMilli !== null ? { highCostMilli: settings.highCostMilli } : {}),
      };
      const cancelled = await table.transact([
        { role: 'org', key: orgKey(settings.orgId), write: { put: item }, condition: { name: 'itemIsNew' } },
        { role: 'entry', key: activityKey(settings.orgId, 'PROVISIONED'), write: { put: toActivityItem(entry) } },
        dueLeg('rollover', firstReset, settings.orgId, 'reset'),
      ]);
      if (cancelled?.failed('org')) return undefined;
      if (cancelled) throw cancelled.asError();
      return toOrgRecord(await get(orgKey(settings.orgId)));
    },

    async updateOrgDetails(orgId: string, details: OrgDetails, now: string): Promise<OrgRecord | undefined> {
      const update = new UpdateExpressionBuilder().set('updatedAt', now);
      if (details.name !== undefined) update.set('name', details.name);
      // The high-cost threshold only flags jobs; consumes never condition on it, so no config version bump.
      if (details.highCostMilli === null) update.remove('highCostMilli');
      else if (details.highCostMilli !== undefined) update.set('highCostMilli', details.highCostMilli);
      return updateExistingOrg(orgId, update);
    },

    async changePlan(command: PlanChangeCommand, now: string): Promise<'done' | 'stale'> {
      const update = termsUpdate(command.after).set('updatedAt', now).bumpConfigVersion();
      if (command.nextReset !== null) update.set('nextResetDue', command.nextReset);
      const cancelled = await table.transact([
        {
          role: 'org',
          key: orgKey(command.orgId),
          write: { update: update.build() },
          condition: { name: 'orgUnchanged', values: { ':configVersion': command.expectedConfigVersion } },
        },
        { role: 'entry', key: activityKey(command.orgId, `PLAN#${command.entry.createdAt}#${command.entry.entryId}`), write: { put: toActivityItem(command.entry) }, condition: { name: 'itemIsNew' } },
        ...(command.nextReset === null ? [] : [dueLeg('rollover', command.nextReset, command.orgId, 'reset')]),
      ]);
      if (cancelled?.failed('org')) return 'stale';
      if (cancelled) throw cancelled.asError();
      return 'done';
    },

    async addTopUp(command: TopUpCommand, now: string): Promise<TopUpOutcome> {
      const { batch, orgId } = command;
      const terms = { source: batch.source, cuMilli: batch.cuMilli, purchasedAt: batch.purchasedAt, expiresAt: batch.expiresAt };
      const update = new UpdateExpressionBuilder()
        .set(topUpAttribute(batch.purchaseId), terms, 'batch')
        .set(topUpUsedAttribute(batch.purchaseId), 0, 'batchUsed')
        .set('updatedAt', now)
        .bumpConfigVersion();
      const cancelled = await table.transact([
        { role: 'entry', key: activityKey(orgId, `TOPUP#${batch.purchaseId}`), write: { put: toActivityItem(command.entry) }, condition: { name: 'itemIsNew' }, returnItemOnFailure: true },
        { role: 'org', key: orgKey(orgId), write: { update: update.build() }, condition: { name: 'itemExists' } },
        dueLeg('expiry', batch.expiresAt, orgId, batch.purchaseId),
      ]);
      if (!cancelled) return { status: 'added' };
      if (cancelled.failed('entry')) return { status: 'duplicate', existing: toActivityRecord(cancelled.item('entry')!) };
      if (cancelled.failed('org')) return { status: 'org_missing' };
      throw cancelled.asError();
    },

    async setAutoRefill(orgId: string, settings: AutoRefillSettings, now: string): Promise<OrgRecord | undefined> {
      return updateExistingOrg(orgId, new UpdateExpressionBuilder().set('autoRefill', { ...settings }).set('updatedAt', now));
    },

    async setDefaultLimit(orgId: string, capMilli: number | null, now: string): Promise<OrgRecord | undefined> {
      const update = new UpdateExpressionBuilder().set('updatedAt', now).bumpConfigVersion();
      if (capMilli === null) update.remove('defaultCapMilli');
      else update.set('defaultCapMilli', capMilli);
      return updateExistingOrg(orgId, update);
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

    async getScope(orgId: string, scope: ScopeRef): Promise<ScopeRecord> {
      return toScopeRecord(scope.kind, scope.id, await get(scopeKey(orgId, scope.kind, scope.id)));
    },

    async listScopes(orgId: string, kind: ScopeKind, limit: number, cursor: string | null): Promise<Page<ScopeRecord>> {
      const page = await query(scopesQuery(orgId, kind), { limit, cursor });
      return { items: page.items.map((item) => toListedScopeRecord(kind, item)), nextCursor: page.nextCursor };
    },

    async listEvents(orgId: string, limit: number, cursor: string | null): Promise<Page<LogEntry>> {
      const page = await query(eventLogQuery(orgId), { limit, cursor, newestFirst: true });
      return { items: page.items.map(toLogEntry), nextCursor: page.nextCursor };
    },

    async logUpTo(orgId: string, at: string): Promise<LogEntry[]> {
      return (await table.queryAll(eventLogQuery(orgId, at))).map(toLogEntry);
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
