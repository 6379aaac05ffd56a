// Items written by an earlier version still read: a consume from before top-ups (pool category `allowance`, no
// draws) reads as drawn wholly from its period's allowance, so it can be replayed, refunded and listed.

import { describe, expect, it } from 'vitest';
import { toEventRecord } from '../../shared/adapters/dynamodb/item-mapping';

const legacyConsume = {
  pk: 'ORG#acme#REQ#job-1',
  sk: 'EVENT',
  gsi1pk: 'ORG#acme#LOG',
  gsi1sk: '2026-01-20T10:00:00.000Z#evt_1',
  entity: 'event',
  kind: 'consume',
  orgId: 'acme',
  requestId: 'job-1',
  eventId: 'evt_1',
  createdAt: '2026-01-20T10:00:00.000Z',
  periodId: '2026-01-15T00:00:00.000Z',
  periodStart: '2026-01-15',
  projectId: 'web',
  userId: 'ana',
  actorKind: 'member',
  jobType: 'upscale',
  cuMilli: 2500,
  poolCategory: 'allowance',
  counters: ['team', 'project:web', 'member:ana'],
  fingerprint: 'f',
  attemptId: 'a',
};

describe('item mapping', () => {
  it('reads a consume written before top-ups as drawn wholly from the allowance', () => {
    expect(toEventRecord(legacyConsume)).toMatchObject({ poolCategory: 'allocated', draws: [{ ref: { kind: 'allowance' }, milli: 2500 }] });
    expect(toEventRecord({ ...legacyConsume, kind: 'refund', refundOf: 'job-0' })).toMatchObject({ poolCategory: 'allocated', draws: [] });
  });

  it('refuses an item of a shape this service never wrote', () => {
    expect(() => toEventRecord({ ...legacyConsume, poolCategory: 'free' })).toThrow(/malformed event item \(poolCategory\)/);
  });
});
