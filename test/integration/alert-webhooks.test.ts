// Cost-alert webhooks on DynamoDB Local, through the deployed handlers: the config routes (the secret shown once,
// rotation, its own item, the callers let in, bad URLs refused with nothing stored), and deliveries from the real
// table stream through the local bus to an HTTP server on 127.0.0.1: signed so the README's verifier accepts them,
// retried and dead-lettered when the server fails while consumes go on undelayed, and refused before any connection
// when the host resolves to a private address.

import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { alertRoutes, type AlertRouteDependencies } from '../../functions/alerts/alerts.handler';
import { deliverAlertEvent } from '../../functions/jobs/alert-webhook.handler';
import { handleStreamRecords } from '../../functions/jobs/ledger-stream.handler';
import { lambdaContext } from '../../infra/local/api-gateway';
import { eventBridgeFields, withBusJobs, type BusWithJobs } from '../../infra/local/bus-jobs';
import { publishedEventLog } from '../../infra/local/published-events';
import { startStreamPoller, type StreamPoller } from '../../infra/local/stream-poller';
import { JOB_RUN_RETRIES } from '../../infra/scheduled-jobs';
import { httpsWebhookSender } from '../../shared/adapters/http/webhook-sender';
import { localPepper } from '../../shared/adapters/local/file-key-store';
import type { WebhookUrlRules } from '../../shared/domain/alert-webhooks';
import { areaHandler } from '../../shared/http/lambda';
import type { GatewayEvent } from '../../shared/http/principal';
import { setAlertThresholds } from '../../shared/use-cases/cost-alerts';
import { setAlertWebhook, WEBHOOK_ALERT_TYPES, type DeliveryDependencies, type DeliveryPolicy } from '../../shared/use-cases/alert-webhooks';
import { putMember } from '../../shared/use-cases/provisioning';
import { readerEvent } from '../support/api-events';
import { createTestLedger, manualClock, parseBody, serviceEvent, type TestLedger } from '../support/ledger-fixture';
import { readmeVerifier, webhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { consumeRequest, provisionOrg, tryConsume } from '../support/provision';

const LOCAL: WebhookUrlRules = { allowLocal: true };
const STRICT: WebhookUrlRules = { allowLocal: false };
const WEBHOOK = 'PUT /v1/orgs/{orgId}/alerts/webhook';
const signingKey = localPepper(undefined);

const pollers: StreamPoller[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
  for (const receiver of receivers.splice(0)) receiver.close();
});

/** An org of 20 CU whose pool alert fires at half (10 CU), with an org admin (olga) and a contributor (carl). */
async function alertingOrg(orgId: string) {
  const clock = manualClock('2026-03-15T20:00:00.000Z');
  const ledger = await createTestLedger({ clock });
  await provisionOrg(ledger.deps, orgId, { allowanceCu: 20, billingAnchor: '2026-01-15', members: { carl: null } });
  await putMember({ orgId, id: 'olga', role: 'org_admin' }, ledger.deps);
  await setAlertThresholds(orgId, [{ thresholdId: 'half', scope: { kind: 'org' }, level: { kind: 'percent', percent: 50 } }], ledger.deps);
  return { ledger, clock };
}

function routes(ledger: TestLedger, urlRules: WebhookUrlRules = LOCAL) {
  const handler = areaHandler<AlertRouteDependencies, GatewayEvent>(alertRoutes, () => ({ ...ledger.deps, signingKey, urlRules }));
  const asService = async (routeKey: string, orgId: string, body?: unknown) => {
    const answer = await handler(serviceEvent(routeKey, { pathParameters: { orgId }, body }), lambdaContext('alert-webhooks'));
    return { status: answer.statusCode, body: parseBody(answer) };
  };
  const asPerson = async (routeKey: string, orgId: string, userId: string, callerOrg: string, body?: unknown) => {
    const answer = await handler(readerEvent(routeKey, { orgId: callerOrg, userId }, { pathParameters: { orgId }, body }), lambdaContext('alert-webhooks'));
    return { status: answer.statusCode, body: parseBody(answer) };
  };
  return { asService, asPerson };
}

