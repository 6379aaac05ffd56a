// The usage routes' edges on DynamoDB Local, through the real middy stack: who may read what (seed 000, "Access &
// Permissions"), and bad filters, each a 400 naming its field that changes nothing.

import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyticsRoutes } from '../../functions/analytics/analytics.handler';
import { usageRoutes } from '../../functions/analytics/usage-routes';
import { toMilli } from '../../shared/domain/compute-units';
import { areaHandler } from '../../shared/http/lambda';
import { putMember } from '../../shared/use-cases/provisioning';
import { consume } from '../../shared/use-cases/consume';
import { parseBody, readerEvent } from '../support/api-events';
import { createTestLedger, manualClock, type TestLedger } from '../support/ledger-fixture';
import { consumeRequest, provisionOrg } from '../support/provision';

const clock = manualClock('2026-05-10T12:00:00.000Z');
let ledger: TestLedger;
const ORG = 'acme-usage';
const OTHER = 'globex-usage';
const may = { startDate: '2026-05-01', endDate: '2026-05-31' };

beforeAll(async () => {
  ledger = await createTestLedger({ clock });
  for (const orgId of [ORG, OTHER]) {
    await provisionOrg(ledger.deps, orgId, { allowanceCu: 10_000, billingAnchor: '2026-05-01' });
    await putMember({ orgId, id: 'olga', role: 'org_admin' }, ledger.deps);
  }
  await putMember({ orgId: ORG, id: 'pat', role: 'project_admin', adminOfProjectIds: ['web'] }, ledger.deps);
  await putMember({ orgId: ORG, id: 'cora', role: 'contributor' }, ledger.deps);
  await putMember({ orgId: ORG, id: 'vic', role: 'viewer' }, ledger.deps);
  // The events table reads the log directly; no rollup is needed for these checks.
  for (const [index, [projectId, cu]] of ([['web', 2], ['app', 3], ['web', 4]] as const).entries()) {
    clock.set(`2026-05-10T12:0${index}:00.000Z`);
    await consume({ ...consumeRequest(ORG, { userId: 'cora', projectId, cu }), cuMilli: toMilli(cu) }, ledger.deps);
  }
});

async function read(routeKey: string, caller: { orgId: string; userId: string } | { orgId: string; keyId: string }, query: Record<string, string | readonly string[] | undefined> = may) {
  const answer = await areaHandler(analyticsRoutes, () => ledger.deps)(readerEvent(routeKey, caller, { query }) as APIGatewayProxyEvent, {} as Context);
  return { status: answer.statusCode, body: parseBody(answer) };
}

const routes = Object.keys(usageRoutes);
const extra = (routeKey: string): Record<string, string> => (routeKey === 'GET /v1/usage/breakdown' ? { groupBy: 'userId' } : {});

describe('who may read usage', () => {
  it.each(routes)('%s: org admins and analytics keys read; contributors, viewers and strangers get 403', async (routeKey) => {
    const query = { ...may, ...extra(routeKey) };
    expect((await read(routeKey, { orgId: ORG, userId: 'olga' }, query)).status).toBe(200);
    expect((await read(routeKey, { orgId: ORG, keyId: 'ak_1' }, query)).status).toBe(200);
    expect((await read(routeKey, { orgId: ORG, userId: 'pat' }, query)).status).toBe(200);
    for (const userId of ['cora', 'vic', 'stranger']) {
      const refused = await read(routeKey, { orgId: ORG, userId }, query);
      expect([refused.status, refused.body.error.code]).toEqual([403, 'forbidden']);
    }
  });

  it.each(routes)('%s: a project admin naming a project they do not administer gets 403', async (routeKey) => {
    const refused = await read(routeKey, { orgId: ORG, userId: 'pat' }, { ...may, ...extra(routeKey), projectId: ['web', 'app'] });
    expect([refused.status, refused.body.error.code]).toEqual([403, 'forbidden']);
  });

  it.each(routes)("%s: teamId is the reader's own org; any other is 404, never another org's data", async (routeKey) => {
    expect((await read(routeKey, { orgId: ORG, userId: 'olga' }, { ...may, ...extra(routeKey), teamId: ORG })).status).toBe(200);
    const foreign = await read(routeKey, { orgId: ORG, userId: 'olga' }, { ...may, ...extra(routeKey), teamId: OTHER });
    expect([foreign.status, foreign.body.error.code, foreign.body.error.field]).toEqual([404, 'team_not_found', 'teamId']);
  });

  it("a project admin's events table holds their projects only; another org's admin sees none of this org's events", async () => {
    const own = await read('GET /v1/usage/events', { orgId: ORG, userId: 'pat' });
    expect(own.body.items.map((row: { projectId: string; amount: number }) => [row.projectId, row.amount])).toEqual([
      ['web', 4],
      ['web', 2],
    ]);
    const all = await read('GET /v1/usage/events', { orgId: ORG, userId: 'olga' });
    expect(all.body.items).toHaveLength(3);
    const other = await read('GET /v1/usage/events', { orgId: OTHER, userId: 'olga' });
    expect(other.body.items).toEqual([]);
  });
});

