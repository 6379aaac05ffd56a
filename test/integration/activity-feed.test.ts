// GET /v1/activity on DynamoDB Local, through the real middy stack with REST API (v1) reader events: what each
// reader sees, the filters, paging without gaps or repeats, and every bad request refused with the field at fault.

import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyticsRoutes } from '../../functions/analytics/analytics.handler';
import type { LedgerDependencies } from '../../shared/composition';
import { toMilli } from '../../shared/domain/compute-units';
import { areaHandler } from '../../shared/http/lambda';
import { activitySelects, type ActivitySelection } from '../../shared/ports/admin-store';
import { isMeterEvent, serviceActor, type LogEntry } from '../../shared/ports/ledger-records';
import { recordPlatformAction } from '../../shared/use-cases/activity';
import { addTopUp, changePlan, provisionOrg } from '../../shared/use-cases/billing';
import { consume } from '../../shared/use-cases/consume';
import { putApiKey, putMember, putProject, setDefaultLimit } from '../../shared/use-cases/provisioning';
import { refund } from '../../shared/use-cases/refund';
import { readerEvent, type Reader } from '../support/api-events';
import { createTestLedger, manualClock, parseBody, type TestLedger } from '../support/ledger-fixture';
import { consumeRequest } from '../support/provision';

const DAY = '2026-03-10';
const clock = manualClock(`${DAY}T08:00:00.000Z`);
let ledger: TestLedger;
let read: (reader: Reader, query?: Record<string, string | string[]>) => Promise<{ status: number | undefined; body: any }>;
/** The clock moves a second before each write, so the log's order is the order they were made in. */
let tick = 0;
const next = () => clock.set(new Date(Date.parse(`${DAY}T08:00:00.000Z`) + ++tick * 1000).toISOString());

const olga = { orgId: 'acme', userId: 'olga' };
const pat = { orgId: 'acme', userId: 'pat' };
const nobodysAdmin = { orgId: 'acme', userId: 'nadia' };
const acmeKey = { orgId: 'acme', keyId: 'ak_1' };

/** The kinds the story below writes, newest first. */
const STORY = [
  ['member_changed', 'alice', null],
  ['asset.edited', 'bob', null],
  ['asset.deleted', 'alice', 'web'],
  ['plan_upgraded', 'olga', null],
  ['top_up_purchased', null, null],
  ['default_limit_set', null, null],
  ['refund', 'alice', 'web'],
  ['consume', 'apiu_ci', 'web'],
  ['consume', 'bob', 'app'],
  ['consume', 'alice', 'web'],
  ['api_key_created', 'apiu_ci', 'web'],
  ['project_created', 'olga', 'app'],
  ['project_created', 'olga', 'web'],
] as const;

