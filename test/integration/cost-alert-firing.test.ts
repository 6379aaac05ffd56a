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
import { AlertMemory, readAlerts, setAlertThresholds, type AlertsView } from '../../shared/use-cases/cost-alerts';
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
async function pollStream(ledger: TestLedger, store: StreamDependencies['store'], clock: StreamDependencies['clock'], published: PublishedEvent[], alertMemory?: AlertMemory) {
  const deps: StreamDependencies = { store, clock, publisher: { publish: async (events) => void published.push(...events) }, alertMemory };
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

/**
 * Charges `request` with the stream's first firing write crashing after the write (before its acknowledgement); the
 * record is delivered again. Answers how often it crashed and the ids of the crossings published.
 */
async function crossedAfterACrash(ledger: TestLedger, clock: StreamDependencies['clock'], request: ReturnType<typeof consumeRequest>) {
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
  expect((await tryConsume(ledger.deps, request)).ok).toBe(true);
  await poller.drain();
  return { crashes, ids: crossings(published).map((event) => event.id) };
}

const crossings = (published: PublishedEvent[]) => published.filter((event) => event.detailType === 'UsageThresholdCrossed');
const projections = (published: PublishedEvent[]) => published.filter((event) => event.detailType === 'ProjectedExhaustion');

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
    // 12 CU in five days projects the pool's last 8 CU to go within the period: one projection, however many raced.
    expect(projections(published).map((event) => event.id)).toEqual([`alert:${orgId}:2026-03-15T00:00:00.000Z:~projected-exhaustion`]);
  });

  it('fires once when the trigger crashes after its write: the retry finds the firing and adds none', async () => {
    const orgId = 'org-alert-crash';
    const { ledger, clock } = await alertingOrg(orgId);
    expect(await crossedAfterACrash(ledger, clock, consumeRequest(orgId, { userId: 'm1', projectId: 'p1', cu: 11 }))).toEqual({ crashes: 1, ids: [`alert:${orgId}:2026-03-15T00:00:00.000Z:half`] });
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

describe('UsageThresholdCrossed on projects, members and API keys', () => {
  /** 100 CU in the pool; project web capped at 40, the org's default limit 20; the project's key capped at 8. */
  async function scopedOrg(orgId: string) {
    const clock = manualClock('2026-03-15T06:00:00.000Z');
    const ledger = await createTestLedger({ clock });
    await provisionOrg(ledger.deps, orgId, { allowanceCu: 100, billingAnchor: '2026-01-15', defaultCapCu: 20, projects: { web: 40 }, members: { ana: null }, apiKeys: { apiu_k1: { projectId: 'web', capCu: 8 } } });
    await setAlertThresholds(
      orgId,
      [
        { thresholdId: 'web-ten', scope: { kind: 'project', id: 'web' }, level: { kind: 'absolute', cuMilli: toMilli(10) } },
        // Half of ana's cap in force: she has none of her own, so half of the default limit, 10 CU.
        { thresholdId: 'ana-half', scope: { kind: 'member', id: 'ana' }, level: { kind: 'percent', percent: 50 } },
        { thresholdId: 'key-most', scope: { kind: 'api_key', id: 'apiu_k1' }, level: { kind: 'percent', percent: 75 } },
        { thresholdId: 'bob-any', scope: { kind: 'member', id: 'bob' }, level: { kind: 'absolute', cuMilli: toMilli(1) } },
      ],
      ledger.deps,
    );
    return { ledger, clock };
  }

  const crossed = (published: PublishedEvent[]) =>
    crossings(published)
      .map((event) => event.detail as { threshold: { id: string; levelCu: number }; scope: unknown; limitCu: number | null; usageCu: number; periodStart: string })
      .sort((a, b) => a.threshold.id.localeCompare(b.threshold.id));

  it("publishes exactly one event per threshold when racing consumes cross a project's, a member's and a key's level, each with its scope's limit", async () => {
    const orgId = 'org-alert-scopes';
    const { ledger, clock } = await scopedOrg(orgId);
    const published: PublishedEvent[] = [];
    const poller = await pollStream(ledger, ledger.deps.store, clock, published);

    // From four cold instances: ana charges 24 x 0.5 CU to web (12 CU: across her 10 and web's 10), the key 14 x 0.5
    // CU (7 CU: across its 6). Each outcome is learned by retrying the same request.
    const instances = [ledger.deps, ledger.anotherProcess(), ledger.anotherProcess(), ledger.anotherProcess()];
    const requests = [
      ...Array.from({ length: 24 }, () => consumeRequest(orgId, { userId: 'ana', projectId: 'web', cu: 0.5 })),
      ...Array.from({ length: 14 }, () => consumeRequest(orgId, { userId: 'apiu_k1', projectId: 'web', cu: 0.5 })),
    ];
    const outcomes = await Promise.all(requests.map((request, index) => tryConsume(instances[index % instances.length]!, request)));
    expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
    await poller.drain();

    const events = crossed(published);
    expect(events.map((detail) => [detail.threshold.id, detail.scope, detail.threshold.levelCu, detail.limitCu, detail.periodStart])).toEqual([
      ['ana-half', { kind: 'member', id: 'ana' }, 10, 20, '2026-03-15T00:00:00.000Z'],
      ['key-most', { kind: 'api_key', id: 'apiu_k1' }, 6, 8, '2026-03-15T00:00:00.000Z'],
      ['web-ten', { kind: 'project', id: 'web' }, 10, 40, '2026-03-15T00:00:00.000Z'],
    ]);
    // Each at the usage its crossing charge left: at the level, or one 0.5 CU step past it.
    for (const detail of events) {
      expect(detail.usageCu).toBeGreaterThanOrEqual(detail.threshold.levelCu);
      expect(detail.usageCu).toBeLessThan(detail.threshold.levelCu + 0.5);
    }
    expect(thresholdFirings(await readAlerts(orgId, ledger.deps)).map(firingId).sort()).toEqual(['ana-half', 'key-most', 'web-ten']);
  });

  it("fires a scope's threshold once when the trigger crashes after its write: the redelivered record finds it", async () => {
    const orgId = 'org-alert-scope-crash';
    const { ledger, clock } = await scopedOrg(orgId);
    expect(await crossedAfterACrash(ledger, clock, consumeRequest(orgId, { userId: 'apiu_k1', projectId: 'web', cu: 7 }))).toEqual({ crashes: 1, ids: [`alert:${orgId}:2026-03-15T00:00:00.000Z:key-most`] });
  });

  it("re-arms a scope's threshold in a new period, and leaves one that no charge reached unfired", async () => {
    const orgId = 'org-alert-scope-period';
    const { ledger, clock } = await scopedOrg(orgId);
    const published: PublishedEvent[] = [];
    const poller = await pollStream(ledger, ledger.deps.store, clock, published);

    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'ana', projectId: 'web', cu: 11 }))).ok).toBe(true);
    await poller.drain();
    clock.set('2026-04-15T06:00:00.000Z');
    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'ana', projectId: 'web', cu: 4 }))).ok).toBe(true);
    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'ana', projectId: 'web', cu: 7 }))).ok).toBe(true);
    await poller.drain();

    expect(crossed(published).map((detail) => [detail.threshold.id, detail.periodStart]).sort()).toEqual([
      ['ana-half', '2026-03-15T00:00:00.000Z'],
      ['ana-half', '2026-04-15T00:00:00.000Z'],
      ['web-ten', '2026-03-15T00:00:00.000Z'],
      ['web-ten', '2026-04-15T00:00:00.000Z'],
    ]);
  });
});

