// Exactly once, and all or nothing: replays, lost responses, conflicts, throttles and failures part-way, injected
// into real SDK calls against DynamoDB Local.

import { ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { toMilli } from '../../shared/domain/compute-units';
import { ConflictError, StoreUnavailableError } from '../../shared/domain/errors';
import { buildLedgerDependencies } from '../../shared/composition';
import { consume } from '../../shared/use-cases/consume';
import { refund } from '../../shared/use-cases/refund';
import { auditLedger, nonZero } from '../support/ledger-audit';
import { createTestDynamoDbClient, createTestLedger } from '../support/ledger-fixture';
import { connectionReset, probeClient } from '../support/sdk-faults';
import { consumeRequest, provisionOrg, settle } from '../support/provision';

const TRANSACT = 'TransactWriteItemsCommand';

function transactionConflict(): Error {
  return new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict, None, None]',
    $metadata: {},
    CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }, { Code: 'None' }, { Code: 'None' }],
  });
}

function throttled(): Error {
  return new ProvisionedThroughputExceededException({ message: 'Throughput exceeds the current capacity', $metadata: {} });
}

/** Dependencies whose SDK client does not retry by itself: every fault reaches the use case. */
function withoutSdkRetries(ledger: Awaited<ReturnType<typeof createTestLedger>>) {
  const client = createTestDynamoDbClient(ledger.endpoint, { maxAttempts: 1 });
  const probe = probeClient(client);
  const deps = buildLedgerDependencies({ tableName: ledger.tableName }, { client, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
  return { deps, probe };
}

/**
 * Of racing copies of one request, the caller whose write committed hears `replayed: false`, the others the replay;
 * unless that caller's answer was lost to a 503 (outcome unknown): then its retry hears the replay too.
 */
function expectOneFirstAnswer(answers: readonly { replayed: boolean }[], unknownOutcomes: number): void {
  const firstAnswers = answers.filter((answer) => !answer.replayed).length;
  if (unknownOutcomes === 0) expect(firstAnswers).toBe(1);
  else expect(firstAnswers).toBeLessThanOrEqual(1);
}

async function snapshotOf(ledger: Awaited<ReturnType<typeof createTestLedger>>, orgId: string) {
  const audit = auditLedger(await ledger.scanAll(), orgId);
  return { counters: nonZero(audit.counters), events: audit.consumes.length + audit.refunds.length, audit };
}

describe('exactly once', () => {
  it('answers a sequential replay with the first answer and charges once', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-replay', { allowanceCu: 100 });
    const request = consumeRequest('org-replay', { userId: 'u1', projectId: 'p1', cu: 2.5, modelName: 'GPT Image 2' });

    const first = await consume(request, ledger.deps);
    const second = await consume(request, ledger.deps);
    const third = await consume(request, ledger.anotherProcess());

    expect(first.replayed).toBe(false);
    expect([second, third]).toEqual([{ ...first, replayed: true }, { ...first, replayed: true }]);
    const { counters, events, audit } = await snapshotOf(ledger, 'org-replay');
    expect(events).toBe(1);
    expect(Object.values(counters)).toEqual([toMilli(2.5), toMilli(2.5), toMilli(2.5)]);
    expect(counters).toEqual(nonZero(audit.fromEvents));
  });

  it('charges once when 30 copies of one request race across processes', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-replay-race', { allowanceCu: 100 });
    const request = consumeRequest('org-replay-race', { userId: 'u1', projectId: 'p1', cu: 3 });
    const processes = [ledger.deps, ledger.anotherProcess(), ledger.anotherProcess()];

    const unknownOutcomes = { count: 0 };

    const answers = await Promise.all(Array.from({ length: 30 }, (_, index) => settle(() => consume(request, processes[index % 3]!), unknownOutcomes)));

    expect(new Set(answers.map((answer) => answer.eventId)).size).toBe(1);
    expectOneFirstAnswer(answers, unknownOutcomes.count);
    const { counters, events } = await snapshotOf(ledger, 'org-replay-race');
    expect(events).toBe(1);
    expect(Object.values(counters)).toEqual([3000, 3000, 3000]);
  });

  it('refuses the same requestId with a different body, changing nothing', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-reuse', { allowanceCu: 100 });
    const request = consumeRequest('org-reuse', { userId: 'u1', projectId: 'p1', cu: 1 });
    await consume(request, ledger.deps);
    const before = await snapshotOf(ledger, 'org-reuse');

    await expect(consume({ ...request, cuMilli: 2000 }, ledger.deps)).rejects.toMatchObject({ code: 'idempotency_key_reused', field: 'requestId' });
    await expect(consume({ ...request, jobType: 'upscale' }, ledger.anotherProcess())).rejects.toBeInstanceOf(ConflictError);
    expect(await snapshotOf(ledger, 'org-reuse')).toEqual(before);
  });

  it('charges once when the write committed but its response was lost and the SDK retried', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-lost', { allowanceCu: 100 });
    const request = consumeRequest('org-lost', { userId: 'u1', projectId: 'p1', cu: 4 });
    await consume(consumeRequest('org-lost', { userId: 'u1', projectId: 'p1', cu: 1 }), ledger.deps); // warm the cache
    ledger.probe.reset();
    ledger.probe.inject(TRANSACT, { when: 'after', error: connectionReset });

    const answer = await consume(request, ledger.deps);

    expect(ledger.probe.roundTrips.get(TRANSACT)).toBe(2);
    expect(answer.replayed).toBe(false);
    expect(answer.chargedMilli).toBe(4000);
    const { counters, events } = await snapshotOf(ledger, 'org-lost');
    expect(events).toBe(2);
    expect(Object.values(counters)).toEqual([5000, 5000, 5000]);
  });

  it('recovers its own lost response: a retry that finds its own write answers it as the first answer', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-lost-own', { allowanceCu: 100 });
    const { deps, probe } = withoutSdkRetries(ledger);
    await consume(consumeRequest('org-lost-own', { userId: 'u1', projectId: 'p1', cu: 1 }), deps);
    probe.inject(TRANSACT, { when: 'after', error: connectionReset });

    const answer = await consume(consumeRequest('org-lost-own', { userId: 'u1', projectId: 'p1', cu: 4 }), deps);

    expect(answer.replayed).toBe(false);
    const { counters, events } = await snapshotOf(ledger, 'org-lost-own');
    expect(events).toBe(2);
    expect(Object.values(counters)).toEqual([5000, 5000, 5000]);
  });

  it('charges once when the SDK gave up after a lost response and the client retried later', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-lost-2', { allowanceCu: 100 });
    const { deps, probe } = withoutSdkRetries(ledger);
    const request = consumeRequest('org-lost-2', { userId: 'u1', projectId: 'p1', cu: 4 });
    await consume(consumeRequest('org-lost-2', { userId: 'u1', projectId: 'p1', cu: 1 }), deps);
    // The first try commits and loses its answer; the use case's own retries then find the store down.
    probe.inject(TRANSACT, { when: 'after', error: connectionReset }, { when: 'before', error: connectionReset }, { when: 'before', error: connectionReset });

    const unknown = consume(request, deps);
    await expect(unknown).rejects.toBeInstanceOf(StoreUnavailableError);
    // The charge did commit, so the 503 must not claim otherwise: it says the outcome is unknown and how to learn it.
    await expect(unknown).rejects.toMatchObject({ message: expect.stringMatching(/outcome is unknown.*Retry with the same requestId/) });
    expect((await ledger.scanAll()).some((item) => item.requestId === request.requestId)).toBe(true);
    const retried = await consume(request, deps);

    expect(retried.replayed).toBe(true);
    const { counters, events } = await snapshotOf(ledger, 'org-lost-2');
    expect(events).toBe(2);
    expect(Object.values(counters)).toEqual([5000, 5000, 5000]);
  });

  it('refunds once: replays, concurrent copies, never more than was charged', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-refund', { allowanceCu: 100 });
    const charge = consumeRequest('org-refund', { userId: 'apiu_k', projectId: 'p1', cu: 10 });
    await consume(charge, ledger.deps);
    const partial = { requestId: 'refund-1', orgId: 'org-refund', refundOf: charge.requestId, cuMilli: 4000 };

    const unknownOutcomes = { count: 0 };
    const copies = await Promise.all(Array.from({ length: 10 }, (_, i) => settle(() => refund(partial, i % 2 ? ledger.deps : ledger.anotherProcess()), unknownOutcomes)));
    const rest = await refund({ requestId: 'refund-2', orgId: 'org-refund', refundOf: charge.requestId }, ledger.deps);

    expect(new Set(copies.map((copy) => copy.eventId)).size).toBe(1);
    expectOneFirstAnswer(copies, unknownOutcomes.count);
    expect(rest.refundedMilli).toBe(6000);
    await expect(refund({ requestId: 'refund-3', orgId: 'org-refund', refundOf: charge.requestId, cuMilli: 1 }, ledger.deps)).rejects.toMatchObject({
      code: 'refund_exceeds_charge',
    });
    await expect(refund({ ...partial, cuMilli: 5000 }, ledger.deps)).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    await expect(refund({ requestId: charge.requestId, orgId: 'org-refund', refundOf: charge.requestId }, ledger.deps)).rejects.toMatchObject({
      code: 'idempotency_key_reused',
    });
    await expect(refund({ requestId: 'self', orgId: 'org-refund', refundOf: 'self' }, ledger.deps)).rejects.toMatchObject({ code: 'consume_not_found' });
    await expect(refund({ requestId: 'refund-4', orgId: 'org-refund', refundOf: 'nope' }, ledger.deps)).rejects.toMatchObject({
      code: 'consume_not_found',
      field: 'refundOf',
    });
    const { counters, audit } = await snapshotOf(ledger, 'org-refund');
    expect(counters).toEqual({});
    expect(nonZero(audit.fromEvents)).toEqual({});
    expect(audit.refunds).toHaveLength(2);
    expect(audit.consumes[0]!.refundedMilli).toBe(10_000);
  });

  it('keeps two racing partial refunds within the charge', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-refund-race', { allowanceCu: 100 });
    const charge = consumeRequest('org-refund-race', { userId: 'u1', projectId: 'p1', cu: 10 });
    await consume(charge, ledger.deps);

    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        settle(() => refund({ requestId: `r-${i}`, orgId: 'org-refund-race', refundOf: charge.requestId, cuMilli: 3000 }, ledger.anotherProcess())),
      ),
    );

    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'refund_exceeds_charge' });
    const { counters, audit } = await snapshotOf(ledger, 'org-refund-race');
    expect(Object.values(counters)).toEqual([1000, 1000, 1000]);
    expect(counters).toEqual(nonZero(audit.fromEvents));
  });
});

