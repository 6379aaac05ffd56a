// Cost-alert webhooks: an org's optional endpoint, the addresses it may never point at (no SSRF), the bodies sent to
// it (JSON or Slack's incoming-webhook shape), how each delivery is signed and verified, and how a failed try is retried.

import { createHmac, timingSafeEqual } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { ValidationError } from './errors';

export const WEBHOOK_FORMATS = ['json', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** An org's webhook as stored: never its secret, which is derived from the signing key and `secretVersion`. */
export interface AlertWebhook {
  readonly orgId: string;
  readonly url: string;
  readonly format: WebhookFormat;
  /** Bumped by each rotation: the secret of version n stops verifying once n + 1 is issued. */
  readonly secretVersion: number;
  /** When the current secret was issued. */
  readonly secretCreatedAt: string;
  readonly updatedAt: string;
}

// ---- Which URLs a webhook may have -------------------------------------------------------------------------------

/** Why a URL is refused: the `reason` of the 400 (with field `url`). */
export type WebhookUrlRefusal = 'not_a_url' | 'not_https' | 'credentials_in_url' | 'refused_host' | 'refused_address';

/** Hosts that answer with cloud credentials or instance data, whatever they resolve to. */
export const METADATA_HOSTS: ReadonlySet<string> = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.com',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
  'metadata.platformequinix.com',
]);

/** The hosts the local flag lets a webhook reach over plain http: this machine's loopback, nothing else. */
const LOCAL_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface WebhookUrlRules {
  /** Local runner and tests only: http://127.0.0.1, http://localhost and http://[::1] are allowed too. */
  readonly allowLocal: boolean;
}

export function webhookUrlRefused(reason: WebhookUrlRefusal, message: string): ValidationError {
  return new ValidationError(message, 'url', 'validation_failed', { reason });
}

/** The host of a URL without IPv6 brackets, as an address parser takes it. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Whether the URL's host is this machine's loopback, which only the local flag lets through. */
export function isLocalWebhookHost(url: URL): boolean {
  return LOCAL_HOSTS.has(url.hostname);
}

/**
 * The URL, parsed, once it passes every rule that needs no DNS: https (plain http only to loopback under the local
 * flag), no user or password, not a metadata host, and a literal IP address only if it is public. The WHATWG parser
 * has already normalized decimal, octal and hex IPv4 forms (http://2130706433/ is 127.0.0.1), so they are caught too.
 * A hostname's addresses are checked again at each delivery, as DNS answers then (see isDeliverableAddress).
 */
export function checkWebhookUrl(text: string, rules: WebhookUrlRules): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw webhookUrlRefused('not_a_url', 'must be an absolute URL, such as https://hooks.example.com/cu-ledger');
  }
  const local = rules.allowLocal && isLocalWebhookHost(url);
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) throw webhookUrlRefused('not_https', 'must be an https:// URL');
  if (url.username !== '' || url.password !== '') throw webhookUrlRefused('credentials_in_url', 'must not carry a user name or password');
  if (local) return url;
  const host = bareHost(url).toLowerCase().replace(/\.$/, '');
  if (host === '' || METADATA_HOSTS.has(host) || host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) {
    throw webhookUrlRefused('refused_host', `must not name ${host || 'an empty host'}: metadata, local and internal hosts are refused`);
  }
  const refused = refusedLiteralAddress(url, rules);
  if (refused !== undefined) {
    throw webhookUrlRefused('refused_address', `must not point at ${refused}: private, loopback, link-local, metadata and reserved addresses are refused`);
  }
  return url;
}

/**
 * The URL's host when it is a literal address no webhook may reach; undefined for a name (DNS decides, at delivery)
 * or an allowed address. A connection to a literal address makes no DNS lookup, so this check stands in for it.
 */
export function refusedLiteralAddress(url: URL, rules: WebhookUrlRules): string | undefined {
  const host = bareHost(url);
  if (!ipaddr.isValid(host)) return undefined;
  return isDeliverableAddress(host, url, rules) ? undefined : host;
}

