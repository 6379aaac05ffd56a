// The alert port on DynamoDB: an org's thresholds in one item beside the org's, and one item per firing.

import { firingId, type AlertFiring, type AlertLevel, type AlertScope, type AlertThreshold } from '../../domain/cost-alerts';
import type { MilliCu } from '../../domain/compute-units';
import type { AlertWebhook } from '../../domain/alert-webhooks';
import type { AlertStore } from '../../ports/alert-store';
import type { AlertWebhookStore } from '../../ports/alert-webhook-store';
import { isConditionalCheckFailure } from './sdk-errors';
import { ALERT_FIRING_ENTITY, CONDITIONS, CONDITION_NAMES, alertFiringKey, alertFiringsQuery, alertThresholdsKey, alertWebhookKey, orgKey } from './ledger-table';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LedgerTableAccess } from './table-access';

export function dynamoDbAlertStore(table: LedgerTableAccess): AlertStore & AlertWebhookStore {
  /** Puts an item of the org's alerts only while the org exists, so none outlives (or precedes) its org. */
  const putBesideOrg = async (orgId: string, key: ReturnType<typeof orgKey>, item: Record<string, unknown>): Promise<'done' | 'org_missing'> => {
    const cancelled = await table.transact([
      { role: 'org', key: orgKey(orgId), write: { check: true }, condition: { name: 'itemExists' } },
      { role: 'alerts', key, write: { put: item } },
    ]);
    if (cancelled?.failed('org')) return 'org_missing';
    if (cancelled) throw cancelled.asError();
    return 'done';
  };
  return {
    async putAlertThresholds(orgId: string, thresholds: readonly AlertThreshold[], now: string): Promise<'done' | 'org_missing'> {
      return putBesideOrg(orgId, alertThresholdsKey(orgId), { thresholds: thresholds.map((threshold) => ({ ...threshold })), updatedAt: now });
    },

    async putAlertWebhook(webhook: AlertWebhook): Promise<'done' | 'org_missing'> {
      return putBesideOrg(webhook.orgId, alertWebhookKey(webhook.orgId), { webhook: { ...webhook } });
    },

    async getAlertWebhook(orgId: string): Promise<AlertWebhook | undefined> {
      const item = await table.getItem(alertWebhookKey(orgId));
      return item?.['webhook'] as AlertWebhook | undefined;
    },

    async deleteAlertWebhook(orgId: string): Promise<'deleted' | 'missing'> {
      const answer = await table.call(() => table.send(new DeleteCommand({ TableName: table.tableName, Key: alertWebhookKey(orgId), ReturnValues: 'ALL_OLD' })));
      return answer.Attributes ? 'deleted' : 'missing';
    },

    async getAlertThresholds(orgId: string): Promise<AlertThreshold[]> {
      const item = await table.getItem(alertThresholdsKey(orgId));
      return (item?.['thresholds'] as AlertThreshold[] | undefined) ?? [];
    },

    async recordAlertFiring(firing: AlertFiring): Promise<'added' | 'duplicate'> {
      // The conditional put is the once: a redelivered or crossing-again change finds the firing and adds none.
      try {
        await table.call(() =>
          table.send(
            new PutCommand({
              TableName: table.tableName,
              Item: { ...alertFiringKey(firing.orgId, firing.periodStart, firingId(firing)), entity: ALERT_FIRING_ENTITY, ...firing },
              ConditionExpression: CONDITIONS.itemIsNew,
              ExpressionAttributeNames: CONDITION_NAMES.itemIsNew,
            }),
          ),
        );
        return 'added';
      } catch (error) {
        if (!isConditionalCheckFailure(error)) throw error;
        return 'duplicate';
      }
    },

    async listAlertFirings(orgId: string, periodStart: string): Promise<AlertFiring[]> {
      const { items } = await table.query(alertFiringsQuery(orgId, periodStart));
      return items.map(alertFiringOf);
    },
  };
}

/** A firing as the table holds it (its item, or a stream record's new image); firings written before projections are thresholds'. */
export function alertFiringOf(item: Record<string, unknown>): AlertFiring {
  const milli = (name: string) => Number(item[name]) as MilliCu;
  const common = { orgId: String(item['orgId']), periodStart: String(item['periodStart']), firedAt: String(item['firedAt']), usageMilli: milli('usageMilli') };
  if (item['kind'] === 'projected_exhaustion') {
    return {
      ...common,
      kind: 'projected_exhaustion',
      resetsAt: String(item['resetsAt']),
      projectedAt: String(item['projectedAt']),
      limitMilli: milli('limitMilli'),
      remainingMilli: milli('remainingMilli'),
      milliPerDay: milli('milliPerDay'),
    };
  }
  return {
    ...common,
    kind: 'threshold',
    thresholdId: String(item['thresholdId']),
    scope: item['scope'] as AlertScope,
    level: item['level'] as AlertLevel,
    limitMilli: item['limitMilli'] === null || item['limitMilli'] === undefined ? null : milli('limitMilli'),
  };
}
