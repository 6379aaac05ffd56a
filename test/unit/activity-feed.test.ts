// The activity feed without a network: how a page of a filtered feed reads the log (against a stand-in for the
// table that counts what each query reads), the query's filter within DynamoDB's limits, the rows and their
// summaries, and the reader's scope in the use case.

import { describe, expect, it } from 'vitest';
import { FEED_READ_BUDGET, dynamoDbAdminStore } from '../../shared/adapters/dynamodb/admin-store';
import { decodeCursor } from '../../shared/adapters/dynamodb/cursor-codec';
import { toActivityItem } from '../../shared/adapters/dynamodb/item-mapping';
import { activityFeedQuery, activityKey, type TableQuery } from '../../shared/adapters/dynamodb/ledger-table';
import type { LedgerTableAccess } from '../../shared/adapters/dynamodb/table-access';
import { toMilli } from '../../shared/domain/compute-units';
import { feedRow, summaryOf } from '../../shared/http/log-rows';
import type { ActivitySelection } from '../../shared/ports/admin-store';
import { serviceActor, type LogEntry } from '../../shared/ports/ledger-records';
import { readActivityFeed } from '../../shared/use-cases/activity';
import { provisionOrg } from '../../shared/use-cases/billing';
import { consume } from '../../shared/use-cases/consume';
import { putMember, putProject } from '../../shared/use-cases/provisioning';
import { memoryLedger, settableClock } from '../support/memory-ledger';

const selection = (overrides: Partial<ActivitySelection> = {}): ActivitySelection => ({
  orgId: 'acme',
  from: '2026-03-01T00:00:00.000Z',
  to: '2026-03-31T23:59:59.999Z',
  projects: 'all',
  users: null,
  ...overrides,
});

type LogLine = Record<string, unknown> & { pk: string; sk: string; gsi1pk: string; gsi1sk: string; projectId: string };

/** Log line `index` (0 is the newest): a platform action, in project `web` when `matches`, else `app`. */
function line(index: number, matches: boolean): LogLine {
  const at = new Date(Date.parse('2026-03-31T00:00:00.000Z') - index * 1000).toISOString();
  const entry = { orgId: 'acme', entryId: `act_${String(index).padStart(6, '0')}`, createdAt: at, actor: serviceActor(undefined), kind: 'platform_action' as const };
  const details = { action: 'asset.edited', eventId: `ev-${index}`, userId: 'ana', projectId: matches ? 'web' : 'app', subject: null, fingerprint: 'f' };
  return { ...activityKey('acme', `ACTION#ev-${index}`), ...toActivityItem({ ...entry, ...details }) } as LogLine;
}

/**
 * A stand-in for the table: a log, newest first, of which `matching` lines pass the feed's filter. Each query reads
 * `Limit` lines from its start key (as DynamoDB evaluates Limit before the filter) and answers the ones that pass.
 */
function logTable(size: number, matching: ReadonlySet<number>) {
  const lines = Array.from({ length: size }, (_, index) => line(index, matching.has(index)));
  const limits: number[] = [];
  const table = {
    async query(query: TableQuery, page: { limit?: number; startKey?: Record<string, unknown> }) {
      const start = page.startKey ? lines.findIndex((item) => item.gsi1sk === page.startKey!.gsi1sk) + 1 : 0;
      const limit = page.limit ?? size;
      limits.push(limit);
      const read = lines.slice(start, start + limit);
      const passes = (item: LogLine) => !query.FilterExpression || item.projectId === 'web';
      const lastKey = start + limit < size ? read.at(-1) : undefined;
      return { items: read.filter(passes), lastKey: lastKey && { pk: lastKey.pk, sk: lastKey.sk, gsi1pk: lastKey.gsi1pk, gsi1sk: lastKey.gsi1sk } };
    },
  };
  return { store: dynamoDbAdminStore(table as unknown as LedgerTableAccess), limits, lines };
}

const cursorKey = (cursor: string | null, feed: ActivitySelection) => (cursor === null ? null : decodeCursor(cursor, activityFeedQuery(feed))!.gsi1sk);

