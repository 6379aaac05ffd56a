// End to end: cost-alert webhooks on the local runner (started with CU_LEDGER_ALLOW_LOCAL_WEBHOOKS=1, as
// `npm start -- --allow-local-webhooks` does), over HTTP. A crossing reaches a server on 127.0.0.1 signed so that the
// README's verifier accepts it; a failing server gets every retry while consumes go on, and the alert ends in
// GET /local/dead-letters; the flag lets loopback through and nothing else.

import { afterAll, describe, expect, it, vi } from 'vitest';
// The runner's delivery policy and its re-runs of a failed run: what a failing receiver must see.
import { JOB_RUN_RETRIES } from '../../infra/scheduled-jobs';
import { DEFAULT_DELIVERY_POLICY } from '../../shared/use-cases/alert-webhooks';
import { provision } from '../support/analytics-callers';
import { client, runnerForSuite } from '../support/runner-http';
import { readmeVerifier, webhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const receivers: WebhookReceiver[] = [];
afterAll(() => receivers.forEach((receiver) => receiver.close()));

describe('cost-alert webhooks on the local runner', () => {
  const runner = runnerForSuite({ inMemory: true, env: { CU_LEDGER_ALLOW_LOCAL_WEBHOOKS: '1' } });
  const call = client(runner);

  /** An org of 20 CU whose pool alert fires at half, with its webhook; answers the webhook's secret. */
  async function alertingOrg(orgId: string, url: string, format: 'json' | 'slack'): Promise<string> {
    const today = new Date().toISOString().slice(0, 10);
    await provision(call, `/v1/orgs/${orgId}`, { plan: { name: 'pro', allowanceCu: 20 }, billingAnchor: today });
    await provision(call, `/v1/orgs/${orgId}/alerts`, { thresholds: [{ id: 'half', scope: { kind: 'org' }, percent: 50 }] });
    const webhook = await call('PUT', `/v1/orgs/${orgId}/alerts/webhook`, { body: { url, format } });
    expect(webhook.status, webhook.text).toBe(200);
    return webhook.body.secret;
  }

  const consume = (orgId: string, requestId: string, cu: number) => call('POST', '/v1/meter/consume', { body: { requestId, orgId, projectId: 'web', userId: 'ana', jobType: 'image_generation', cu } });

  it("delivers a crossing to http://127.0.0.1, signed so that the README's verifier accepts it", async () => {
    const server = await webhookReceiver(async () => 204);
    receivers.push(server);
    const secret = await alertingOrg('e2e-hook-ok', server.url, 'json');

    expect((await consume('e2e-hook-ok', 'ok-1', 11)).status).toBe(200);
    await vi.waitFor(() => expect(server.requests).toHaveLength(1), { timeout: 30_000, interval: 50 });

    const [delivery] = server.requests;
    expect(JSON.parse(delivery!.body)).toMatchObject({ type: 'UsageThresholdCrossed', detail: { orgId: 'e2e-hook-ok', threshold: { id: 'half' } } });
    const verify = await readmeVerifier();
    expect(verify(secret, delivery!.headers, delivery!.body)).toBe(true);
    expect(verify(secret, delivery!.headers, `${delivery!.body} `)).toBe(false);
  });

  it('retries a failing webhook and dead-letters the alert, while consumes are answered without waiting for it', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const server = await webhookReceiver(async () => {
      await released;
      return 503;
    });
    receivers.push(server);
    await alertingOrg('e2e-hook-failing', server.url, 'slack');

    expect((await consume('e2e-hook-failing', 'fail-1', 11)).status).toBe(200);
    await vi.waitFor(() => expect(server.requests).toHaveLength(1), { timeout: 30_000, interval: 50 });
    // The first delivery is held open by the server: consumes are charged meanwhile.
    const statuses = await Promise.all(Array.from({ length: 5 }, (_, index) => consume('e2e-hook-failing', `fail-more-${index}`, 0.5)));
    expect(statuses.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200]);
    expect(server.answered()).toBe(0);

    release();
    // The route waits for the runs in flight, backoff and re-runs included.
    const deadLetters = await call('GET', '/local/dead-letters');
    expect(deadLetters.status, deadLetters.text).toBe(200);
    expect(deadLetters.body.items).toEqual([
      expect.objectContaining({ job: 'alert-webhook', runs: 1 + JOB_RUN_RETRIES, errorName: 'WebhookDeliveryError', event: expect.objectContaining({ detailType: 'UsageThresholdCrossed' }) }),
    ]);
    expect(server.requests).toHaveLength(DEFAULT_DELIVERY_POLICY.attempts * (1 + JOB_RUN_RETRIES));
    expect(JSON.parse(server.requests[0]!.body).text).toContain('e2e-hook-failing');
  }, 60_000);

  it('lets the local flag through to loopback only: private, metadata and plain-http hosts are still refused', async () => {
    const today = new Date().toISOString().slice(0, 10);
    await provision(call, '/v1/orgs/e2e-hook-refused', { plan: { name: 'pro', allowanceCu: 20 }, billingAnchor: today });
    for (const [url, reason] of [
      ['http://10.0.0.1/hook', 'not_https'],
      ['http://hooks.example.com/hook', 'not_https'],
      ['https://169.254.169.254/latest/meta-data/', 'refused_address'],
      ['https://192.168.0.10/hook', 'refused_address'],
    ] as const) {
      const refused = await call('PUT', '/v1/orgs/e2e-hook-refused/alerts/webhook', { body: { url, format: 'json' } });
      expect([url, refused.status, refused.body.error?.field, refused.body.error?.reason]).toEqual([url, 400, 'url', reason]);
    }
    expect((await call('GET', '/v1/orgs/e2e-hook-refused/alerts/webhook')).status).toBe(404);
  });
});
