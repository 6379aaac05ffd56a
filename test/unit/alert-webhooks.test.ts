// Cost-alert webhooks without a network: the signature (signed, verified, refused when tampered with, stale or under
// another secret), the per-org secret, the SSRF rules for URLs and resolved addresses, the two body formats, the
// delivery's retries (what is retried, what is not, when it gives up), and the signing key read from Secrets Manager
// (mocked) by the same port the local file adapter implements.

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type { LookupAddress } from 'node:dns';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { guardedLookup, httpsWebhookSender } from '../../shared/adapters/http/webhook-sender';
import { localPepper } from '../../shared/adapters/local/file-key-store';
import { webhookSigningKey, webhookUrlRules } from '../../shared/composition';
import {
  checkWebhookUrl,
  isPublicAddress,
  signDelivery,
  verifyDelivery,
  webhookBody,
  webhookSecret,
  webhookSecretHint,
  type AlertNotice,
  type AlertWebhook,
} from '../../shared/domain/alert-webhooks';
import { ValidationError } from '../../shared/domain/errors';
import { WebhookAddressRefusedError, type WebhookRequest, type WebhookSender } from '../../shared/ports/webhook-sender';
import { deliverAlert, WebhookDeliveryError, type DeliveryDependencies } from '../../shared/use-cases/alert-webhooks';

const SECRET = 'whsec_test';
const NOW = 1_795_000_000;

describe('the delivery signature', () => {
  const body = '{"id":"alert:org-1:2026-03-15T00:00:00.000Z:half"}';
  const signed = { timestamp: String(NOW), signature: signDelivery(SECRET, NOW, body), body };

  it('verifies a delivery signed with the secret, within the tolerance either way', () => {
    expect(signed.signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyDelivery(SECRET, signed, NOW)).toBe(true);
    expect(verifyDelivery(SECRET, signed, NOW + 300)).toBe(true);
    expect(verifyDelivery(SECRET, signed, NOW - 300)).toBe(true);
  });

  it('refuses a tampered body, a changed timestamp, another secret, a stale delivery and a malformed header', () => {
    expect(verifyDelivery(SECRET, { ...signed, body: body.replace('half', 'full') }, NOW)).toBe(false);
    expect(verifyDelivery(SECRET, { ...signed, timestamp: String(NOW + 1) }, NOW)).toBe(false);
    expect(verifyDelivery('whsec_other', signed, NOW)).toBe(false);
    expect(verifyDelivery(SECRET, signed, NOW + 301)).toBe(false);
    expect(verifyDelivery(SECRET, { ...signed, signature: signed.signature.slice(0, -1) }, NOW)).toBe(false);
    expect(verifyDelivery(SECRET, { ...signed, signature: undefined }, NOW)).toBe(false);
    expect(verifyDelivery(SECRET, { ...signed, timestamp: '1e9' }, NOW)).toBe(false);
  });

  it("derives each org's secret from the signing key, the org and the version: another org or a rotation gets another", () => {
    const key = Buffer.from('signing-key');
    const first = webhookSecret(key, 'org-1', 1);
    expect(first).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(webhookSecret(key, 'org-1', 1)).toBe(first);
    expect(webhookSecret(key, 'org-2', 1)).not.toBe(first);
    expect(webhookSecret(key, 'org-1', 2)).not.toBe(first);
    expect(webhookSecret(Buffer.from('another key'), 'org-1', 1)).not.toBe(first);
    expect(webhookSecretHint(first)).toBe(first.slice(0, 10));
  });
});

