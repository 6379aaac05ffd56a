// The admin port on DynamoDB: orgs and their limits, projects, members and API keys, and paged lists of them and
// of the activity log. Every change to a limit bumps the org's config version or a scope's cap, which the next
// consume's conditions see.

import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AutoRefillSettings } from '../../domain/auto-refill';
import { DEFAULT_MEMBER_ROLE } from '../../domain/permissions';
import type { ScopeSettingsValues } from '../../domain/setting-changes';
import type { ActivitySelection, AdminStore, DefaultLimitCommand, FirstDue, OrgDetails, OrgSettings, Page, PlanChangeCommand, PlatformActionOutcome, ScopeChangeCommand, ScopeChangeOutcome, TopUpCommand, TopUpOutcome } from '../../ports/admin-store';
import type { ActivityRecord, LogEntry, OrgRecord, ScopeKind, ScopeRecord, ScopeRef } from '../../ports/ledger-records';
import { decodeCursor, encodeCursor } from './cursor-codec';
import { toActivityItem, toActivityRecord, toListedScopeRecord, toLogEntry, toOrgRecord, toScopeRecord } from './item-mapping';
import {
  CONDITIONS,
  CONDITION_NAMES,
  activityFeedQuery,
  activityKey,
  eventLogQuery,
  orgKey,
  scopeKey,
  scopesQuery,
  topUpAttribute,
  topUpUsedAttribute,
  type ItemKey,
  type TableQuery,
} from './ledger-table';
import { dueLeg, monthlyExportDueLeg, termsUpdate } from './job-legs';
import { isConditionalCheckFailure } from './sdk-errors';
import type { Item, LedgerTableAccess } from './table-access';
import type { NamedCondition, TransactionLeg } from './transaction-legs';
import { UpdateExpressionBuilder } from './update-expression';

/**
 * The most log lines one page of the activity feed reads (its Limits added up): a feed filtered on a small project of a
 * busy org ends its page there, with a cursor, instead of reading the whole range in one request.
 */