describe('the webhook routes', () => {
  it('answers the secret once, keeps it across changes, rotates it on request, and keeps the webhook apart from the thresholds', async () => {
    const orgId = 'org-hook-config';
    const { ledger } = await alertingOrg(orgId);
    const { asService } = routes(ledger);

    const created = await asService(WEBHOOK, orgId, { url: 'https://hooks.example.com/cu', format: 'json' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ url: 'https://hooks.example.com/cu', format: 'json', secretCreatedAt: '2026-03-15T20:00:00.000Z' });
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^whsec_/);
    expect(created.body.secretHint).toBe(secret.slice(0, 10));

    const read = await asService('GET /v1/orgs/{orgId}/alerts/webhook', orgId);
    expect(read).toEqual({ status: 200, body: { url: 'https://hooks.example.com/cu', format: 'json', secretHint: created.body.secretHint, secretCreatedAt: '2026-03-15T20:00:00.000Z', updatedAt: '2026-03-15T20:00:00.000Z' } });

    const changed = await asService(WEBHOOK, orgId, { url: 'https://hooks.slack.com/services/T0/B0/x', format: 'slack' });
    expect(changed.body).not.toHaveProperty('secret');
    expect(changed.body.secretHint).toBe(created.body.secretHint);

    const rotated = await asService(WEBHOOK, orgId, { url: 'https://hooks.slack.com/services/T0/B0/x', format: 'slack', rotateSecret: true });
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(secret);

    // Replacing the thresholds leaves the webhook as it was.
    await setAlertThresholds(orgId, [], ledger.deps);
    expect((await asService('GET /v1/orgs/{orgId}/alerts/webhook', orgId)).body).toMatchObject({ format: 'slack', secretHint: rotated.body.secretHint });

    expect(await asService('DELETE /v1/orgs/{orgId}/alerts/webhook', orgId)).toEqual({ status: 200, body: { deleted: true } });
    expect((await asService('GET /v1/orgs/{orgId}/alerts/webhook', orgId)).body.error.code).toBe('alert_webhook_not_found');
    // A retried DELETE finds nothing, and is no error.
    expect(await asService('DELETE /v1/orgs/{orgId}/alerts/webhook', orgId)).toEqual({ status: 200, body: { deleted: false } });
  });

  it("lets the org's admins in, and no one else", async () => {
    const orgId = 'org-hook-admins';
    const { ledger } = await alertingOrg(orgId);
    const { asPerson } = routes(ledger);
    const body = { url: 'https://hooks.example.com/cu', format: 'json' };

    expect((await asPerson(WEBHOOK, orgId, 'olga', orgId, body)).status).toBe(200);
    expect((await asPerson(WEBHOOK, orgId, 'carl', orgId, body)).status).toBe(403);
    expect((await asPerson('GET /v1/orgs/{orgId}/alerts/webhook', orgId, 'olga', 'another-org')).status).toBe(403);
    expect((await asPerson('GET /v1/orgs/{orgId}/alerts/webhook', orgId, 'olga', orgId)).status).toBe(200);
  });

  it.each([
    ['http://hooks.example.com/cu', 'url', 'not_https'],
    ['http://127.0.0.1:9999/hook', 'url', 'not_https'],
    ['https://169.254.169.254/latest/meta-data/', 'url', 'refused_address'],
    ['https://[::ffff:10.0.0.1]/hook', 'url', 'refused_address'],
    ['https://2130706433/hook', 'url', 'refused_address'],
    ['https://metadata.google.internal/computeMetadata/v1/', 'url', 'refused_host'],
    ['https://me:pw@hooks.example.com/', 'url', 'credentials_in_url'],
    ['hooks.example.com', 'url', 'not_a_url'],
  ])('refuses %s with a 400 naming %s (%s), and stores nothing', async (url, field, reason) => {
    const orgId = `org-hook-ssrf-${reason}-${Math.random().toString(36).slice(2, 8)}`;
    const { ledger } = await alertingOrg(orgId);
    const { asService } = routes(ledger, STRICT);

    const refused = await asService(WEBHOOK, orgId, { url, format: 'json' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'validation_failed', field, reason });
    expect((await asService('GET /v1/orgs/{orgId}/alerts/webhook', orgId)).status).toBe(404);
  });

  it('refuses an unknown format by its field, and an unknown org with 404, storing nothing', async () => {
    const orgId = 'org-hook-format';
    const { ledger } = await alertingOrg(orgId);
    const { asService } = routes(ledger);
    const format = await asService(WEBHOOK, orgId, { url: 'https://hooks.example.com/cu', format: 'xml' });
    expect([format.status, format.body.error.code, format.body.error.field]).toEqual([400, 'validation_failed', 'format']);
    const missing = await asService(WEBHOOK, 'org-hook-nobody', { url: 'https://hooks.example.com/cu', format: 'json' });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'org_not_found']);
    expect(await ledger.deps.store.getAlertWebhook('org-hook-nobody')).toBeUndefined();
  });
});