describe('all or nothing', () => {
  it('retries a transaction conflict and a throttle, and charges once', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-conflict', { allowanceCu: 100 });
    await consume(consumeRequest('org-conflict', { userId: 'u1', projectId: 'p1', cu: 1 }), ledger.deps);
    ledger.probe.reset();
    ledger.probe.inject(
      TRANSACT,
      { when: 'before', error: transactionConflict },
      { when: 'before', error: throttled },
      { when: 'before', error: throttled },
      { when: 'before', error: throttled },
      { when: 'before', error: transactionConflict },
    );

    const answer = await consume(consumeRequest('org-conflict', { userId: 'u1', projectId: 'p1', cu: 2 }), ledger.deps);

    expect(answer.replayed).toBe(false);
    expect(ledger.probe.roundTrips.get(TRANSACT)).toBe(6);
    const { counters, events } = await snapshotOf(ledger, 'org-conflict');
    expect(events).toBe(2);
    expect(Object.values(counters)).toEqual([3000, 3000, 3000]);
  });

  it('moves no counter and writes no event when the store stays busy', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-busy', { allowanceCu: 100 });
    await consume(consumeRequest('org-busy', { userId: 'u1', projectId: 'p1', cu: 1 }), ledger.deps);
    const before = await snapshotOf(ledger, 'org-busy');
    ledger.probe.inject(TRANSACT, ...Array.from({ length: 40 }, () => ({ when: 'before' as const, error: transactionConflict })));

    await expect(consume(consumeRequest('org-busy', { userId: 'u1', projectId: 'p1', cu: 2 }), ledger.deps)).rejects.toMatchObject({
      code: 'store_unavailable',
    });

    expect(await snapshotOf(ledger, 'org-busy')).toEqual(before);
  });

  it('moves nothing when a refund fails part-way, and everything when it is retried', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-refund-fault', { allowanceCu: 100 });
    const charge = consumeRequest('org-refund-fault', { userId: 'u1', projectId: 'p1', cu: 5 });
    await consume(charge, ledger.deps);
    const before = await snapshotOf(ledger, 'org-refund-fault');
    const failing = Object.assign(new Error('internal failure'), { name: 'InternalServerError', $fault: 'server' });
    ledger.probe.inject(TRANSACT, ...Array.from({ length: 40 }, () => ({ when: 'before' as const, error: () => failing })));
    const request = { requestId: 'refund-x', orgId: 'org-refund-fault', refundOf: charge.requestId };

    await expect(refund(request, ledger.deps)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await snapshotOf(ledger, 'org-refund-fault')).toEqual(before);

    ledger.probe.reset();
    await refund(request, ledger.deps);
    const after = await snapshotOf(ledger, 'org-refund-fault');
    expect(after.counters).toEqual({});
    expect(after.events).toBe(2);
  });

  it('passes a non-transient failure through and changes nothing', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-broken', { allowanceCu: 100 });
    await consume(consumeRequest('org-broken', { userId: 'u1', projectId: 'p1', cu: 1 }), ledger.deps);
    const before = await snapshotOf(ledger, 'org-broken');
    const validation = Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException' });
    ledger.probe.inject(TRANSACT, { when: 'before', error: () => validation });

    await expect(consume(consumeRequest('org-broken', { userId: 'u1', projectId: 'p1', cu: 2 }), ledger.deps)).rejects.toBe(validation);
    expect(await snapshotOf(ledger, 'org-broken')).toEqual(before);
  });
});