describe('webhook URLs (no SSRF)', () => {
  const strict = { allowLocal: false };
  const local = { allowLocal: true };
  const reasonOf = (url: string, rules = strict) => {
    try {
      checkWebhookUrl(url, rules);
      return 'accepted';
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('url');
      return (error as ValidationError).details['reason'];
    }
  };

  it.each([
    ['https://hooks.slack.com/services/T0/B0/x', 'accepted'],
    ['https://hooks.example.com:8443/cu-ledger?team=1', 'accepted'],
    ['https://8.8.8.8/hook', 'accepted'],
    ['https://[2606:4700:4700::1111]/hook', 'accepted'],
    ['not a url', 'not_a_url'],
    ['/relative/path', 'not_a_url'],
    ['http://hooks.example.com/', 'not_https'],
    ['ftp://hooks.example.com/', 'not_https'],
    ['file:///etc/passwd', 'not_https'],
    ['https://user:pass@hooks.example.com/', 'credentials_in_url'],
    ['https://token@hooks.example.com/', 'credentials_in_url'],
    ['https://metadata.google.internal/computeMetadata/v1/', 'refused_host'],
    ['https://METADATA.GOOGLE.INTERNAL./', 'refused_host'],
    ['https://metadata/', 'refused_host'],
    ['https://instance-data.ec2.internal/', 'refused_host'],
    ['https://localhost/', 'refused_host'],
    ['https://api.localhost/', 'refused_host'],
    ['https://169.254.169.254/latest/meta-data/', 'refused_address'],
    ['https://169.254.170.2/v2/credentials', 'refused_address'],
    ['https://127.0.0.1/', 'refused_address'],
    ['https://10.1.2.3/', 'refused_address'],
    ['https://172.16.0.1/', 'refused_address'],
    ['https://192.168.1.1/', 'refused_address'],
    ['https://100.64.0.1/', 'refused_address'],
    ['https://0.0.0.0/', 'refused_address'],
    ['https://224.0.0.1/', 'refused_address'],
    ['https://255.255.255.255/', 'refused_address'],
    ['https://192.0.2.1/', 'refused_address'],
    // Forms the URL parser turns into 127.0.0.1 and 169.254.169.254: decimal, hex, octal, short.
    ['https://2130706433/', 'refused_address'],
    ['https://0x7f000001/', 'refused_address'],
    ['https://0177.0.0.1/', 'refused_address'],
    ['https://127.1/', 'refused_address'],
    ['https://2852039166/', 'refused_address'],
    ['https://[::1]/', 'refused_address'],
    ['https://[::]/', 'refused_address'],
    ['https://[fe80::1]/', 'refused_address'],
    ['https://[fd00::1]/', 'refused_address'],
    ['https://[ff02::1]/', 'refused_address'],
    ['https://[::ffff:127.0.0.1]/', 'refused_address'],
    ['https://[::ffff:169.254.169.254]/', 'refused_address'],
    ['https://[::ffff:a00:1]/', 'refused_address'],
    ['https://[fd00:ec2::254]/', 'refused_address'],
  ])('%s: %s', (url, reason) => {
    expect(reasonOf(url)).toBe(reason);
  });

  it('lets the local flag through to plain http on loopback only, and nowhere else', () => {
    expect(reasonOf('http://127.0.0.1:4000/hook', local)).toBe('accepted');
    expect(reasonOf('http://localhost:4000/hook', local)).toBe('accepted');
    expect(reasonOf('http://127.0.0.1:4000/hook', strict)).toBe('not_https');
    expect(reasonOf('http://10.0.0.1/hook', local)).toBe('not_https');
    expect(reasonOf('https://169.254.169.254/', local)).toBe('refused_address');
    expect(reasonOf('http://user:pw@127.0.0.1/', local)).toBe('credentials_in_url');
  });

  it('never honours the local flag on Lambda', () => {
    expect(webhookUrlRules({ CU_LEDGER_ALLOW_LOCAL_WEBHOOKS: '1' })).toEqual({ allowLocal: true });
    expect(webhookUrlRules({ CU_LEDGER_ALLOW_LOCAL_WEBHOOKS: '1', AWS_LAMBDA_FUNCTION_NAME: 'cu-ledger-dev-alert-webhook' })).toEqual({ allowLocal: false });
    expect(webhookUrlRules({})).toEqual({ allowLocal: false });
  });

  it.each([
    ['93.184.216.34', true],
    ['2606:4700:4700::1111', true],
    ['::ffff:93.184.216.34', true],
    ['10.0.0.1', false],
    ['169.254.169.254', false],
    ['100.100.100.200', false],
    ['::ffff:10.0.0.1', false],
    ['fc00::1', false],
    ['64:ff9b::1', false],
    ['2001:db8::1', false],
    ['not-an-address', false],
  ])('address %s is public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe('the address guard at delivery', () => {
  const resolvingTo = (...addresses: string[]) =>
    ((_host: string, _options: unknown, callback: (error: null, addresses: LookupAddress[]) => void) =>
      callback(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })))) as never;

  it('refuses a host when any address DNS gives is not public, as a rebinding host would', async () => {
    const url = new URL('https://rebind.example.com/hook');
    const answer = (lookup: ReturnType<typeof guardedLookup>) =>
      new Promise<unknown>((done) => lookup('rebind.example.com', { all: true }, (error, addresses) => done(error ?? addresses)));
    expect(await answer(guardedLookup(url, { allowLocal: false }, resolvingTo('93.184.216.34', '10.0.0.7')))).toBeInstanceOf(WebhookAddressRefusedError);
    expect(await answer(guardedLookup(url, { allowLocal: false }, resolvingTo('::ffff:169.254.169.254')))).toBeInstanceOf(WebhookAddressRefusedError);
    expect(await answer(guardedLookup(url, { allowLocal: false }, resolvingTo('93.184.216.34')))).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });

  const servers: ReturnType<typeof createServer>[] = [];
  afterEach(() => servers.splice(0).forEach((server) => server.close()));

  it('makes no connection at all to a host that resolves to loopback, nor to a literal private address', async () => {
    let connections = 0;
    const server = createServer(() => void (connections += 1));
    servers.push(server);
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', () => listening()));
    const { port } = server.address() as { port: number };
    const sender = httpsWebhookSender({ allowLocal: false }, resolvingTo('127.0.0.1'));
    const request = { headers: {}, body: '{}', timeoutMs: 2_000 };
    await expect(sender.post({ ...request, url: `https://hooks.example.com:${port}/` })).rejects.toBeInstanceOf(WebhookAddressRefusedError);
    await expect(sender.post({ ...request, url: `https://127.0.0.1:${port}/` })).rejects.toBeInstanceOf(WebhookAddressRefusedError);
    expect(connections).toBe(0);
  });
});