/**
 * Whether an address is public unicast: not private, loopback, link-local (169.254.169.254, the metadata service,
 * among them), carrier-grade NAT, unique-local, multicast, unspecified or reserved. An IPv4-mapped IPv6 address is
 * judged as the IPv4 address it carries, so ::ffff:10.0.0.1 is as private as 10.0.0.1.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

/** Whether a delivery may connect to an address DNS gave for the webhook's host (loopback only under the local flag). */
export function isDeliverableAddress(address: string, url: URL, rules: WebhookUrlRules): boolean {
  if (rules.allowLocal && isLocalWebhookHost(url)) return ipaddr.isValid(address) && ipaddr.parse(address).range() === 'loopback';
  return isPublicAddress(address);
}

// ---- The per-org secret and the signature ------------------------------------------------------------------------

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/**
 * An org's signing secret: an HMAC of the org and the secret's version under the service's signing key, so the table
 * holds no secret and a rotation is a version bump. Rotating the signing key itself changes every org's secret.
 */
export function webhookSecret(signingKey: Uint8Array, orgId: string, secretVersion: number): string {
  const derived = createHmac('sha256', signingKey).update(`cu-ledger-webhook\u0000${orgId}\u0000${secretVersion}`).digest('base64url');
  return `${WEBHOOK_SECRET_PREFIX}${derived}`;
}

/** The first characters of a secret, to tell which one a receiver holds. */
export function webhookSecretHint(secret: string): string {
  return secret.slice(0, WEBHOOK_SECRET_PREFIX.length + 4);
}

export const WEBHOOK_HEADERS = {
  timestamp: 'x-cu-ledger-timestamp',
  signature: 'x-cu-ledger-signature',
  delivery: 'x-cu-ledger-delivery',
  event: 'x-cu-ledger-event',
} as const;

/** How far a delivery's timestamp may be from the receiver's clock: older ones are refused as replays. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** `v1=` and the hex HMAC-SHA256 of `<timestamp>.<body>` under the org's secret. */
export function signDelivery(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

export interface SignedDelivery {
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly body: string;
}

/** Whether a delivery is signed by `secret` within the tolerance of `nowSeconds` (the receiver's side, as the README shows it). */
export function verifyDelivery(secret: string, delivery: SignedDelivery, nowSeconds: number, toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS): boolean {
  const { timestamp, signature, body } = delivery;
  if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signDelivery(secret, Number(timestamp), body));
  const presented = Buffer.from(signature);
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}

// ---- What is delivered -------------------------------------------------------------------------------------------

/** An alert as the bus carries it: its detail-type, its time and detail (with its eventId). */
export interface AlertNotice {
  readonly detailType: string;
  readonly time: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** The delivery id, for the receiver's dedupe: the alert's own eventId, the same on every retry and redelivery. */
export function deliveryId(notice: AlertNotice): string {
  return String(notice.detail['eventId']);
}

/** The request body in the webhook's format. */
export function webhookBody(notice: AlertNotice, format: WebhookFormat): string {
  if (format === 'json') return JSON.stringify({ id: deliveryId(notice), type: notice.detailType, time: notice.time, detail: notice.detail });
  return JSON.stringify({ text: slackText(notice) });
}

/**
 * One readable line for a person in Slack; the JSON format carries every field for machines. Told apart by their
 * detail's fields: a projection names when the allowance runs out, a crossing names its threshold.
 */
function slackText(notice: AlertNotice): string {
  const detail = notice.detail as Record<string, any>;
  const org = `Org \`${detail['orgId']}\``;
  if (detail['projectedAt'] !== undefined) {
    return `:hourglass: ${org} is projected to use up its ${detail['limitCu']} CU by ${detail['projectedAt']} (${detail['usageCu']} CU used, ${detail['remainingCu']} CU left, about ${detail['cuPerDay']} CU a day; the period resets ${detail['resetsAt']}).`;
  }
  if (detail['threshold'] !== undefined) {
    const threshold = detail['threshold'];
    const level = threshold.percent !== undefined ? `${threshold.percent}% (${threshold.levelCu} CU)` : `${threshold.levelCu} CU`;
    const scope = detail['scope']?.kind === 'org' || detail['scope'] === undefined ? 'the org pool' : `${detail['scope'].kind} \`${detail['scope'].id}\``;
    return `:warning: ${org} crossed cost alert \`${threshold.id}\` at ${level} on ${scope}: ${detail['usageCu']} of ${detail['limitCu']} CU used in the period that started ${detail['periodStart']}.`;
  }
  return `${org}: ${notice.detailType}`;
}

// ---- Retries -----------------------------------------------------------------------------------------------------

/** A status worth another try: the receiver is down or asks to slow down. Any other 4xx will answer the same again. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}