beforeAll(async () => {
  ledger = await createTestLedger({ clock });
  const deps = ledger.deps;
  const byOlga = { actor: serviceActor('olga') };
  await provisionOrg({ orgId: 'acme', planName: 'pro', allowanceMilli: toMilli(1000), billingAnchor: '2026-03-01' }, deps);
  await provisionOrg({ orgId: 'other', planName: 'pro', allowanceMilli: toMilli(1000), billingAnchor: '2026-03-01' }, deps);
  for (const [id, role, projects] of [['olga', 'org_admin', []], ['pat', 'project_admin', ['web']], ['nadia', 'project_admin', []], ['cora', 'contributor', []], ['vic', 'viewer', []]] as const) {
    next();
    await putMember({ orgId: 'acme', id, role, adminOfProjectIds: projects }, deps);
  }
  next();
  await putProject({ ...byOlga, orgId: 'acme', id: 'web', capMilli: toMilli(500) }, deps);
  next();
  await putProject({ ...byOlga, orgId: 'acme', id: 'app' }, deps);
  next();
  await putApiKey({ orgId: 'acme', id: 'apiu_ci', projectId: 'web', capMilli: null }, deps);
  next();
  await consume(consumeRequest('acme', { requestId: 'job-alice', userId: 'alice', projectId: 'web', cu: 2.5, modelName: 'GPT Image 2' }), deps);
  next();
  await consume(consumeRequest('acme', { userId: 'bob', projectId: 'app', cu: 1 }), deps);
  next();
  await consume(consumeRequest('acme', { userId: 'apiu_ci', projectId: 'web', cu: 0.5 }), deps);
  next();
  await refund({ requestId: 'refund-alice', orgId: 'acme', refundOf: 'job-alice', cuMilli: toMilli(1) }, deps);
  next();
  await setDefaultLimit({ orgId: 'acme', capMilli: toMilli(50) }, deps);
  next();
  await addTopUp({ orgId: 'acme', purchaseId: 'buy-1', cuMilli: toMilli(10), expiresAt: '2026-06-01T00:00:00.000Z' }, deps);
  next();
  await changePlan({ ...byOlga, orgId: 'acme', planName: 'max', allowanceMilli: toMilli(2000), change: 'upgrade' }, deps);
  next();
  await recordPlatformAction({ orgId: 'acme', eventId: 'ev-1', userId: 'alice', projectId: 'web', action: 'asset.deleted', subject: 'hero.png' }, deps);
  next();
  await recordPlatformAction({ orgId: 'acme', eventId: 'ev-2', userId: 'bob', action: 'asset.edited' }, deps);
  next();
  await putMember({ ...byOlga, orgId: 'acme', id: 'alice', role: 'contributor', capMilli: toMilli(30) }, deps);
  // The other org's own activity: never in acme's feed.
  await consume(consumeRequest('other', { userId: 'alice', projectId: 'web', cu: 1 }), deps);
  const handler = areaHandler(analyticsRoutes, () => ledger.deps);
  read = async (reader, query = {}) => {
    const result = await handler(readerEvent('GET /v1/activity', reader, { query }), {} as Context);
    return { status: result.statusCode, body: parseBody(result) };
  };
});

/** Kind, the person and the project of each row, as STORY lists them. */
const outline = (rows: any[]) => rows.map((row) => [row.kind, row.userId, row.projectId]);

