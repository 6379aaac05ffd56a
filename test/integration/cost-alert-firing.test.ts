// Cost alerts fire exactly once, through the table's real stream on DynamoDB Local: consumes racing across a pool
// threshold publish one UsageThresholdCrossed, a crash between the firing's write and its acknowledgement adds none,
// and a new period re-arms the threshold.

import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { handleStreamRecords } from '../../functions/jobs/ledger-stream.handler';
import { startStreamPoller, type StreamPoller } from '../../infra/local/stream-poller';
import { toMilli } from '../../shared/domain/compute-units';
import type { PublishedEvent } from '../../shared/ports/event-publisher';
import type { StreamDependencies } from '../../shared/use-cases/jobs';
import { readAlerts, setAlertThresholds, type AlertsView } from '../../shared/use-cases/cost-alerts';
import { firingId } from '../../shared/domain/cost-alerts';
import { createTestLedger, manualClock, type TestLedger } from '../support/ledger-fixture';
import { consumeRequest, provisionOrg, tryConsume } from '../support/provision';

const pollers: StreamPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
});

/** An org of 20 CU with two pool thresholds: half the allowance (10 CU), and 15 CU. */
async function alertingOrg(orgId: string) {
  const clock = manualClock('2026-03-20T10:00:00.000Z');
  const ledger = await createTestLedger({ clock });
  await provisionOrg(ledger.deps, orgId, { allowanceCu: 20, billingAnchor: '2026-01-15' });
  await setAlertThresholds(
    orgId,
    [
      { thresholdId: 'half', scope: { kind: 'org' }, level: { kind: 'percent', percent: 50 } },
      { thresholdId: 'fifteen', scope: { kind: 'org' }, level: { kind: 'absolute', cuMilli: toMilli(15) } },
    ],
    ledger.deps,
  );
  return { ledger, clock };
}

/** The deployed stream handler on the test's store, recording what it publishes. */
async function pollStream(ledger: TestLedger, store: StreamDependencies['store'], clock: StreamDependencies['clock'], published: PublishedEvent[]) {
  const deps: StreamDependencies = { store, clock, publisher: { publish: async (events) => void published.push(...events) } };
  const poller = await startStreamPoller({
    endpoint: ledger.endpoint,
    tableName: ledger.tableName,
    handler: (event: DynamoDBStreamEvent) => handleStreamRecords(event.Records, deps),
    retryBackoff: { initialMs: 10, maxMs: 50 },
  });
  pollers.push(poller);
  return poller;
}

const thresholdFirings = (view: AlertsView) => view.fired.filter((firing) => firing.kind === 'threshold');

const crossings = (published: PublishedEvent[]) => published.filter((event) => event.detailType === 'UsageThresholdCrossed');

/** Four cold instances racing `count` consumes of `cu`. */
async function race(ledger: TestLedger, orgId: string, count: number, cu: number) {
  const instances = [ledger.deps, ledger.anotherProcess(), ledger.anotherProcess(), ledger.anotherProcess()];
  return Promise.all(Array.from({ length: count }, (_, index) => tryConsume(instances[index % instances.length]!, consumeRequest(orgId, { userId: `m${index % 7}`, projectId: 'p1', cu }))));
}

describe('UsageThresholdCrossed', () => {
  it('publishes exactly one event when many consumes race across a threshold, with the scope, threshold, usage and limit', async () => {
    const orgId = 'org-alert-race';
    const { ledger, clock } = await alertingOrg(orgId);
    const published: PublishedEvent[] = [];
    const poller = await pollStream(ledger, ledger.deps.store, clock, published);

    // 24 racing consumes of 0.5 CU take usage from 0 to 12: across 10 once, short of 15.
    expect((await race(ledger, orgId, 24, 0.5)).every((outcome) => outcome.ok)).toBe(true);
    await poller.drain();

    expect(crossings(published)).toHaveLength(1);
    const { detail } = crossings(published)[0]!;
    expect(detail).toMatchObject({
      orgId,
      scope: { kind: 'org' },
      threshold: { id: 'half', percent: 50, levelCu: 10 },
      limitCu: 20,
      periodStart: '2026-03-15T00:00:00.000Z',
    });
    // The usage the crossing charge left: at the level or just past it (one 0.5 CU step).
    expect((detail as { usageCu: number }).usageCu).toBeGreaterThanOrEqual(10);
    expect((detail as { usageCu: number }).usageCu).toBeLessThan(10.5);
    expect(thresholdFirings(await readAlerts(orgId, ledger.deps)).map(firingId)).toEqual(['half']);
  });

  it('fires once when the trigger crashes after its write: the retry finds the firing and adds none', async () => {
    const orgId = 'org-alert-crash';
    const { ledger, clock } = await alertingOrg(orgId);
    const store = ledger.anotherProcess().store;
    let crashes = 0;
    const crashing: StreamDependencies['store'] = {
      ...store,
      async recordAlertFiring(firing) {
        const outcome = await store.recordAlertFiring(firing);
        if (crashes === 0) {
          crashes += 1;
          throw new Error('crashed after the firing was written');
        }
        return outcome;
      },
    };
    const published: PublishedEvent[] = [];
    const poller = await pollStream(ledger, crashing, clock, published);

    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'm1', projectId: 'p1', cu: 11 }))).ok).toBe(true);
    await poller.drain();

    expect(crashes).toBe(1);
    expect(crossings(published).map((event) => event.id)).toEqual([`alert:${orgId}:2026-03-15T00:00:00.000Z:half`]);
  });

  it('re-arms in a new period: the same threshold fires again, once', async () => {
    const orgId = 'org-alert-period';
    const { ledger, clock } = await alertingOrg(orgId);
    const published: PublishedEvent[] = [];
    const poller = await pollStream(ledger, ledger.deps.store, clock, published);

    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'm1', projectId: 'p1', cu: 11 }))).ok).toBe(true);
    await poller.drain();
    clock.set('2026-04-20T10:00:00.000Z');
    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'm1', projectId: 'p1', cu: 4 }))).ok).toBe(true);
    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'm1', projectId: 'p1', cu: 7 }))).ok).toBe(true);
    await poller.drain();

    expect(crossings(published).map((event) => [(event.detail as { threshold: { id: string } }).threshold.id, (event.detail as { periodStart: string }).periodStart])).toEqual([
      ['half', '2026-03-15T00:00:00.000Z'],
      ['half', '2026-04-15T00:00:00.000Z'],
    ]);
    expect(thresholdFirings(await readAlerts(orgId, ledger.deps)).map((firing) => firing.periodStart)).toEqual(['2026-04-15T00:00:00.000Z']);
  });
});
