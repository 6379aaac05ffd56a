// One request's early answer must not touch another's: each request gets its own abort signal. The local runner
// serves many requests at once in one process, where a shared abort controller (middy 6's `timeoutEarly`) aborted
// every request in flight, and answered them 500, when one of them ran out of time.

import { describe, expect, it } from 'vitest';
import { meterRoutes } from '../../functions/meter/meter.handler';
import { forRequest } from '../../shared/composition';
import { areaHandler } from '../../shared/http/lambda';
import { auditLedger } from '../support/ledger-audit';
import { contextWithBudget } from '../support/api-events';
import { createTestLedger, parseBody, serviceEvent } from '../support/ledger-fixture';
import { provisionOrg } from '../support/provision';

const consumeFor = (orgId: string) =>
  serviceEvent('POST /v1/meter/consume', { body: { requestId: `job-${orgId}`, orgId, projectId: 'p1', userId: 'u1', jobType: 'upscale', cu: 1 } });

describe('request isolation', () => {
  it('answers one request 503 when it runs out of time, and lets a concurrent request finish', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-stalled', { allowanceCu: 10 });
    await provisionOrg(ledger.deps, 'org-healthy', { allowanceCu: 10 });
    const handler = areaHandler(meterRoutes, (signal) => forRequest(ledger.deps, signal));
    let release!: () => void;
    let stalledAnswered!: () => void;
    // The stalled request's first read hangs until the test ends; the healthy request's first read waits until the
    // stalled one has been answered early, so it is still in flight when that abort happens.
    ledger.probe.stall('BatchGetItemCommand', 'ORG#org-stalled', new Promise<void>((done) => (release = done)));
    ledger.probe.stall('BatchGetItemCommand', 'ORG#org-healthy', new Promise<void>((done) => (stalledAnswered = done)));

    const stalled = handler(consumeFor('org-stalled'), contextWithBudget(1_000));
    const healthy = handler(consumeFor('org-healthy'), contextWithBudget(60_000));
    const stalledResponse = await stalled;
    stalledAnswered();
    const healthyResponse = await healthy;
    release();

    expect(stalledResponse.statusCode).toBe(503);
    expect(parseBody(stalledResponse).error.code).toBe('store_unavailable');
    expect(healthyResponse.statusCode, healthyResponse.body).toBe(200);
    expect(parseBody(healthyResponse)).toMatchObject({ requestId: 'job-org-healthy', chargedCu: 1, replayed: false });
    expect(auditLedger(await ledger.scanAll(), 'org-healthy').consumes).toHaveLength(1);
  });
});
