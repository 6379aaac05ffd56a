// Top-up CU on DynamoDB Local under concurrency: consumes draining the allowance and several batches spend no CU twice
// and lose none, each in draw order; consumes racing a batch's expiry draw nothing on it from its expiry on, and the
// expiry job logs exactly what was left; consumes racing across the auto-refill threshold refill exactly once, through
// the table's real stream, even when the trigger crashes after or before its write.

import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startStreamPoller, type StreamPoller } from '../../infra/local/stream-poller';
import { ledgerChangeOf } from '../../shared/adapters/dynamodb/stream-records';
import type { LedgerDependencies } from '../../shared/composition';
import { toMilli } from '../../shared/domain/compute-units';
import type { Draw } from '../../shared/domain/pool';
import type { PublishedEvent } from '../../shared/ports/event-publisher';
import type { AlertStore } from '../../shared/ports/alert-store';
import type { JobStore } from '../../shared/ports/job-store';
import type { RollupStore } from '../../shared/ports/usage-store';
import { getBalance } from '../../shared/use-cases/balance';
import { addTopUp, setAutoRefill } from '../../shared/use-cases/billing';
import { handleLedgerChange, runTopUpExpiry } from '../../shared/use-cases/jobs';
import { createTestLedger, manualClock, type TestLedger } from '../support/ledger-fixture';
import { consumeRequest, provisionOrg, tryConsume } from '../support/provision';

const pollers: StreamPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
});

/** Every charged consume of an org, with its draws, from the table. */
async function consumesOf(ledger: TestLedger, orgId: string) {
  return (await ledger.scanAll()).filter((item) => item.entity === 'event' && item.orgId === orgId && item.kind === 'consume') as {
    cuMilli: number;
    createdAt: string;
    draws: Draw[];
  }[];
}

function drawnFrom(consumes: { draws: Draw[] }[], source: string): number {
  return consumes.flatMap((event) => event.draws).filter((draw) => (draw.ref.kind === 'allowance' ? 'allowance' : draw.ref.purchaseId) === source).reduce((sum, draw) => sum + draw.milli, 0);
}

/** Four cold instances racing `count` consumes of `cu` by different members. */
async function race(ledger: TestLedger, orgId: string, count: number, cu: (index: number) => number, deps?: (index: number) => LedgerDependencies) {
  const instances = [ledger.deps, ledger.anotherProcess(), ledger.anotherProcess(), ledger.anotherProcess()];
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      tryConsume(deps?.(index) ?? instances[index % instances.length]!, consumeRequest(orgId, { userId: `m${index % 7}`, projectId: 'p1', cu: cu(index) })),
    ),
  );
}

/** A stream handler like the deployed one, on the test's own dependencies, recording what it publishes. */
function streamHandler(deps: { store: JobStore & RollupStore & AlertStore; clock: LedgerDependencies['clock'] }, published: PublishedEvent[], before?: () => Promise<void>) {
  const publisher = { publish: async (events: readonly PublishedEvent[]) => void published.push(...events) };
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    for (const record of event.Records) {
      try {
        await before?.();
        const change = ledgerChangeOf(record);
        if (change) await handleLedgerChange(change, { ...deps, publisher });
      } catch {
        return { batchItemFailures: [{ itemIdentifier: record.dynamodb!.SequenceNumber! }] };
      }
    }
    return { batchItemFailures: [] };
  };
}