/** A receiver closed after the test. */
async function receiver(answer: Parameters<typeof webhookReceiver>[0]): Promise<WebhookReceiver> {
  const started = await webhookReceiver(answer);
  receivers.push(started);
  return started;
}

/** Tries in one run: quick backoff, and a timeout long enough that a held answer is the server's doing, not the client's. */
const POLICY: DeliveryPolicy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 20_000 };

/** The ledger's stream publishing onto the local bus, whose alert-webhook job delivers with `deps`. */
async function streamToWebhooks(ledger: TestLedger, deps: DeliveryDependencies): Promise<{ poller: StreamPoller; bus: BusWithJobs }> {
  const bus = withBusJobs(publishedEventLog(), [{ name: 'alert-webhook', detailTypes: WEBHOOK_ALERT_TYPES, run: (event) => deliverAlertEvent(eventBridgeFields(event), deps) }]);
  const poller = await startStreamPoller({
    endpoint: ledger.endpoint,
    tableName: ledger.tableName,
    handler: (event: DynamoDBStreamEvent) => handleStreamRecords(event.Records, { store: ledger.deps.store, clock: deps.clock, publisher: bus }),
    retryBackoff: { initialMs: 10, maxMs: 50 },
  });
  pollers.push(poller);
  return { poller, bus };
}