describe('bad filters: 400 naming the field, and nothing changes', () => {
  async function expectRefused(routeKey: string, query: Record<string, string | readonly string[] | undefined>, code: string, field: string) {
    const before = await ledger.scanAll();
    const answer = await read(routeKey, { orgId: ORG, userId: 'olga' }, query);
    expect({ status: answer.status, code: answer.body.error?.code, field: answer.body.error?.field }).toEqual({ status: 400, code, field });
    expect(await ledger.scanAll()).toEqual(before);
  }

  it.each([
    ['GET /v1/usage', 'reversed dates', { startDate: '2026-05-31', endDate: '2026-05-01' }, 'endDate'],
    ['GET /v1/usage', 'a range over 366 days', { startDate: '2025-01-01', endDate: '2026-01-02' }, 'endDate'],
    ['GET /v1/usage', 'a date that is not a date', { startDate: '2026-02-30' }, 'startDate'],
    ['GET /v1/usage', 'a date given twice', { startDate: ['2026-05-01', '2026-05-02'] }, 'startDate'],
    ['GET /v1/usage', 'an unknown parameter', { ...may, colour: 'red' }, 'colour'],
    ['GET /v1/usage', '200 projectIds', { ...may, projectId: Array.from({ length: 200 }, (_, index) => `p${index}`) }, 'projectId'],
    ['GET /v1/usage', 'a projectId holding the key separator', { ...may, projectId: 'web#1' }, 'projectId.0'],
    ['GET /v1/usage/timeseries', 'an unknown granularity', { ...may, granularity: 'minute' }, 'granularity'],
    ['GET /v1/usage/timeseries', 'an unknown metric', { ...may, metric: 'tokens' }, 'metric'],
    ['GET /v1/usage/timeseries', 'hours over more than 31 days', { startDate: '2026-03-01', endDate: '2026-05-31', granularity: 'hour' }, 'endDate'],
    ['GET /v1/usage/breakdown', 'an unknown groupBy', { ...may, groupBy: 'userId,colour' }, 'groupBy'],
    ['GET /v1/usage/breakdown', 'a groupBy naming a dimension twice', { ...may, groupBy: 'userId,userId' }, 'groupBy'],
    ['GET /v1/usage/breakdown', 'no groupBy', may, 'groupBy'],
    ['GET /v1/usage/power-users', 'limit 10000', { ...may, limit: '10000' }, 'limit'],
    ['GET /v1/usage/events', 'limit 10000', { ...may, limit: '10000' }, 'limit'],
    ['GET /v1/usage/events', 'limit 0', { ...may, limit: '0' }, 'limit'],
    ['GET /v1/usage/events', 'minCu greater than maxCu', { ...may, minCu: '5', maxCu: '1' }, 'minCu'],
    ['GET /v1/usage/events', 'a minCu that is not a number', { ...may, minCu: 'lots' }, 'minCu'],
    ['GET /v1/usage/events', 'an unknown sort', { ...may, sort: 'jobType' }, 'sort'],
    ['GET /v1/usage/events', 'an unknown poolCategory', { ...may, poolCategory: 'borrowed' }, 'poolCategory.0'],
    ['GET /v1/usage/events', 'a filtered amount sort over more than 31 days', { startDate: '2026-03-01', endDate: '2026-05-31', sort: 'amount', userId: 'cora' }, 'endDate'],
  ] as const)('%s: %s', async (routeKey, _name, query, field) => {
    await expectRefused(routeKey, query, 'validation_failed', field);
  });

  it('sorts by amount over a whole year with dates alone (index-backed: no 31-day cap)', async () => {
    expect((await read('GET /v1/usage/events', { orgId: ORG, userId: 'olga' }, { startDate: '2025-06-01', endDate: '2026-05-31', sort: 'amount' })).status).toBe(200);
  });

  it('refuses a forged, foreign or stale cursor with invalid_cursor', async () => {
    const first = await read('GET /v1/usage/events', { orgId: ORG, userId: 'olga' }, { ...may, limit: '1' });
    const cursor: string = first.body.nextCursor;
    expect(typeof cursor).toBe('string');
    // The cursor works for the query it came from.
    expect((await read('GET /v1/usage/events', { orgId: ORG, userId: 'olga' }, { ...may, limit: '1', cursor })).status).toBe(200);
    await expectRefused('GET /v1/usage/events', { ...may, cursor: 'not-a-cursor' }, 'invalid_cursor', 'cursor');
    const forged = Buffer.from(JSON.stringify({ q: 'x', p: { createdAt: '2026-05-10T00:00:00.000Z', eventId: 'e', amountMilli: 1, userId: 'u' } })).toString('base64url');
    await expectRefused('GET /v1/usage/events', { ...may, cursor: forged }, 'invalid_cursor', 'cursor');
    // Other filters, another order, another org: the cursor belongs to none of them.
    await expectRefused('GET /v1/usage/events', { ...may, userId: 'cora', cursor }, 'invalid_cursor', 'cursor');
    await expectRefused('GET /v1/usage/events', { ...may, sort: 'amount', cursor }, 'invalid_cursor', 'cursor');
    const foreign = await read('GET /v1/usage/events', { orgId: OTHER, userId: 'olga' }, { ...may, cursor });
    expect([foreign.status, foreign.body.error.code]).toEqual([400, 'invalid_cursor']);
  });
});