describe('what each reader sees', () => {
  it('shows an org admin every entry of the org, newest first, with who made it and a summary', async () => {
    const { status, body } = await read(olga);

    expect(status).toBe(200);
    expect(outline(body.items).slice(0, STORY.length)).toEqual(STORY.map((row) => [...row]));
    expect(body.items.slice(STORY.length).map((row: any) => row.kind)).toEqual(['member_added', 'member_added', 'member_added', 'member_added', 'member_added', 'org_provisioned']);
    expect(body.nextCursor).toBeNull();
    const byKind = (kind: string) => body.items.find((row: any) => row.kind === kind);
    expect(body.items.find((row: any) => row.kind === 'consume' && row.userId === 'apiu_ci')).toMatchObject({ actor: { kind: 'api_key', id: 'apiu_ci' } });
    expect(body.items.at(9)).toEqual({
      id: expect.stringMatching(/^evt_/),
      at: `${DAY}T08:00:09.000Z`,
      kind: 'consume',
      userId: 'alice',
      actor: { kind: 'member', id: 'alice' },
      projectId: 'web',
      summary: 'alice used 2.5 CU on image_generation (GPT Image 2) in web',
      details: expect.objectContaining({ requestId: 'job-alice', cu: 2.5, refundedCu: 1, jobType: 'image_generation', draws: [{ source: 'allowance', cu: 2.5 }] }),
    });
    expect(byKind('member_changed')).toMatchObject({
      userId: 'alice',
      actor: { kind: 'service', id: 'platform', actingUserId: 'olga' },
      projectId: null,
      summary: 'Member alice changed: cap none → 30 CU',
      details: { scopeId: 'alice', changes: { capCu: { before: null, after: 30 } } },
    });
    expect(byKind('asset.deleted')).toMatchObject({ userId: 'alice', projectId: 'web', summary: 'alice: asset.deleted hero.png', details: { eventId: 'ev-1', subject: 'hero.png' } });
    expect(byKind('plan_upgraded')).toMatchObject({ userId: 'olga', summary: 'Plan upgraded from pro (1000 CU) to max (2000 CU)' });
    expect(byKind('default_limit_set')).toMatchObject({ userId: null, projectId: null, summary: 'Default limit set to 50 CU (was none)' });
    expect(body.items.at(-2)).toMatchObject({ kind: 'member_added', summary: 'Member olga added: role org_admin', userId: 'olga' });
    expect(body.items.at(STORY.length - 1)).toMatchObject({ kind: 'project_created', summary: 'Project web created: cap 500 CU', userId: 'olga' });
  });

  it('shows an analytics key what an org admin sees', async () => {
    expect((await read(acmeKey)).body).toEqual((await read(olga)).body);
  });

  it("shows a project admin only entries of the projects they administer: none of the org's own", async () => {
    const { status, body } = await read(pat);

    expect(status).toBe(200);
    expect(outline(body.items)).toEqual(STORY.filter((row) => row[2] === 'web').map((row) => [...row]));
    expect(outline((await read(pat, { projectId: 'web', userId: 'alice' })).body.items)).toEqual([
      ['asset.deleted', 'alice', 'web'],
      ['refund', 'alice', 'web'],
      ['consume', 'alice', 'web'],
    ]);
    expect((await read(nobodysAdmin)).body).toEqual({ items: [], nextCursor: null });
  });

  it('refuses a project admin naming another project (403), contributors, viewers and strangers (403), and any other org (404)', async () => {
    const refusal = async (reader: Reader, query: Record<string, string | string[]> = {}) => {
      const { status, body } = await read(reader, query);
      return [status, body.error.code, body.error.field];
    };
    expect(await refusal(pat, { projectId: 'app' })).toEqual([403, 'forbidden', undefined]);
    expect(await refusal(pat, { projectId: ['web', 'app'] })).toEqual([403, 'forbidden', undefined]);
    for (const userId of ['cora', 'vic', 'stranger']) expect(await refusal({ orgId: 'acme', userId })).toEqual([403, 'forbidden', undefined]);
    expect(await refusal(olga, { teamId: 'other' })).toEqual([404, 'team_not_found', 'teamId']);
    expect(await refusal(acmeKey, { teamId: 'nowhere' })).toEqual([404, 'team_not_found', 'teamId']);
    expect((await read(olga, { teamId: 'acme' })).status).toBe(200);
  });

  it("never shows a reader another org's entries", async () => {
    const { body } = await read({ orgId: 'other', keyId: 'ak_other' });
    expect(outline(body.items)).toEqual([
      ['consume', 'alice', 'web'],
      ['org_provisioned', null, null],
    ]);
  });
});