describe('delivering alerts', () => {
  it("delivers a crossing once, signed so that the README's verifier accepts it with the org's secret (and nothing else)", async () => {
    const orgId = 'org-hook-deliver';
    const { ledger, clock } = await alertingOrg(orgId);
    const server = await receiver(async () => 204);
    const { secret } = await setAlertWebhook({ orgId, url: server.url, format: 'json', rotateSecret: false }, { store: ledger.deps.store, clock, signingKey, urlRules: LOCAL });
    const { poller, bus } = await streamToWebhooks(ledger, { store: ledger.deps.store, clock, signingKey, sender: httpsWebhookSender(LOCAL), urlRules: LOCAL, policy: POLICY });

    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'carl', projectId: 'p1', cu: 11 }))).ok).toBe(true);
    await poller.drain();
    await bus.settled();

    expect(server.requests).toHaveLength(1);
    const [delivery] = server.requests;
    const eventId = `alert:${orgId}:2026-03-15T00:00:00.000Z:half`;
    expect(delivery!.headers).toMatchObject({ 'content-type': 'application/json', 'x-cu-ledger-delivery': eventId, 'x-cu-ledger-event': 'UsageThresholdCrossed' });
    expect(JSON.parse(delivery!.body)).toMatchObject({ id: eventId, type: 'UsageThresholdCrossed', detail: { orgId, threshold: { id: 'half', percent: 50, levelCu: 10 }, usageCu: 11, limitCu: 20 } });

    const verify = await readmeVerifier();
    const now = Math.floor(clock.now().getTime() / 1000);
    expect(verify(secret!, delivery!.headers, delivery!.body, now)).toBe(true);
    expect(verify(secret!, delivery!.headers, delivery!.body.replace('"usageCu":11', '"usageCu":1'), now)).toBe(false);
    expect(verify(secret!, delivery!.headers, delivery!.body, now + 301)).toBe(false);
    expect(verify(`${secret!}x`, delivery!.headers, delivery!.body, now)).toBe(false);
    expect(bus.deadLetters()).toEqual([]);
  });

  it('retries a failing webhook and dead-letters the alert after the last run, while consumes go on without waiting for it', async () => {
    const orgId = 'org-hook-failing';
    const { ledger, clock } = await alertingOrg(orgId);
    // Every request is held open until `release`, then answered 500, as are the retries after it.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const server = await receiver(async () => {
      await released;
      return 500;
    });
    await setAlertWebhook({ orgId, url: server.url, format: 'slack', rotateSecret: false }, { store: ledger.deps.store, clock, signingKey, urlRules: LOCAL });
    const { poller, bus } = await streamToWebhooks(ledger, { store: ledger.deps.store, clock, signingKey, sender: httpsWebhookSender(LOCAL), urlRules: LOCAL, policy: POLICY });

    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'carl', projectId: 'p1', cu: 11 }))).ok).toBe(true);
    await poller.drain();
    await vi.waitFor(() => expect(server.requests).toHaveLength(1), { timeout: 20_000, interval: 20 });

    // The webhook holds its first delivery open: consumes are charged meanwhile, none of them waiting for it.
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'carl', projectId: 'p1', cu: 0.5 }))));
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    await poller.drain();
    expect(server.answered()).toBe(0);

    release();
    await bus.settled();
    // Each run tries POLICY.attempts times; the run is re-run JOB_RUN_RETRIES times, as Lambda re-runs it on AWS.
    expect(server.requests).toHaveLength(POLICY.attempts * (1 + JOB_RUN_RETRIES));
    expect(new Set(server.requests.map((request) => request.headers['x-cu-ledger-delivery']))).toEqual(new Set([`alert:${orgId}:2026-03-15T00:00:00.000Z:half`]));
    expect(JSON.parse(server.requests[0]!.body).text).toContain(`crossed cost alert \`half\``);
    expect(bus.deadLetters()).toEqual([
      expect.objectContaining({ job: 'alert-webhook', runs: 1 + JOB_RUN_RETRIES, errorName: 'WebhookDeliveryError', event: expect.objectContaining({ id: `alert:${orgId}:2026-03-15T00:00:00.000Z:half` }) }),
    ]);
  });

  it('refuses, without connecting, a host that resolves to a private address at delivery, and dead-letters the alert', async () => {
    const orgId = 'org-hook-rebind';
    const { ledger, clock } = await alertingOrg(orgId);
    const server = await receiver(async () => 204);
    // Stored as if its name resolved to a public address when it was set; at delivery it resolves to 127.0.0.1.
    const url = `https://hooks.rebind.example:${server.port}/hooks/cu-ledger`;
    expect(await ledger.deps.store.putAlertWebhook({ orgId, url, format: 'json', secretVersion: 1, secretCreatedAt: clock.now().toISOString(), updatedAt: clock.now().toISOString() })).toBe('done');
    const rebinding = ((_host: string, _options: unknown, callback: (error: null, addresses: { address: string; family: number }[]) => void) =>
      callback(null, [{ address: '127.0.0.1', family: 4 }])) as never;
    const { poller, bus } = await streamToWebhooks(ledger, { store: ledger.deps.store, clock, signingKey, sender: httpsWebhookSender(STRICT, rebinding), urlRules: STRICT, policy: POLICY });

    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'carl', projectId: 'p1', cu: 11 }))).ok).toBe(true);
    await poller.drain();
    await bus.settled();

    expect(server.connections()).toBe(0);
    expect(bus.deadLetters()).toEqual([expect.objectContaining({ job: 'alert-webhook', errorName: 'WebhookAddressRefusedError' })]);
  });
});
