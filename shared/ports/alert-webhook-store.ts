// The port an org's cost-alert webhook needs: its one configuration item (the secret itself is never stored).

import type { AlertWebhook } from '../domain/alert-webhooks';

export interface AlertWebhookStore {
  /** Writes the org's webhook, only while the org exists: 'org_missing' when there is no such org. */
  putAlertWebhook(webhook: AlertWebhook): Promise<'done' | 'org_missing'>;
  /** The org's webhook; undefined when it has none. */
  getAlertWebhook(orgId: string): Promise<AlertWebhook | undefined>;
  /** Removes the org's webhook: 'missing' when it had none. */
  deleteAlertWebhook(orgId: string): Promise<'deleted' | 'missing'>;
}