describe('filters', () => {
  it('selects by projects and by users, the person an entry is about or who made it', async () => {
    expect(outline((await read(olga, { projectId: ['app', 'web'] })).body.items)).toEqual(STORY.filter((row) => row[2] !== null).map((row) => [...row]));
    expect(outline((await read(olga, { userId: 'alice' })).body.items)).toEqual([
      ['member_changed', 'alice', null],
      ['asset.deleted', 'alice', 'web'],
      ['refund', 'alice', 'web'],
      ['consume', 'alice', 'web'],
    ]);
    // olga made the plan upgrade, created both projects and changed alice: the acting user counts too.
    expect(outline((await read(olga, { userId: ['olga', 'apiu_ci'] })).body.items).slice(0, 6)).toEqual([
      ['member_changed', 'alice', null],
      ['plan_upgraded', 'olga', null],
      ['consume', 'apiu_ci', 'web'],
      ['api_key_created', 'apiu_ci', 'web'],
      ['project_created', 'olga', 'app'],
      ['project_created', 'olga', 'web'],
    ]);
    expect(outline((await read(olga, { userId: 'bob', projectId: 'app' })).body.items)).toEqual([['consume', 'bob', 'app']]);
  });

  it('selects by UTC days, both included', async () => {
    expect((await read(olga, { startDate: DAY, endDate: DAY })).body.items).toHaveLength(STORY.length + 6);
    expect((await read(olga, { startDate: '2026-03-11', endDate: '2026-03-12' })).body).toEqual({ items: [], nextCursor: null });
    expect((await read(olga, { endDate: '2026-03-09' })).body.items).toEqual([]);
  });

  it('reads exactly the entries the feed rule selects, for every combination of filters', async () => {
    const everything = await ledger.deps.store.logUpTo('acme', clock.now().toISOString());
    const selections: Record<string, string | string[]>[] = [{}, { projectId: 'web' }, { userId: ['alice', 'olga'] }, { projectId: ['app', 'web'], userId: ['bob', 'olga'] }, { userId: 'nobody' }];
    for (const query of selections) {
      const selection: ActivitySelection = {
        orgId: 'acme',
        from: `${DAY}T00:00:00.000Z`,
        to: `${DAY}T23:59:59.999Z`,
        projects: query.projectId === undefined ? 'all' : [query.projectId].flat(),
        users: query.userId === undefined ? null : [query.userId].flat(),
      };
      const expected = everything.filter((entry) => activitySelects(selection, entry)).reverse().map(idOf);
      expect((await readAll(olga, { ...query, startDate: DAY, limit: '3' })).map((row) => row.id), JSON.stringify(query)).toEqual(expected);
    }
  });
});

const idOf = (entry: LogEntry) => (isMeterEvent(entry) ? entry.eventId : entry.entryId);

/** Every page of a feed, following nextCursor, each page checked to hold `limit` rows unless it is the last. */
async function readAll(reader: Reader, query: Record<string, string | string[]>): Promise<any[]> {
  const rows: any[] = [];
  let cursor: string | null = null;
  do {
    const { status, body }: { status: number | undefined; body: any } = await read(reader, { ...query, ...(cursor ? { cursor } : {}) });
    expect(status).toBe(200);
    if (body.nextCursor !== null) expect(body.items).toHaveLength(Number(query.limit ?? 25));
    rows.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return rows;
}

describe('paging', () => {
  it('walks a busy org page by page without a gap or a repeat, filtered or not, and fills each page', async () => {
    const busy = await createTestLedger({ clock });
    const deps: LedgerDependencies = busy.deps;
    clock.set('2026-03-12T00:00:00.000Z');
    await provisionOrg({ orgId: 'busy', planName: 'pro', allowanceMilli: toMilli(10_000), billingAnchor: '2026-03-01' }, deps);
    await putMember({ orgId: 'busy', id: 'olga', role: 'org_admin' }, deps);
    // 150 jobs: one in ten in the small project, spread through the rest; several in one millisecond now and then.
    for (let index = 0; index < 150; index++) {
      if (index % 4 !== 0) clock.set(new Date(Date.parse('2026-03-12T00:00:00.000Z') + (index + 1) * 1000).toISOString());
      await consume(consumeRequest('busy', { userId: `u${index % 7}`, projectId: index % 10 === 3 ? 'small' : 'big', cu: 1 }), deps);
    }
    const handler = areaHandler(analyticsRoutes, () => deps);
    const feed = async (query: Record<string, string>) => parseBody(await handler(readerEvent('GET /v1/activity', { orgId: 'busy', userId: 'olga' }, { query }), {} as Context));
    const all = await busy.deps.store.logUpTo('busy', clock.now().toISOString());
    const walk = async (query: Record<string, string>) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await feed({ ...query, ...(cursor ? { cursor } : {}) });
        if (page.nextCursor !== null) expect(page.items).toHaveLength(Number(query.limit));
        ids.push(...page.items.map((row: any) => row.id));
        cursor = page.nextCursor;
      } while (cursor);
      return ids;
    };
    const newestFirst = (entries: LogEntry[]) => [...entries].reverse().map(idOf);

    expect(await walk({ limit: '7', startDate: '2026-03-12' })).toEqual(newestFirst(all));
    expect(await walk({ limit: '4', projectId: 'small', startDate: '2026-03-12' })).toEqual(newestFirst(all.filter((entry) => isMeterEvent(entry) && entry.projectId === 'small')));
    expect(await walk({ limit: '100', userId: 'u3', startDate: '2026-03-12' })).toEqual(newestFirst(all.filter((entry) => isMeterEvent(entry) && entry.userId === 'u3')));
    // A page of a filter that matches rarely is still full: the reading goes on past many lines that do not match.
    const rare = await feed({ limit: '2', projectId: 'small', userId: 'u0', startDate: '2026-03-12' });
    expect(rare.items.map((row: any) => [row.projectId, row.userId])).toEqual([
      ['small', 'u0'],
      ['small', 'u0'],
    ]);
  });
});