describe('a page of the feed on DynamoDB', () => {
  it('reads just the lines a page needs when nothing is filtered', async () => {
    const { store, limits, lines } = logTable(40, new Set());

    const page = await store.activityFeed(selection(), 5, null);

    expect(limits).toEqual([5]);
    expect(page.items).toHaveLength(5);
    expect(cursorKey(page.nextCursor, selection())).toBe(lines[4]!.gsi1sk);
  });

  it('reads on, four times more each query, until a filtered page is full, and points its cursor at the last line handed out', async () => {
    const { store, limits, lines } = logTable(500, new Set([12, 30, 31]));
    const web = selection({ projects: ['web'] });

    const page = await store.activityFeed(web, 2, null);
    const rest = await store.activityFeed(web, 2, page.nextCursor);

    expect(limits.slice(0, 3)).toEqual([2, 8, 32]);
    expect(page.items.map((entry) => (entry as { entryId: string }).entryId)).toEqual(['act_000012', 'act_000030']);
    expect(cursorKey(page.nextCursor, web)).toBe(lines[30]!.gsi1sk);
    expect(rest.items.map((entry) => (entry as { entryId: string }).entryId)).toEqual(['act_000031']);
    expect(rest.nextCursor).toBeNull();
  });

  it(`ends a page that read ${FEED_READ_BUDGET} lines without filling it, with a cursor where the reading stopped`, async () => {
    const { store, limits, lines } = logTable(FEED_READ_BUDGET * 2, new Set([FEED_READ_BUDGET + 5]));
    const web = selection({ projects: ['web'] });

    const page = await store.activityFeed(web, 25, null);

    expect(page.items).toEqual([]);
    expect(limits.reduce((sum, limit) => sum + limit, 0)).toBe(FEED_READ_BUDGET);
    expect(Math.max(...limits)).toBe(1000);
    expect(cursorKey(page.nextCursor, web)).toBe(lines[FEED_READ_BUDGET - 1]!.gsi1sk);
    const next = await store.activityFeed(web, 25, page.nextCursor);
    expect(next.items.map((entry) => (entry as { entryId: string }).entryId)).toEqual([`act_0${FEED_READ_BUDGET + 5}`]);
  });
});