describe('draw-down under concurrency', () => {
  it('drains the allowance and several batches in draw order: no CU spent twice or lost, every event drawn in full', async () => {
    const clock = manualClock('2026-03-20T10:00:00.000Z');
    const ledger = await createTestLedger({ clock });
    await provisionOrg(ledger.deps, 'org-drain', { allowanceCu: 10, billingAnchor: '2026-01-15' });
    // Expiry order: soon (3 CU) < the allowance (resets Apr 15) < later (5 CU) < latest (7 CU).
    const batches = { soon: ['2026-03-25T00:00:00Z', 3], later: ['2026-06-01T00:00:00Z', 5], latest: ['2027-01-01T00:00:00Z', 7] } as const;
    for (const [purchaseId, [expiresAt, cu]] of Object.entries(batches)) {
      await addTopUp({ orgId: 'org-drain', purchaseId, cuMilli: toMilli(cu), expiresAt }, ledger.deps);
    }

    // 25 CU in the pool; 60 racing consumes of 0.5 or 1 CU ask for 45.
    const outcomes = await race(ledger, 'org-drain', 60, (index) => (index % 2 === 0 ? 0.5 : 1));

    const consumes = await consumesOf(ledger, 'org-drain');
    const charged = consumes.reduce((sum, event) => sum + event.cuMilli, 0);
    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(consumes.length);
    expect(outcomes.filter((outcome) => !outcome.ok).every((outcome) => !outcome.ok && outcome.code === 'team_balance_exhausted')).toBe(true);
    // A refusal only when what was asked did not fit: at the end the pool holds less than the smallest refused amount.
    expect(charged).toBeGreaterThan(toMilli(24));
    expect(charged).toBeLessThanOrEqual(toMilli(25));
    for (const event of consumes) expect(event.draws.reduce((sum, draw) => sum + draw.milli, 0)).toBe(event.cuMilli);

    const balance = await getBalance('org-drain', undefined, ledger.deps);
    const used: Record<string, number> = { allowance: balance.allowance.usedMilli, ...Object.fromEntries(balance.topUps.map((batch) => [batch.purchaseId, batch.cuMilli - batch.remainingMilli])) };
    const caps = { soon: toMilli(3), allowance: toMilli(10), later: toMilli(5), latest: toMilli(7) };
    for (const [source, cap] of Object.entries(caps)) {
      // Each source holds exactly what the events drew from it, and never more than it had.
      expect(used[source], source).toBe(drawnFrom(consumes, source));
      expect(used[source], source).toBeLessThanOrEqual(cap);
    }
    // Draw order: the sources before the last one drawn are empty.
    expect([used.soon, used.allowance, used.later]).toEqual([caps.soon, caps.allowance, caps.later]);
    expect(balance.availableMilli).toBe(toMilli(25) - charged);
  });
});

describe('expiry under concurrency', () => {
  it('draws nothing on a batch from its expiresAt on, while consumes race the instant and the expiry job', async () => {
    const expiresAt = '2026-03-20T12:00:00.000Z';
    const before = manualClock('2026-03-20T11:59:59.999Z');
    const after = manualClock(expiresAt);
    const ledger = await createTestLedger({ clock: before });
    await provisionOrg(ledger.deps, 'org-expiry', { allowanceCu: 0, billingAnchor: '2026-01-15' });
    await addTopUp({ orgId: 'org-expiry', purchaseId: 'expiring', cuMilli: toMilli(30), expiresAt }, ledger.deps);
    await addTopUp({ orgId: 'org-expiry', purchaseId: 'lasting', cuMilli: toMilli(60), expiresAt: '2026-09-01T00:00:00.000Z' }, ledger.deps);
    // Half the instances still read the last millisecond before the expiry, half the expiry itself (clock skew).
    const instances = [ledger.anotherProcess(), { ...ledger.anotherProcess(), clock: after }, ledger.anotherProcess(), { ...ledger.anotherProcess(), clock: after }];
    // One charge on the batch first, then the expiry job races the other 39 (60 CU last: enough whoever wins).
    expect((await tryConsume(instances[0]!, consumeRequest('org-expiry', { userId: 'm0', projectId: 'p1', cu: 1 }))).ok).toBe(true);
    const job = runTopUpExpiry({ store: instances[1]!.store, clock: after });
    const outcomes = await race(ledger, 'org-expiry', 39, () => 1, (index) => instances[index % 4]!);
    await job;
    await runTopUpExpiry({ store: instances[1]!.store, clock: after });

    expect(outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.error.details]))).toEqual([]);
    const consumes = await consumesOf(ledger, 'org-expiry');
    expect(consumes).toHaveLength(40);
    const fromExpiring = consumes.filter((event) => event.draws.some((draw) => draw.ref.kind === 'top_up' && draw.ref.purchaseId === 'expiring'));
    expect(fromExpiring.length).toBeGreaterThan(0);
    expect(fromExpiring.filter((event) => event.createdAt >= expiresAt)).toEqual([]);
    expect(drawnFrom(consumes, 'expiring') + drawnFrom(consumes, 'lasting')).toBe(toMilli(40));
    // The expiry entry tells exactly what the batch had left: its CU minus every draw on it.
    const entries = (await ledger.scanAll()).filter((item) => item.kind === 'top_up_expired' && item.orgId === 'org-expiry');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ purchaseId: 'expiring', cuMilli: toMilli(30), unspentMilli: toMilli(30) - drawnFrom(consumes, 'expiring'), createdAt: expiresAt });
    const balance = await getBalance('org-expiry', undefined, instances[1]!);
    expect(balance.topUps.map((batch) => batch.purchaseId)).toEqual(['lasting']);
    expect(balance.availableMilli).toBe(toMilli(60) - drawnFrom(consumes, 'lasting'));
  });
});

