// The port cost alerts need: an org's thresholds, and what fired in a period.

import type { AlertFiring, AlertThreshold } from '../domain/cost-alerts';

export interface AlertStore {
  /** Replaces the org's thresholds; 'org_missing' when there is no such org. */
  putAlertThresholds(orgId: string, thresholds: readonly AlertThreshold[], now: string): Promise<'done' | 'org_missing'>;
  /** The org's thresholds; none when it never set any. */
  getAlertThresholds(orgId: string): Promise<AlertThreshold[]>;
  /** Records a firing, once per threshold and period: 'duplicate' when that threshold already fired in that period. */
  recordAlertFiring(firing: AlertFiring): Promise<'added' | 'duplicate'>;
  /** What fired in the period that starts on `periodStart`. */
  listAlertFirings(orgId: string, periodStart: string): Promise<AlertFiring[]>;
}
