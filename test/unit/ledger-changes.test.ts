// What the ledger stream handler acts on: an org item a consume drew on (the auto-refill trigger's input, as of the
// charge's own time), and a new activity entry (published); everything else on the stream is left alone. And which
// activity entries publish which event.

import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ledgerChangeOf } from '../../shared/adapters/dynamodb/stream-records';
import type { ActivityRecord } from '../../shared/ports/ledger-records';
import { publishedEventOf } from '../../shared/use-cases/jobs';

const ORG = {
  pk: 'ORG#acme',
  sk: 'ORG',
  entity: 'org',
  orgId: 'acme',
  planName: 'pro',
  allowanceMilli: 10_000,
  billingAnchor: '2026-01-15',
  configVersion: 3,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', oldImage: Record<string, unknown> | undefined, newImage: Record<string, unknown> | undefined): DynamoDBRecord {
  const image = (item: Record<string, unknown> | undefined) => (item ? (marshall(item, { removeUndefinedValues: true }) as never) : undefined);
  return { eventName, dynamodb: { OldImage: image(oldImage), NewImage: image(newImage), SequenceNumber: '000000000000000000007' } };
}

const entry: ActivityRecord = {
  kind: 'top_up_expired',
  orgId: 'acme',
  entryId: 'act_1',
  createdAt: '2026-03-01T00:00:00.000Z',
  actor: { kind: 'job', id: 'top-up-expiry' },
  purchaseId: 'buy-1',
  cuMilli: 5000,
  unspentMilli: 1250,
  expiresAt: '2026-03-01T00:00:00.000Z',
};

