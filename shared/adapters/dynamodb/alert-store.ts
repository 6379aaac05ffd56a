// The alert port on DynamoDB: an org's thresholds in one item beside the org's, and one item per firing.

import type { AlertFiring, AlertThreshold } from '../../domain/cost-alerts';
import type { MilliCu } from '../../domain/compute-units';
import type { AlertStore } from '../../ports/alert-store';
import { alertFiringsQuery, alertThresholdsKey, orgKey } from './ledger-table';
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

    async listAlertFirings(orgId: string, periodStart: string): Promise<AlertFiring[]> {
      const { items } = await table.query(alertFiringsQuery(orgId, periodStart));
      return items.map((item) => ({
        thresholdId: String(item['thresholdId']),
        periodStart: String(item['periodStart']),
        firedAt: String(item['firedAt']),
        usageMilli: Number(item['usageMilli']) as MilliCu,
        limitMilli: Number(item['limitMilli']) as MilliCu,
      }));
    },
  };
}