describe('bad requests', () => {
  const forge = (token: unknown) => Buffer.from(JSON.stringify(token)).toString('base64url');

  it.each([
    ['a limit of 0', { limit: '0' }, 'limit'],
    ['a limit of 101', { limit: '101' }, 'limit'],
    ['a limit that is no number', { limit: 'ten' }, 'limit'],
    ['a limit given twice', { limit: ['5', '6'] }, 'limit'],
    ['a startDate that is no date', { startDate: '2026-02-30' }, 'startDate'],
    ['an instant for a date', { endDate: '2026-03-10T00:00:00Z' }, 'endDate'],
    ['an endDate before the startDate', { startDate: '2026-03-10', endDate: '2026-03-09' }, 'endDate'],
    ['a range of more than 366 days', { startDate: '2025-01-01', endDate: '2026-03-10' }, 'endDate'],
    ['a projectId holding the key separator', { projectId: 'web#1' }, 'projectId.0'],
    ['an empty userId', { userId: '' }, 'userId.0'],
    ['a filter the feed does not take', { jobType: 'upscale' }, 'jobType'],
  ])('refuses %s with 400 naming it', async (_name, query, field) => {
    const { status, body } = await read(olga, query as Record<string, string | string[]>);
    expect([status, body.error.code, body.error.field]).toEqual([400, 'validation_failed', field]);
  });

  it('refuses a cursor it did not give out, one of another org, and one given out for other filters', async () => {
    const first = (await read(olga, { limit: '2', projectId: 'web' })).body.nextCursor as string;
    const otherOrg = (await read({ orgId: 'other', keyId: 'ak_other' }, { limit: '1' })).body.nextCursor as string;
    const token = JSON.parse(Buffer.from(first, 'base64url').toString('utf8'));
    expect(first).toEqual(expect.any(String));
    expect(otherOrg).toEqual(expect.any(String));
    expect((await read(olga, { limit: '2', projectId: 'web', cursor: first })).status).toBe(200);

    const refused = [
      ['not base64 JSON', { cursor: '%%%' }],
      ['the admin log cursor shape', { cursor: forge(token.key) }],
      ['another org', { limit: '1', cursor: otherOrg }],
      ['other projects', { limit: '2', projectId: 'app', cursor: first }],
      ['no filters', { limit: '2', cursor: first }],
      ['other dates', { limit: '2', projectId: 'web', startDate: '2026-03-01', cursor: first }],
      ['a key moved out of the range', { limit: '2', projectId: 'web', cursor: forge({ ...token, key: { ...token.key, gsi1sk: '2027-01-01T00:00:00.000Z#x' } }) }],
      ['a key of another partition', { limit: '2', projectId: 'web', cursor: forge({ ...token, key: { ...token.key, gsi1pk: 'ORG#other#LOG' } }) }],
      ['a key with an extra attribute', { limit: '2', projectId: 'web', cursor: forge({ ...token, key: { ...token.key, extra: 'x' } }) }],
    ] as const;
    for (const [name, query] of refused) {
      const { status, body } = await read(olga, query);
      expect([name, status, body.error?.code, body.error?.field]).toEqual([name, 400, 'invalid_cursor', 'cursor']);
    }
  });
});