export const FEED_READ_BUDGET = 10_000;
/** The most lines one query of a filtered feed reads: about 1 MB of log, DynamoDB's most for one answer anyway. */
const FEED_QUERY_LIMIT = 1_000;

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

  /**
   * One atomic write of an org change and its activity entry (under `<prefix>#<instant>#<entryId>`), with any further
   * legs, conditioned on the config version the change was planned on: 'stale' when another change came first.
   */
  const changeOrg = async (
    command: { orgId: string; expectedConfigVersion: number; entry: ActivityRecord },
    update: UpdateExpressionBuilder,
    prefix: 'PLAN' | 'CHANGE',
    more: TransactionLeg<'due'>[] = [],
  ): Promise<'done' | 'stale'> => {
    const { orgId, entry } = command;
    const cancelled = await table.transact([
      { role: 'org', key: orgKey(orgId), write: { update: update.build() }, condition: { name: 'orgUnchanged', values: { ':configVersion': command.expectedConfigVersion } } },
      { role: 'entry', key: activityKey(orgId, `${prefix}#${entry.createdAt}#${entry.entryId}`), write: { put: toActivityItem(entry) }, condition: { name: 'itemIsNew' } },
      ...more,
    ]);
    if (cancelled?.failed('org')) return 'stale';
    if (cancelled) throw cancelled.asError();
    return 'done';
  };

  return {
    async getOrg(orgId: string): Promise<OrgRecord | undefined> {
      return toOrgRecord(await get(orgKey(orgId)));
    },

    async createOrg(settings: OrgSettings, entry: ActivityRecord & { kind: 'org_provisioned' }, due: FirstDue): Promise<OrgRecord | undefined> {
      const now = entry.createdAt;
      const item: Record<string, unknown> = {
        entity: 'org',
        orgId: settings.orgId,
        planName: settings.planName,
        allowanceMilli: settings.allowanceMilli,
        billingAnchor: settings.billingAnchor,
        configVersion: 1,
        nextResetDue: due.reset,
        createdAt: now,
        updatedAt: now,
        ...(settings.name !== undefined ? { name: settings.name } : {}),
        ...(settings.highCostMilli !== undefined && settings.highCostMilli !== null ? { highCostMilli: settings.highCostMilli } : {}),
      };
      const cancelled = await table.transact([
        { role: 'org', key: orgKey(settings.orgId), write: { put: item }, condition: { name: 'itemIsNew' } },
        { role: 'entry', key: activityKey(settings.orgId, 'PROVISIONED'), write: { put: toActivityItem(entry) } },
        dueLeg('rollover', due.reset, settings.orgId, 'reset'),
        monthlyExportDueLeg(due.monthlyExport),
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
      const due = command.nextReset === null ? [] : [dueLeg('rollover', command.nextReset, command.orgId, 'reset')];
      return changeOrg(command, update, 'PLAN', due);
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

    async recordAction(entry: ActivityRecord & { kind: 'platform_action' }): Promise<PlatformActionOutcome> {
      const key = activityKey(entry.orgId, `ACTION#${entry.eventId}`);
      // One conditional put: no transaction with a check on the org item, which every consume writes (the use case
      // read the org, and orgs are never deleted).
      try {
        await table.call(() =>
          table.send(
            new PutCommand({ TableName: table.tableName, Item: { ...key, ...toActivityItem(entry) }, ConditionExpression: CONDITIONS.itemIsNew, ExpressionAttributeNames: CONDITION_NAMES.itemIsNew }),
          ),
        );
        return { status: 'added' };
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        return { status: 'duplicate', existing: toActivityRecord((await get(key))!) };
      }
    },

    async setAutoRefill(orgId: string, settings: AutoRefillSettings, now: string): Promise<OrgRecord | undefined> {
      return updateExistingOrg(orgId, new UpdateExpressionBuilder().set('autoRefill', { ...settings }).set('updatedAt', now));
    },

    async setDefaultLimit(command: DefaultLimitCommand, now: string): Promise<'done' | 'stale'> {
      const update = new UpdateExpressionBuilder().set('updatedAt', now).bumpConfigVersion();
      if (command.capMilli === null) update.remove('defaultCapMilli');
      else update.set('defaultCapMilli', command.capMilli);
      return changeOrg(command, update, 'CHANGE');
    },

    async putScope(command: ScopeChangeCommand, now: string): Promise<ScopeChangeOutcome> {
      const { orgId, scope, entry } = command;
      const key = scopeKey(orgId, scope.kind, scope.id);
      // The scope is written only while its org exists, and only as it was read: the entry's "before" is exact.
      const cancelled = await table.transact([
        { role: 'org', key: orgKey(orgId), write: { check: true }, condition: { name: 'itemExists' } },
        { role: 'scope', key, write: { update: scopeUpdate(scope, command.settings, now).build() }, condition: settingsAsSeen(command.seen) },
        { role: 'entry', key: activityKey(orgId, `CHANGE#${entry.createdAt}#${entry.entryId}`), write: { put: toActivityItem(entry) }, condition: { name: 'itemIsNew' } },
      ]);
      if (cancelled?.failed('org')) return { status: 'org_missing' };
      if (cancelled?.failed('scope')) return { status: 'stale' };
      if (cancelled) throw cancelled.asError();
      return { status: 'done', scope: toScopeRecord(scope.kind, scope.id, await get(key)) };
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

    /**
     * Unfiltered, each query reads just the lines the page still needs. Filtered, the first reads a page's worth and
     * each next one four times more (up to FEED_QUERY_LIMIT), until the page is full, the range ends, or the page
     * read FEED_READ_BUDGET lines. The cursor points at the last line handed out, or where the reading stopped.
     */
    async activityFeed(selection: ActivitySelection, limit: number, cursor: string | null): Promise<Page<LogEntry>> {
      const feed = activityFeedQuery(selection);
      let startKey = decodeCursor(cursor, feed);
      const items: Item[] = [];
      const cursorAt = (item: Item) => encodeCursor(Object.fromEntries(feed.cursorAttributes.map((attribute) => [attribute, item[attribute]])), feed);
      const answer = (nextCursor: string | null) => ({ items: items.map(toLogEntry), nextCursor });
      for (let read = 0, batch = limit; ; batch = Math.min(batch * 4, FEED_QUERY_LIMIT)) {
        const wanted = limit - items.length;
        const queryLimit = feed.FilterExpression ? Math.min(batch, FEED_READ_BUDGET - read) : wanted;
        const page = await table.query(feed, { limit: queryLimit, newestFirst: true, ...(startKey ? { startKey } : {}) });
        read += queryLimit;
        const taken = page.items.slice(0, wanted);
        items.push(...taken);
        if (items.length === limit) return answer(page.lastKey || taken.length < page.items.length ? cursorAt(taken.at(-1)!) : null);
        if (!page.lastKey) return answer(null);
        if (read >= FEED_READ_BUDGET) return answer(encodeCursor(page.lastKey, feed));
        startKey = page.lastKey;
      }
    },

    async logUpTo(orgId: string, at: string): Promise<LogEntry[]> {
      return (await table.queryAll(eventLogQuery(orgId, at))).map(toLogEntry);
    },
  };
}

/** Writes a scope's settings as they are once changed, and counts the change (its settings version). */
function scopeUpdate(scope: ScopeRef, settings: ScopeSettingsValues, now: string): UpdateExpressionBuilder {
  const update = new UpdateExpressionBuilder()
    .set('entity', scope.kind)
    .set('scopeId', scope.id)
    .set('updatedAt', now)
    .setIfNotExists('createdAt', now)
    // Its own placeholder: the condition on the version read (`:settingsVersion`) sits beside it.
    .add('settingsVersion', 1, 'settingsVersionStep');
  const setOrRemove = (attribute: string, value: unknown) => (value === null ? update.remove(attribute) : update.set(attribute, value));
  setOrRemove('name', settings.name);
  setOrRemove('capMilli', settings.capMilli);
  if (scope.kind === 'member') update.set('role', settings.role ?? DEFAULT_MEMBER_ROLE).set('adminOfProjectIds', [...settings.adminOfProjectIds]);
  if (scope.kind === 'api_key') setOrRemove('projectId', settings.projectId);
  return update;
}

/** The scope is as its change was planned on: not there, there but never changed by an admin, or at the version read. */
function settingsAsSeen(seen: ScopeChangeCommand['seen']): NamedCondition {
  if (!seen.exists) return { name: 'itemIsNew' };
  if (seen.settingsVersion === 0) return { name: 'settingsUnset' };
  return { name: 'settingsAsSeen', values: { ':settingsVersion': seen.settingsVersion } };
}