describe('ProjectedExhaustion', () => {
  /** 100 CU in the pool, five days into a period that resets on 2026-04-15, with the stream counting firing writes. */
  async function projectingOrg(orgId: string) {
    const clock = manualClock('2026-03-20T00:00:00.000Z');
    const ledger = await createTestLedger({ clock });
    await provisionOrg(ledger.deps, orgId, { allowanceCu: 100, billingAnchor: '2026-01-15' });
    const writes: string[] = [];
    const store = ledger.deps.store;
    const counting: StreamDependencies['store'] = {
      ...store,
      async recordAlertFiring(firing) {
        writes.push(firingId(firing));
        return store.recordAlertFiring(firing);
      },
    };
    return { ledger, clock, counting, writes };
  }

  it('fires once, when the run rate first projects the pool to run out before the reset, with the projected date; later charges write nothing more', async () => {
    const orgId = 'org-projection';
    const { ledger, clock, counting, writes } = await projectingOrg(orgId);
    const published: PublishedEvent[] = [];
    const poller = await pollStream(ledger, counting, clock, published, new AlertMemory());
    const charge = async (cu: number) => expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'm1', projectId: 'p1', cu }))).ok).toBe(true);

    // 10 CU in five days: 2 CU a day lasts the 90 CU left 45 days, past the reset.
    await charge(10);
    await poller.drain();
    expect(projections(published)).toEqual([]);
    // 40 CU in five days: 8 CU a day uses up the 60 left in 7.5 days, on 2026-03-27 at noon.
    await charge(30);
    for (const cu of [5, 5, 5]) await charge(cu);
    await poller.drain();

    expect(projections(published).map((event) => event.detail)).toEqual([
      {
        eventId: `alert:${orgId}:2026-03-15T00:00:00.000Z:~projected-exhaustion`,
        orgId,
        periodStart: '2026-03-15T00:00:00.000Z',
        resetsAt: '2026-04-15T00:00:00.000Z',
        projectedAt: '2026-03-27T12:00:00.000Z',
        usageCu: 40,
        limitCu: 100,
        remainingCu: 60,
        cuPerDay: 8,
        evaluatedAt: '2026-03-20T00:00:00.000Z',
      },
    ]);
    // The process remembered it: the three charges after it wrote no firing again.
    expect(writes).toEqual(['~projected-exhaustion']);
    const fired = (await readAlerts(orgId, ledger.deps)).fired;
    expect(fired).toMatchObject([{ kind: 'projected_exhaustion', projectedAt: '2026-03-27T12:00:00.000Z' }]);
  });

  it('fires once per period without the memory too (the conditional put is the once), and again in the next period', async () => {
    const orgId = 'org-projection-period';
    const { ledger, clock, counting, writes } = await projectingOrg(orgId);
    const published: PublishedEvent[] = [];
    const poller = await pollStream(ledger, counting, clock, published);
    const charge = async (cu: number) => expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'm1', projectId: 'p1', cu }))).ok).toBe(true);

    for (const cu of [40, 5, 5]) await charge(cu);
    await poller.drain();
    clock.set('2026-04-20T00:00:00.000Z');
    for (const cu of [40, 5]) await charge(cu);
    await poller.drain();

    expect(projections(published).map((event) => (event.detail as { periodStart: string }).periodStart)).toEqual(['2026-03-15T00:00:00.000Z', '2026-04-15T00:00:00.000Z']);
    // Without the memory every projecting charge tries the put; the ones after the first find it written.
    expect(writes.length).toBe(5);
  });
});