describe('the feed query', () => {
  it('reads the range with a key condition and filters within DynamoDB limits: 100 values an IN, 4 KB an expression', () => {
    const many = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}${index}`);
    const query = activityFeedQuery(selection({ projects: many('project-', 500), users: many('user-', 100) }));

    expect(query.KeyConditionExpression).toBe('gsi1pk = :log AND gsi1sk BETWEEN :from AND :to');
    expect(query.FilterExpression!.length).toBeLessThan(4096);
    for (const list of query.FilterExpression!.match(/IN \(([^)]*)\)/g)!) expect(list.split(',').length).toBeLessThanOrEqual(100);
    expect(Object.keys(query.ExpressionAttributeValues)).toHaveLength(3 + 500 + 100);
    expect(activityFeedQuery(selection()).FilterExpression).toBeUndefined();
  });
});

describe('feed rows', () => {
  const base = { orgId: 'acme', entryId: 'act_1', createdAt: '2026-03-10T08:00:00.000Z', actor: serviceActor('olga') };
  const terms = { planName: 'pro', allowanceMilli: 100_000, billingAnchor: '2026-01-15', periodStartedAt: null, pendingPlan: null, highCostMilli: null };
  const entries: [LogEntry, string][] = [
    [{ ...base, kind: 'api_key_changed', scopeId: 'apiu_1', projectId: 'web', changes: { capMilli: { before: 2000, after: null }, projectId: { before: 'app', after: 'web' } } }, 'API key apiu_1 changed: cap 2 CU → none, project app → web'],
    [{ ...base, kind: 'member_added', scopeId: 'ana', projectId: null, changes: { role: { before: null, after: 'project_admin' }, adminOfProjectIds: { before: [], after: ['web', 'app'] } } }, 'Member ana added: role project_admin, admin of web, app'],
    [{ ...base, kind: 'project_changed', scopeId: 'web', projectId: 'web', changes: { name: { before: 'Web', after: 'Website' } } }, 'Project web changed: name Web → Website'],
    [{ ...base, kind: 'default_limit_removed', capMilli: null, previousCapMilli: 5000, configVersion: 3 }, 'Default limit removed (was 5 CU)'],
    [{ ...base, kind: 'plan_downgrade_scheduled', before: terms, after: terms, configVersion: 2, plan: { planName: 'lite', allowanceMilli: 10_000 }, effectiveAt: '2026-04-15T00:00:00.000Z' }, 'Downgrade to lite (10 CU) scheduled for 2026-04-15T00:00:00.000Z'],
    [{ ...base, kind: 'top_up_purchased', purchaseId: 'refill-1', source: 'auto_refill', cuMilli: 10_000, expiresAt: '2027-01-01T00:00:00.000Z', fingerprint: 'f' }, 'Auto-refill bought 10 CU (refill-1)'],
    [{ ...base, kind: 'top_up_expired', purchaseId: 'buy-1', cuMilli: 10_000, unspentMilli: 2_500, expiresAt: '2026-03-10T08:00:00.000Z' }, 'Top-up buy-1 expired with 2.5 CU unspent'],
    [{ ...base, kind: 'platform_action', action: 'model.trained', eventId: 'ev-1', userId: 'ana', projectId: null, subject: null, fingerprint: 'f' }, 'ana: model.trained'],
  ];

  it.each(entries.map(([entry, summary]) => [entry.kind, entry, summary] as const))('summarises a %s entry in a line', (_kind, entry, summary) => {
    expect(summaryOf(entry)).toBe(summary);
  });

  it('names a platform action by its own name, keeps its eventId among the details, and hoists the rest', () => {
    const [action] = entries.at(-1)!;
    expect(feedRow(action)).toEqual({
      id: 'act_1',
      at: '2026-03-10T08:00:00.000Z',
      kind: 'model.trained',
      userId: 'ana',
      actor: { kind: 'service', id: 'platform', actingUserId: 'olga' },
      projectId: null,
      summary: 'ana: model.trained',
      details: { eventId: 'ev-1', subject: null },
    });
  });

  it('names the person a change is about, or else who made it', () => {
    expect(feedRow(entries[0]![0])).toMatchObject({ userId: 'apiu_1', projectId: 'web', details: { scopeId: 'apiu_1', changes: { capCu: { before: 2, after: null } } } });
    expect(feedRow(entries[2]![0])).toMatchObject({ userId: 'olga', projectId: 'web' });
    expect(feedRow(entries[3]![0])).toMatchObject({ userId: 'olga', projectId: null, details: { capCu: null, previousCapCu: 5 } });
  });
});

describe('the feed use case (in memory)', () => {
  it('shows a project admin their projects only, a project admin of none nothing, and refuses another project', async () => {
    const clock = settableClock('2026-03-10T08:00:00.000Z');
    const { deps } = memoryLedger({ clock });
    await provisionOrg({ orgId: 'acme', planName: 'pro', allowanceMilli: toMilli(100), billingAnchor: '2026-03-01' }, deps);
    await putProject({ orgId: 'acme', id: 'web', capMilli: toMilli(50) }, deps);
    clock.set('2026-03-10T08:00:01.000Z');
    await consume({ requestId: 'j1', orgId: 'acme', projectId: 'app', userId: 'ana', jobType: 'upscale', cuMilli: 1000 }, deps);
    await putMember({ orgId: 'acme', id: 'ana', role: 'viewer' }, deps);
    const page = { filters: {}, limit: 10, cursor: null };

    const pat = await readActivityFeed({ orgId: 'acme', projects: ['web'] }, page, deps);
    const none = await readActivityFeed({ orgId: 'acme', projects: [] }, page, deps);
    const all = await readActivityFeed({ orgId: 'acme', projects: 'all' }, page, deps);

    expect(pat.items.map((entry) => entry.kind)).toEqual(['project_created']);
    expect(none).toEqual({ items: [], nextCursor: null });
    expect(all.items.map((entry) => entry.kind)).toEqual(['member_changed', 'consume', 'project_created', 'org_provisioned']);
    await expect(readActivityFeed({ orgId: 'acme', projects: ['web'] }, { ...page, filters: { projectIds: ['app'] } }, deps)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(readActivityFeed({ orgId: 'acme', projects: 'all' }, { ...page, cursor: 'nope' }, deps)).rejects.toMatchObject({ code: 'invalid_cursor' });
  });
});