const thresholdNotice: AlertNotice = {
  detailType: 'UsageThresholdCrossed',
  time: '2026-03-20T10:00:00.000Z',
  detail: {
    eventId: 'alert:org-1:2026-03-15T00:00:00.000Z:half',
    orgId: 'org-1',
    scope: { kind: 'org' },
    threshold: { id: 'half', percent: 50, levelCu: 10 },
    usageCu: 10.5,
    limitCu: 20,
    periodStart: '2026-03-15T00:00:00.000Z',
    crossedAt: '2026-03-20T10:00:00.000Z',
  },
};
const exhaustionNotice: AlertNotice = {
  detailType: 'ProjectedExhaustion',
  time: '2026-03-20T10:00:00.000Z',
  detail: {
    eventId: 'projected:org-1:2026-03-15',
    orgId: 'org-1',
    periodStart: '2026-03-15T00:00:00.000Z',
    resetsAt: '2026-04-15T00:00:00.000Z',
    projectedAt: '2026-04-02T00:00:00.000Z',
    usageCu: 12,
    limitCu: 20,
    remainingCu: 8,
    cuPerDay: 0.6,
    evaluatedAt: '2026-03-20T10:00:00.000Z',
  },
};

describe('webhook bodies', () => {
  it('sends JSON with the id, type, time and the whole detail', () => {
    expect(JSON.parse(webhookBody(thresholdNotice, 'json'))).toEqual({
      id: 'alert:org-1:2026-03-15T00:00:00.000Z:half',
      type: 'UsageThresholdCrossed',
      time: '2026-03-20T10:00:00.000Z',
      detail: thresholdNotice.detail,
    });
    expect(JSON.parse(webhookBody(exhaustionNotice, 'json'))).toMatchObject({ id: 'projected:org-1:2026-03-15', type: 'ProjectedExhaustion', detail: exhaustionNotice.detail });
  });

  it("sends Slack's incoming-webhook body: one readable line naming the org, the alert and the numbers", () => {
    const crossed = JSON.parse(webhookBody(thresholdNotice, 'slack'));
    expect(Object.keys(crossed)).toEqual(['text']);
    expect(crossed.text).toContain('`org-1`');
    expect(crossed.text).toContain('`half` at 50% (10 CU) on the org pool');
    expect(crossed.text).toContain('10.5 of 20 CU');
    const projected = JSON.parse(webhookBody(exhaustionNotice, 'slack')).text;
    expect(projected).toContain('projected to use up its 20 CU by 2026-04-02T00:00:00.000Z');
    expect(projected).toContain('8 CU left');
    const member = JSON.parse(webhookBody({ ...thresholdNotice, detail: { ...thresholdNotice.detail, scope: { kind: 'member', id: 'ana' } } }, 'slack')).text;
    expect(member).toContain('on member `ana`');
  });
});

