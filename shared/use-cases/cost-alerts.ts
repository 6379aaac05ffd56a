// Cost alerts' settings: an org's thresholds, set as a whole list and read back with what fired this period.

import { termsAt, type BillingTerms } from '../domain/billing-terms';
import { checkThresholds, type AlertFiring, type AlertThreshold } from '../domain/cost-alerts';
import { orgNotFound } from '../domain/errors';
import type { AdminStore } from '../ports/admin-store';
import type { AlertStore } from '../ports/alert-store';
import type { Clock } from '../ports/runtime';
import { withStoreRetries } from './store-retry';
import { readOrg } from './usage-views';

export interface AlertDependencies {
  readonly store: AdminStore & AlertStore;
  readonly clock: Clock;
}

export interface AlertsView {
  readonly thresholds: AlertThreshold[];
  readonly terms: BillingTerms;
  readonly fired: AlertFiring[];
}

/**
 * Replaces an org's thresholds:
 * 1. refuses a list whose ids repeat (each id keys its firing);
 * 2. writes the list while the org exists;
 * 3. answers with the list and what fired this period: a threshold kept under its id stays fired, a new one is armed.
 */
export async function setAlertThresholds(orgId: string, thresholds: readonly AlertThreshold[], deps: AlertDependencies): Promise<AlertsView> {
  checkThresholds(thresholds);
  const outcome = await withStoreRetries(() => deps.store.putAlertThresholds(orgId, thresholds, deps.clock.now().toISOString()));
  if (outcome === 'org_missing') throw orgNotFound(orgId);
  return readAlerts(orgId, deps);
}

/** An org's thresholds, with the current period and what fired in it. */
export async function readAlerts(orgId: string, deps: AlertDependencies): Promise<AlertsView> {
  const org = await readOrg(orgId, deps);
  const terms = termsAt(org, deps.clock.now());
  const [thresholds, fired] = await Promise.all([
    withStoreRetries(() => deps.store.getAlertThresholds(orgId)),
    withStoreRetries(() => deps.store.listAlertFirings(orgId, terms.period.id)),
  ]);
  return { thresholds, terms, fired };
}
