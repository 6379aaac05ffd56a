// The job port on DynamoDB: due items found by a Query per UTC day, and one transaction per reset, expiry or refill,
// keyed by its activity entry so that it happens once however often the job runs.

import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ScopeKind } from '../../ports/ledger-records';
import type { DueItem, DueKind, ExpiryCommand, JobStore, JobWriteOutcome, RefillCommand, RolloverCommand } from '../../ports/job-store';
import { toActivityItem, toOrgRecord } from './item-mapping';
import {
  CONDITIONS,
  CONDITION_NAMES,
  USAGE_PREFIX,
  activityKey,
  dueKey,
  dueQuery,
  orgKey,
  refillsAttribute,
  scopesQuery,
  topUpAttribute,
  topUpUsedAttribute,
  usageAttribute,
} from './ledger-table';
import { isConditionalCheckFailure } from './sdk-errors';
import type { LedgerTableAccess } from './table-access';
import { dueLeg, handledDueLeg, monthlyExportDueLeg, termsUpdate } from './job-legs';
import type { CancelledLegs } from './transaction-legs';
import { UpdateExpressionBuilder } from './update-expression';

const SCOPE_KINDS: readonly ScopeKind[] = ['project', 'member', 'api_key'];

export function dynamoDbJobStore(table: LedgerTableAccess): JobStore {
  return {
    async getOrg(orgId) {
      return toOrgRecord(await table.getItem(orgKey(orgId)));
    },

    async listDue(kind: DueKind, upTo: Date, limit: number, after?: DueItem): Promise<DueItem[]> {
      const startKey = after ? { ...dueKey(after.kind, after.dueAt, after.orgId, after.ref) } : undefined;
      const page = await table.query(dueQuery(kind, upTo.toISOString()), { limit, ...(startKey ? { startKey } : {}) });
      return page.items.map((item) => ({ kind, orgId: String(item.orgId), dueAt: String(item.dueAt), ref: String(item.ref) }));
    },

    async dropDue(due: DueItem): Promise<void> {
      await table.call(() => table.send(new DeleteCommand({ TableName: table.tableName, Key: dueKey(due.kind, due.dueAt, due.orgId, due.ref) })));
    },

    async refileDue(handled: DueItem, next: DueItem): Promise<void> {
      const cancelled = await table.transact([dueLeg(next.kind, next.dueAt, next.orgId, next.ref), handledDueLeg(handled.kind, handled.dueAt, handled.orgId, handled.ref)]);
      if (cancelled) throw cancelled.asError();
    },

    async rollPeriod(command: RolloverCommand): Promise<JobWriteOutcome> {
      const { due, entry } = command;
      // Writing the downgrade in changes what the org item says, so cached copies must be read again.
      const orgUpdate = command.settledNow ? termsUpdate(command.settled).bumpConfigVersion() : new UpdateExpressionBuilder();
      orgUpdate.set('countersKeptFrom', command.keepCountersFrom).set('nextResetDue', command.nextReset);
      command.prunePeriods.forEach((periodId, index) => {
        orgUpdate.remove(usageAttribute(periodId), `oldUsed${index}`).remove(refillsAttribute(periodId), `oldRefills${index}`);
      });
      const cancelled = await table.transact([
        { role: 'entry', key: activityKey(due.orgId, `RESET#${entry.periodId}`), write: { put: toActivityItem(entry) }, condition: { name: 'itemIsNew' } },
        {
          role: 'org',
          key: orgKey(due.orgId),
          write: { update: orgUpdate.build() },
          condition: { name: 'orgUnchanged', values: { ':configVersion': command.expectedConfigVersion } },
        },
        dueLeg('rollover', command.nextReset, due.orgId, 'reset'),
        monthlyExportDueLeg(command.monthlyExport),
        handledDueLeg(due.kind, due.dueAt, due.orgId, due.ref),
      ]);
      return outcomeOf(cancelled);
    },

    async pruneScopeCounters(orgId: string, keepFrom: string): Promise<number> {
      let changed = 0;
      for (const kind of SCOPE_KINDS) {
        for (const item of await table.queryAll(scopesQuery(orgId, kind))) {
          const old = Object.keys(item).filter((attribute) => attribute.startsWith(USAGE_PREFIX) && attribute.slice(USAGE_PREFIX.length) < keepFrom);
          if (old.length === 0) continue;
          const update = new UpdateExpressionBuilder();
          old.forEach((attribute, index) => update.remove(attribute, `old${index}`));
          const parts = update.build();
          try {
            await table.call(() =>
              table.send(
                new UpdateCommand({
                  TableName: table.tableName,
                  Key: { pk: item.pk, sk: item.sk },
                  ...parts,
                  ExpressionAttributeNames: { ...parts.ExpressionAttributeNames, ...CONDITION_NAMES.itemExists },
                  ConditionExpression: CONDITIONS.itemExists,
                }),
              ),
            );
            changed += 1;
          } catch (error) {
            if (!isConditionalCheckFailure(error)) throw error;
          }
        }
      }
      return changed;
    },

    async expireTopUp(command: ExpiryCommand): Promise<JobWriteOutcome> {
      const { due, batch, entry } = command;
      const update = new UpdateExpressionBuilder().remove(topUpAttribute(batch.purchaseId), 'batch').remove(topUpUsedAttribute(batch.purchaseId), 'batchUsed');
      const cancelled = await table.transact([
        { role: 'entry', key: activityKey(due.orgId, `EXPIRED#${batch.purchaseId}`), write: { put: toActivityItem(entry) }, condition: { name: 'itemIsNew' } },
        { role: 'org', key: orgKey(due.orgId), write: { update: update.build() }, condition: { name: 'batchUnchanged', values: { ':batchUsed': batch.usedMilli } } },
        handledDueLeg(due.kind, due.dueAt, due.orgId, due.ref),
      ]);
      return outcomeOf(cancelled);
    },

    async refill(command: RefillCommand): Promise<JobWriteOutcome> {
      const { batch, orgId } = command;
      const terms = { source: batch.source, cuMilli: batch.cuMilli, purchasedAt: batch.purchasedAt, expiresAt: batch.expiresAt };
      const update = new UpdateExpressionBuilder()
        .set(topUpAttribute(batch.purchaseId), terms, 'batch')
        .set(topUpUsedAttribute(batch.purchaseId), 0, 'batchUsed')
        .add(refillsAttribute(command.periodId), 1, 'refills')
        .bumpConfigVersion()
        .set('updatedAt', batch.purchasedAt);
      const cancelled = await table.transact([
        { role: 'entry', key: activityKey(orgId, `TOPUP#${batch.purchaseId}`), write: { put: toActivityItem(command.entry) }, condition: { name: 'itemIsNew' } },
        {
          role: 'org',
          key: orgKey(orgId),
          write: { update: update.build() },
          condition: command.refillsSeen === 0 ? { name: 'firstRefillOfPeriod' } : { name: 'refillsAsSeen', values: { ':refillsSeen': command.refillsSeen } },
        },
        dueLeg('expiry', batch.expiresAt, orgId, batch.purchaseId),
      ]);
      return outcomeOf(cancelled);
    },
  };
}

/** A job's transaction: done; its entry already there (another run did it); or the org moved on (stale). */
function outcomeOf(cancelled: CancelledLegs<string> | undefined): JobWriteOutcome {
  if (!cancelled) return 'done';
  if (cancelled.failed('entry')) return 'already_done';
  if (cancelled.failed('org')) return 'stale';
  throw cancelled.asError();
}