describe('delivering an alert', () => {
  const webhook: AlertWebhook = { orgId: 'org-1', url: 'https://hooks.example.com/cu', format: 'json', secretVersion: 3, secretCreatedAt: '2026-03-01T00:00:00.000Z', updatedAt: '2026-03-01T00:00:00.000Z' };
  const signingKey = localPepper(undefined);

  /** A sender that answers with the given statuses (or throws the given errors) in turn, and records each request. */
  function scripted(...answers: (number | Error)[]) {
    const requests: WebhookRequest[] = [];
    const sender: WebhookSender = {
      async post(request) {
        requests.push(request);
        const answer = answers[Math.min(requests.length, answers.length) - 1]!;
        if (answer instanceof Error) throw answer;
        return { status: answer };
      },
    };
    return { sender, requests };
  }

  const deps = (sender: WebhookSender, found: AlertWebhook | null = webhook): DeliveryDependencies => ({
    store: { getAlertWebhook: async () => found ?? undefined },
    clock: { now: () => new Date(NOW * 1000) },
    signingKey,
    sender,
    urlRules: { allowLocal: false },
    policy: { attempts: 4, baseDelayMs: 1, maxDelayMs: 2, timeoutMs: 1_000 },
  });

  it("signs each try with the org's current secret, and names the alert for dedupe", async () => {
    const { sender, requests } = scripted(200);
    expect(await deliverAlert(thresholdNotice, deps(sender))).toEqual({ outcome: 'delivered', status: 200, attempts: 1 });
    const [request] = requests;
    const secret = webhookSecret((await signingKey.current()).value, 'org-1', 3);
    expect(request!.url).toBe('https://hooks.example.com/cu');
    expect(request!.headers['x-cu-ledger-delivery']).toBe(thresholdNotice.detail['eventId']);
    expect(request!.headers['x-cu-ledger-event']).toBe('UsageThresholdCrossed');
    expect(verifyDelivery(secret, { timestamp: request!.headers['x-cu-ledger-timestamp'], signature: request!.headers['x-cu-ledger-signature'], body: request!.body }, NOW)).toBe(true);
    expect(verifyDelivery(webhookSecret((await signingKey.current()).value, 'org-1', 2), { timestamp: request!.headers['x-cu-ledger-timestamp'], signature: request!.headers['x-cu-ledger-signature'], body: request!.body }, NOW)).toBe(false);
  });

  it('does nothing for an org without a webhook', async () => {
    const { sender, requests } = scripted(200);
    expect(await deliverAlert(thresholdNotice, deps(sender, null))).toEqual({ outcome: 'no_webhook' });
    expect(requests).toEqual([]);
  });

  it('retries 5xx, 429, 408 and network failures, and delivers on the try that succeeds', async () => {
    const { sender, requests } = scripted(503, 429, new Error('ECONNRESET'), 408, 204);
    await expect(deliverAlert(thresholdNotice, deps(sender))).rejects.toBeInstanceOf(WebhookDeliveryError);
    expect(requests).toHaveLength(4);
    const again = scripted(500, new Error('timeout'), 200);
    expect(await deliverAlert(thresholdNotice, deps(again.sender))).toEqual({ outcome: 'delivered', status: 200, attempts: 3 });
  });

  it('does not retry a 4xx that would answer the same again, nor a redirect', async () => {
    for (const status of [400, 401, 404, 410, 301]) {
      const { sender, requests } = scripted(status, 200);
      expect(await deliverAlert(thresholdNotice, deps(sender))).toEqual({ outcome: 'rejected', status, attempts: 1 });
      expect(requests).toHaveLength(1);
    }
  });

  it('throws after the last try, naming the last failure, so the trigger retries the run and dead-letters it', async () => {
    const { sender, requests } = scripted(500);
    await expect(deliverAlert(thresholdNotice, deps(sender))).rejects.toThrow(/failed 4 times; the last: HTTP 500/);
    expect(requests).toHaveLength(4);
  });

  it('gives up at once, without retrying, when the host resolves to a refused address', async () => {
    const { sender, requests } = scripted(new WebhookAddressRefusedError('hooks.example.com', '10.0.0.1'));
    await expect(deliverAlert(thresholdNotice, deps(sender))).rejects.toBeInstanceOf(WebhookAddressRefusedError);
    expect(requests).toHaveLength(1);
  });

  it('refuses a stored URL that the rules refuse now, before any request', async () => {
    const { sender, requests } = scripted(200);
    await expect(deliverAlert(thresholdNotice, deps(sender, { ...webhook, url: 'https://169.254.169.254/' }))).rejects.toMatchObject({ field: 'url' });
    expect(requests).toEqual([]);
  });
});

describe('the signing key on Secrets Manager', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  afterEach(() => secretsManager.reset());

  it('reads the secret the stack names, once, and derives the same org secret from it on every call', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cu-ledger/dev/webhook-signing-key-AbCdEf';
    secretsManager.on(GetSecretValueCommand, { SecretId: arn }).resolves({ SecretString: 'k'.repeat(64), VersionId: 'v1' });
    const key = webhookSigningKey({ WEBHOOK_SIGNING_KEY_ARN: arn });
    const first = webhookSecret((await key.current()).value, 'org-1', 1);
    const second = webhookSecret((await key.current()).value, 'org-1', 1);
    expect(second).toBe(first);
    expect(first).toBe(webhookSecret(Buffer.from('k'.repeat(64)), 'org-1', 1));
    expect(secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input.SecretId)).toEqual([arn]);
  });
});
