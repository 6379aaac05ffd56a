// The alert port on DynamoDB: an org's thresholds in one item beside the org's, and one item per firing.

import type { AlertFiring, AlertThreshold } from '../../domain/cost-alerts';
import type { MilliCu } from '../../domain/compute-units';
import type { AlertStore } from '../../ports/alert-store';
import { isConditionalCheckFailure } from './sdk-errors';
import { ALERT_FIRING_ENTITY, CONDITIONS, CONDITION_NAMES, alertFiringKey, alertFiringsQuery, alertThresholdsKey, orgKey } from './ledger-table';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LedgerTableAccess } from './table-access';

export function dynamoDbAlertStore(table: LedgerTableAccess): AlertStore {
  return {
    async putAlertThresholds(orgId: string, thresholds: readonly AlertThreshold[], now: string): Promise<'done' | 'org_missing'> {
      // Written only while the org exists, so no thresholds outlive (or precede) their org.
      const cancelled = await table.transact([
        { role: 'org', key: orgKey(orgId), write: { check: true }, condition: { name: 'itemExists' } },
        { role: 'alerts', key: alertThresholdsKey(orgId), write: { put: { thresholds: thresholds.map((threshold) => ({ ...threshold })), updatedAt: now } } },
      ]);
      if (cancelled?.failed('org')) return 'org_missing';
      if (cancelled) throw cancelled.asError();
      return 'done';
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
              Item: { ...alertFiringKey(firing.orgId, firing.periodStart, firing.thresholdId), entity: ALERT_FIRING_ENTITY, ...firing },
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

/** A firing as the table holds it (its item, or a stream record's new image). */
export function alertFiringOf(item: Record<string, unknown>): AlertFiring {
  return {
    orgId: String(item['orgId']),
    thresholdId: String(item['thresholdId']),
    scope: item['scope'] as AlertFiring['scope'],
    level: item['level'] as AlertFiring['level'],
    periodStart: String(item['periodStart']),
    firedAt: String(item['firedAt']),
    usageMilli: Number(item['usageMilli']) as MilliCu,
    limitMilli: Number(item['limitMilli']) as MilliCu,
  };
}
