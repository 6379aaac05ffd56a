// Cost-alert webhooks: an org's endpoint set, read and removed (the secret shown once), and the delivery of an alert
// from the bus to it, signed, retried with backoff, and failed loudly after the last try so the trigger's own retries
// and dead-letter queue take over. Delivery runs off the bus, never on the metering path.

import {
  checkWebhookUrl,
  deliveryId,
  isRetryableStatus,
  signDelivery,
  webhookBody,
  webhookSecret,
  webhookSecretHint,
  WEBHOOK_HEADERS,
  type AlertNotice,
  type AlertWebhook,
  type WebhookFormat,
  type WebhookUrlRules,
} from '../domain/alert-webhooks';
import { alertWebhookNotFound, orgNotFound } from '../domain/errors';
import type { AlertWebhookStore } from '../ports/alert-webhook-store';
import type { PepperSource } from '../ports/analytics-keys';
import type { Clock } from '../ports/runtime';
import { WebhookAddressRefusedError, type WebhookSender } from '../ports/webhook-sender';
import { PROJECTED_EXHAUSTION, USAGE_THRESHOLD_CROSSED } from './cost-alerts';
import { backoff, withStoreRetries, type RetryPolicy } from './store-retry';

/** The alerts a webhook receives: a threshold crossed, and the pool's projected exhaustion. */
export const WEBHOOK_ALERT_TYPES = [USAGE_THRESHOLD_CROSSED, PROJECTED_EXHAUSTION] as const;

/**
 * The service's webhook signing key: a secret of its own, read like the analytics-key pepper (the same port and
 * adapters: Secrets Manager on AWS, a file under the data folder locally). Only its current version is used.
 */
export type WebhookSigningKey = PepperSource;

export interface WebhookConfigDependencies {
  readonly store: AlertWebhookStore;
  readonly clock: Clock;
  readonly signingKey: WebhookSigningKey;
  readonly urlRules: WebhookUrlRules;
}

export interface WebhookView {
  readonly webhook: AlertWebhook;
  readonly secretHint: string;
  /** Only in the answer that issued it: a new webhook, or a rotation. */
  readonly secret?: string;
}

async function secretOf(webhook: AlertWebhook, signingKey: WebhookSigningKey): Promise<string> {
  return webhookSecret((await signingKey.current()).value, webhook.orgId, webhook.secretVersion);
}

/**
 * Sets an org's webhook:
 * 1. refuses a URL that is not https, carries credentials, or names a metadata host or a non-public address;
 * 2. keeps the secret of an existing webhook, unless asked to rotate it (a new version); a new webhook gets version 1;
 * 3. writes the webhook while the org exists, and answers it, with the secret only when this call issued it.
 */
export async function setAlertWebhook(
  request: { orgId: string; url: string; format: WebhookFormat; rotateSecret: boolean },
  deps: WebhookConfigDependencies,
): Promise<WebhookView> {
  const url = checkWebhookUrl(request.url, deps.urlRules).href;
  const now = deps.clock.now().toISOString();
  const existing = await withStoreRetries(() => deps.store.getAlertWebhook(request.orgId));
  const issues = existing === undefined || request.rotateSecret;
  const webhook: AlertWebhook = {
    orgId: request.orgId,
    url,
    format: request.format,
    secretVersion: issues ? (existing?.secretVersion ?? 0) + 1 : existing.secretVersion,
    secretCreatedAt: issues ? now : existing.secretCreatedAt,
    updatedAt: now,
  };
  const outcome = await withStoreRetries(() => deps.store.putAlertWebhook(webhook));
  if (outcome === 'org_missing') throw orgNotFound(request.orgId);
  const secret = await secretOf(webhook, deps.signingKey);
  return { webhook, secretHint: webhookSecretHint(secret), ...(issues ? { secret } : {}) };
}

/** An org's webhook, with its secret's hint (never the secret); 404 when it has none. */
export async function readAlertWebhook(orgId: string, deps: Pick<WebhookConfigDependencies, 'store' | 'signingKey'>): Promise<WebhookView> {
  const webhook = await withStoreRetries(() => deps.store.getAlertWebhook(orgId));
  if (!webhook) throw alertWebhookNotFound(orgId);
  return { webhook, secretHint: webhookSecretHint(await secretOf(webhook, deps.signingKey)) };
}

