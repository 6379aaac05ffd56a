// Items written by an earlier version still read: a consume from before top-ups (pool category `allowance`, no
// draws) reads as drawn wholly from its period's allowance, so it can be replayed, refunded and listed.

import { describe, expect, it } from 'vitest';
import { toActivityItem, toActivityRecord, toEventRecord } from '../../shared/adapters/dynamodb/item-mapping';
import type { ActivityRecord } from '../../shared/ports/ledger-records';

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

describe('activity entries', () => {
  const base = { orgId: 'acme', entryId: 'evt_9', createdAt: '2026-02-01T10:00:00.000Z', actor: { kind: 'service' as const, id: 'platform', actingUserId: 'olga' } };
  const entries: ActivityRecord[] = [
    { ...base, kind: 'member_changed', scopeId: 'ana', projectId: null, changes: { role: { before: 'viewer', after: 'project_admin' }, adminOfProjectIds: { before: [], after: ['web'] } } },
    { ...base, kind: 'api_key_created', scopeId: 'apiu_1', projectId: 'web', changes: { capMilli: { before: null, after: 2500 }, projectId: { before: null, after: 'web' } } },
    { ...base, kind: 'default_limit_removed', capMilli: null, previousCapMilli: 5000, configVersion: 4 },
    { ...base, kind: 'platform_action', action: 'asset.deleted', eventId: 'ev-1', userId: 'ana', projectId: null, subject: 'hero.png', fingerprint: 'f' },
  ];

  it.each(entries.map((entry) => [entry.kind, entry] as const))('reads back a %s entry as it was written, with who made it', (_kind, entry) => {
    expect(toActivityRecord({ pk: 'ORG#acme#ACT#CHANGE#x', sk: 'ACTIVITY', ...toActivityItem(entry) })).toEqual(entry);
  });

  it('refuses a change entry of a shape this service never wrote', () => {
    const item = { pk: 'p', sk: 's', ...toActivityItem(entries[0]!), changes: { role: { before: 'viewer', after: 'owner' } } };
    expect(() => toActivityRecord(item)).toThrow(/malformed activity item \(changes\.role\.after\)/);
  });
});