describe('ledger stream changes', () => {
  it('reads a consume on the org item as an org change, as of the charge time and by its sequence number', () => {
    const before = { ...ORG, 'used@2026-02-15T00:00:00.000Z': 2000, chargedAt: '2026-02-20T10:00:00.000Z' };
    const after = { ...before, 'used@2026-02-15T00:00:00.000Z': 9000, chargedAt: '2026-02-20T11:00:00.000Z' };
    const change = ledgerChangeOf(record('MODIFY', before, after));
    expect(change).toMatchObject({ kind: 'org', change: { at: new Date('2026-02-20T11:00:00.000Z'), sequenceNumber: '000000000000000000007' } });
    expect(change?.kind === 'org' && [change.change.before.usage, change.change.after.usage]).toEqual([{ '2026-02-15T00:00:00.000Z': 2000 }, { '2026-02-15T00:00:00.000Z': 9000 }]);
  });

  it('leaves alone org writes that draw on nothing: a refund, a top-up, an expiry, a plan change', () => {
    const charged = { ...ORG, 'used@2026-02-15T00:00:00.000Z': 5000, 'topUpUsed@b1': 1000, 'topUp@b1': { source: 'purchase', cuMilli: 3000, purchasedAt: '2026-02-01T00:00:00.000Z', expiresAt: '2026-04-01T00:00:00.000Z' }, chargedAt: '2026-02-20T10:00:00.000Z' };
    const refunded = { ...charged, 'used@2026-02-15T00:00:00.000Z': 4000, 'topUpUsed@b1': 500 };
    const toppedUp = { ...charged, 'topUpUsed@b2': 0, 'topUp@b2': { source: 'purchase', cuMilli: 3000, purchasedAt: '2026-02-21T00:00:00.000Z', expiresAt: '2026-05-01T00:00:00.000Z' }, configVersion: 4 };
    const { ['topUp@b1']: _batch, ['topUpUsed@b1']: _used, ...expired } = charged;
    const downgraded = { ...charged, pendingPlan: { planName: 'lite', allowanceMilli: 1000, effectiveAt: '2026-03-15T00:00:00.000Z' } };
    for (const after of [refunded, toppedUp, expired, downgraded]) expect(ledgerChangeOf(record('MODIFY', charged, after))).toBeUndefined();
  });

  it('reads a new activity entry and a new consume or refund, and nothing from refunded totals, rollups, due items, removals or items without their entity', () => {
    expect(ledgerChangeOf(record('INSERT', undefined, { pk: 'ORG#acme#ACT#EXPIRED#buy-1', sk: 'ACTIVITY', entity: 'activity', ...entry }))).toEqual({ kind: 'activity', entry });
    const consumed = {
      kind: 'consume',
      orgId: 'acme',
      requestId: 'r1',
      eventId: 'evt_1',
      createdAt: '2026-03-01T10:00:00.000Z',
      periodId: '2026-02-15T00:00:00.000Z',
      projectId: 'web',
      userId: 'ana',
      actorKind: 'member',
      jobType: 'upscale',
      cuMilli: 1500,
      poolCategory: 'allocated',
      draws: [{ ref: { kind: 'allowance' }, milli: 1500 }],
      counters: ['team', 'project:web', 'member:ana'],
      fingerprint: 'f',
      attemptId: 'a',
    } as const;
    const item = { pk: 'ORG#acme#REQ#r1', sk: 'EVENT', entity: 'event', gsi1pk: 'ORG#acme#LOG', gsi1sk: 'x', gsi2pk: 'ORG#acme#DAY#2026-03-01', gsi2sk: 'y', gsi3sk: 'z', ...consumed };
    expect(ledgerChangeOf(record('INSERT', undefined, item))).toEqual({ kind: 'metered', event: consumed });
    expect(ledgerChangeOf(record('MODIFY', item, { ...item, refundedMilli: 500 }))).toBeUndefined();
    expect(ledgerChangeOf(record('INSERT', undefined, { pk: 'ORG#acme#USAGE#2026-03', sk: '2026-03-01#web#ana#upscale#', entity: 'usage', cuMilli: 1500 }))).toBeUndefined();
    expect(ledgerChangeOf(record('MODIFY', { pk: 'ORG#acme', sk: 'MEMBER#ana', 'used@x': 1 }, { pk: 'ORG#acme', sk: 'MEMBER#ana', 'used@x': 2 }))).toBeUndefined();
    expect(ledgerChangeOf(record('INSERT', undefined, { pk: 'DUE#expiry', sk: '2026-03-01#acme#buy-1', entity: 'due' }))).toBeUndefined();
    expect(ledgerChangeOf(record('REMOVE', { pk: 'DUE#expiry', sk: 'x', entity: 'due' }, undefined))).toBeUndefined();
  });

  it('publishes resets, expiries and auto-refills with their documented detail-types, and nothing for the rest', () => {
    expect(publishedEventOf(entry)).toEqual({
      detailType: 'TopUpExpired',
      id: 'act_1',
      time: '2026-03-01T00:00:00.000Z',
      detail: { eventId: 'act_1', orgId: 'acme', purchaseId: 'buy-1', cu: 5, unspentCu: 1.25, expiresAt: '2026-03-01T00:00:00.000Z' },
    });
    const purchase = { ...entry, kind: 'top_up_purchased', source: 'purchase', fingerprint: 'f', expiresAt: '2026-09-01T00:00:00.000Z' } as const;
    expect(publishedEventOf(purchase)).toBeUndefined();
    expect(publishedEventOf({ ...purchase, source: 'auto_refill' })?.detailType).toBe('AutoRefillPurchased');
    const reset = { ...entry, kind: 'period_reset', periodId: '2026-03-15T00:00:00.000Z', previousPeriodId: '2026-02-15T00:00:00.000Z', plan: { planName: 'lite', allowanceMilli: 1000 }, downgradeApplied: true } as const;
    expect(publishedEventOf(reset)).toMatchObject({ detailType: 'BillingPeriodReset', detail: { periodStart: '2026-03-15T00:00:00.000Z', plan: { name: 'lite', allowanceCu: 1 }, downgradeApplied: true } });
  });

  it('publishes an upgrade as BillingPeriodRestarted: the period it closed early runs from its own start to the upgrade', () => {
    const before = { planName: 'lite', allowanceMilli: 1000, billingAnchor: '2026-02-15', periodStartedAt: null, pendingPlan: null, highCostMilli: null };
    const upgradedAt = '2026-03-20T10:30:00.000Z';
    const after = { ...before, planName: 'max', allowanceMilli: 50_000, billingAnchor: '2026-03-20', periodStartedAt: upgradedAt };
    const upgrade = { orgId: 'acme', entryId: 'act_up', createdAt: upgradedAt, actor: { kind: 'service', id: 'platform' }, kind: 'plan_upgraded', before, after, configVersion: 3, plan: { planName: 'max', allowanceMilli: 50_000 }, periodId: upgradedAt, cancelledDowngrade: null } as const;
    expect(publishedEventOf(upgrade)).toEqual({
      detailType: 'BillingPeriodRestarted',
      id: 'act_up',
      time: upgradedAt,
      detail: { eventId: 'act_up', orgId: 'acme', periodStart: upgradedAt, previousPeriodStart: '2026-03-15T00:00:00.000Z', plan: { name: 'max', allowanceCu: 50 } },
    });
  });
});