/** Removes an org's webhook; whether there was one (removing none changes nothing, so a retried DELETE is no error). */
export async function removeAlertWebhook(orgId: string, deps: Pick<WebhookConfigDependencies, 'store'>): Promise<boolean> {
  return (await withStoreRetries(() => deps.store.deleteAlertWebhook(orgId))) === 'deleted';
}

/** Tries within one run, and how long each may take: short, as a run holds a job Lambda (and the trigger retries runs). */
export interface DeliveryPolicy extends RetryPolicy {
  readonly timeoutMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 8_000, timeoutMs: 5_000 };

export interface DeliveryDependencies {
  readonly store: Pick<AlertWebhookStore, 'getAlertWebhook'>;
  readonly clock: Clock;
  readonly signingKey: WebhookSigningKey;
  readonly sender: WebhookSender;
  readonly urlRules: WebhookUrlRules;
  readonly policy?: DeliveryPolicy;
}

export type DeliveryOutcome =
  | { readonly outcome: 'no_webhook' }
  | { readonly outcome: 'delivered'; readonly status: number; readonly attempts: number }
  /** The receiver answered a 4xx that no retry would change (a wrong path, a signature it refuses): logged, not retried. */
  | { readonly outcome: 'rejected'; readonly status: number; readonly attempts: number };

/** The run failed after its last try: thrown, so the trigger retries the run and finally dead-letters the alert. */
export class WebhookDeliveryError extends Error {
  constructor(readonly orgId: string, readonly attempts: number, readonly lastFailure: string) {
    super(`The cost-alert webhook of org ${orgId} failed ${attempts} times; the last: ${lastFailure}.`);
    this.name = 'WebhookDeliveryError';
  }
}

/**
 * Delivers an alert to its org's webhook:
 * 1. reads the org's webhook (none: done);
 * 2. checks its URL again (the rules may have tightened since it was set), builds the body in its format and signs
 *    it with the org's current secret and the time of each try;
 * 3. POSTs it, and retries a network failure, a timeout, a 5xx, 408 or 429 with exponential backoff and jitter;
 * 4. throws after the last try (WebhookDeliveryError), and at once for an address no webhook may reach.
 * Every try carries the alert's eventId, so a receiver drops the repeats a retry or a redelivery sends.
 */
export async function deliverAlert(notice: AlertNotice, deps: DeliveryDependencies): Promise<DeliveryOutcome> {
  const orgId = String(notice.detail['orgId']);
  const webhook = await withStoreRetries(() => deps.store.getAlertWebhook(orgId));
  if (!webhook) return { outcome: 'no_webhook' };
  const url = checkWebhookUrl(webhook.url, deps.urlRules).href;
  const policy = deps.policy ?? DEFAULT_DELIVERY_POLICY;
  const secret = await secretOf(webhook, deps.signingKey);
  const body = webhookBody(notice, webhook.format);
  let lastFailure = '';
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    if (attempt > 1) await backoff(attempt - 2, policy);
    const timestamp = Math.floor(deps.clock.now().getTime() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'CU-Ledger-Webhook/1',
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.signature]: signDelivery(secret, timestamp, body),
      [WEBHOOK_HEADERS.delivery]: deliveryId(notice),
      [WEBHOOK_HEADERS.event]: notice.detailType,
    };
    try {
      const { status } = await deps.sender.post({ url, headers, body, timeoutMs: policy.timeoutMs });
      if (status >= 200 && status < 300) return { outcome: 'delivered', status, attempts: attempt };
      if (!isRetryableStatus(status)) return { outcome: 'rejected', status, attempts: attempt };
      lastFailure = `HTTP ${status}`;
    } catch (error) {
      if (error instanceof WebhookAddressRefusedError) throw error;
      lastFailure = (error as Error | undefined)?.message ?? String(error);
    }
  }
  throw new WebhookDeliveryError(orgId, policy.attempts, lastFailure);
}
