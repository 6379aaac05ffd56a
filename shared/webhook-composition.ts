// The alert-webhook job's composition root: the webhook's item, the signing key, and the https sender. Apart from the
// API's (composition.ts) so that only the delivery function bundles the sender.

import { httpsWebhookSender } from './adapters/http/webhook-sender';
import { processDependencies, webhookSigningKey, webhookUrlRules } from './composition';
import type { DeliveryDependencies } from './use-cases/alert-webhooks';

/** What a delivery needs, from the environment (the local runner's flag and signing key locally). */
export function webhookDeliveryDependencies(): DeliveryDependencies {
  const { store, clock } = processDependencies();
  const urlRules = webhookUrlRules();
  return { store, clock, signingKey: webhookSigningKey(), sender: httpsWebhookSender(urlRules), urlRules };
}