describe('auto-refill through the table stream', () => {
  async function refillingOrg(orgId: string) {
    const clock = manualClock('2026-03-20T10:00:00.000Z');
    const ledger = await createTestLedger({ clock });
    await provisionOrg(ledger.deps, orgId, { allowanceCu: 20, billingAnchor: '2026-01-15' });
    await setAutoRefill(orgId, { enabled: true, thresholdMilli: toMilli(10), amountMilli: toMilli(15), expiresInDays: 30, maxPerPeriod: 3 }, ledger.deps);
    return { ledger, clock };
  }

  async function refillEntries(ledger: TestLedger, orgId: string) {
    return (await ledger.scanAll()).filter((item) => item.kind === 'top_up_purchased' && item.source === 'auto_refill' && item.orgId === orgId);
  }

  it('refills exactly once when many consumes race across the threshold, and the batch is spendable', async () => {
    const { ledger, clock } = await refillingOrg('org-refill');
    const published: PublishedEvent[] = [];
    const poller = await startStreamPoller({ endpoint: ledger.endpoint, tableName: ledger.tableName, handler: streamHandler({ store: ledger.deps.store, clock }, published), retryBackoff: { initialMs: 10, maxMs: 50 } });
    pollers.push(poller);

    // 20 CU; 24 racing consumes of 0.5 CU take the pool from 20 to 8 (crossing 10 once) before any refill lands.
    const outcomes = await race(ledger, 'org-refill', 24, () => 0.5);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    await poller.drain();

    const refills = await refillEntries(ledger, 'org-refill');
    expect(refills).toHaveLength(1);
    expect(refills[0]).toMatchObject({ cuMilli: toMilli(15) });
    expect(published.filter((event) => event.detailType === 'AutoRefillPurchased').map((event) => event.detail)).toEqual([
      expect.objectContaining({ orgId: 'org-refill', purchaseId: refills[0]!.purchaseId, cu: 15 }),
    ]);
    const balance = await getBalance('org-refill', undefined, ledger.anotherProcess());
    expect(balance.availableMilli).toBe(toMilli(8 + 15));
    // Spendable: a charge the allowance alone could not pay.
    expect((await tryConsume(ledger.deps, consumeRequest('org-refill', { userId: 'm1', projectId: 'p1', cu: 20 }))).ok).toBe(true);
  });

  it.each([
    ['after its write committed', 'after'],
    ['before its write', 'before'],
  ] as const)('refills exactly once when the trigger crashes %s, and the record is delivered again', async (_name, when) => {
    const { ledger, clock } = await refillingOrg(`org-crash-${when}`);
    const orgId = `org-crash-${when}`;
    const store = ledger.anotherProcess().store;
    let crashes = 0;
    // The first refill attempt dies: after its transaction committed (the answer lost), or before it was sent.
    const crashing: JobStore & RollupStore & AlertStore = {
      ...store,
      getOrg: (id) => store.getOrg(id),
      async refill(command) {
        if (crashes === 0 && when === 'before') {
          crashes += 1;
          throw new Error('crashed before the refill');
        }
        const outcome = await store.refill(command);
        if (crashes === 0) {
          crashes += 1;
          throw new Error('crashed after the refill');
        }
        return outcome;
      },
    };
    const published: PublishedEvent[] = [];
    pollers.push(await startStreamPoller({ endpoint: ledger.endpoint, tableName: ledger.tableName, handler: streamHandler({ store: crashing, clock }, published), retryBackoff: { initialMs: 10, maxMs: 50 } }));

    // One consume crosses the threshold (20 -> 9).
    expect((await tryConsume(ledger.deps, consumeRequest(orgId, { userId: 'm1', projectId: 'p1', cu: 11 }))).ok).toBe(true);
    await vi.waitFor(async () => expect(await refillEntries(ledger, orgId)).toHaveLength(1), { timeout: 60_000, interval: 100 });
    await pollers[0]!.drain();

    expect(crashes).toBe(1);
    expect(await refillEntries(ledger, orgId)).toHaveLength(1);
    expect((await getBalance(orgId, undefined, ledger.anotherProcess())).availableMilli).toBe(toMilli(9 + 15));
    expect(published.filter((event) => event.detailType === 'AutoRefillPurchased')).toHaveLength(1);
  });
});
