// The org's members, projects and API keys with their usage bars, for people on the Analytics API (DynamoDB Local):
// the bars as the admin listing draws them, who sees which rows, and the CSV downloads carrying the JSON rows.

import type { APIGatewayProxyEvent } from 'aws-lambda';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyticsRoutes } from '../../functions/analytics/analytics.handler';
import { exportRoutes } from '../../functions/analytics/export.handler';
import { toMilli } from '../../shared/domain/compute-units';
import { SCOPE_CSV_COLUMNS } from '../../shared/http/scope-rows';
import { areaHandler } from '../../shared/http/lambda';
import { streamingAreaHandler, type ResponseSink } from '../../shared/http/streaming';
import { consume } from '../../shared/use-cases/consume';
import { putMember } from '../../shared/use-cases/provisioning';
import { parseBody, readerEvent } from '../support/api-events';
import { createTestLedger, manualClock, type TestLedger } from '../support/ledger-fixture';
import { consumeRequest, provisionOrg } from '../support/provision';

const ORG = `acme-bars-${process.pid}`;
const OTHER = `other-bars-${process.pid}`;
const EVIL = '=HYPERLINK("http://evil","click")';
const clock = manualClock('2026-05-10T08:00:00.000Z');
let ledger: TestLedger;

beforeAll(async () => {
  ledger = await createTestLedger({ clock });
  // Default cap 10 CU for members and keys without their own; projects have no default.
  await provisionOrg(ledger.deps, ORG, {
    allowanceCu: 100_000,
    billingAnchor: '2026-05-01',
    defaultCapCu: 10,
    projects: { web: 100, docs: 30, lab: null },
    apiKeys: { apiu_web: { projectId: 'web', capCu: null }, apiu_docs: { projectId: 'docs', capCu: 5 } },
  });
  await putMember({ orgId: ORG, id: 'olga', role: 'org_admin' }, ledger.deps);
  await putMember({ orgId: ORG, id: 'pat', role: 'project_admin', adminOfProjectIds: ['web'] }, ledger.deps);
  await putMember({ orgId: ORG, id: 'cora', role: 'contributor', capMilli: toMilli(20) }, ledger.deps);
  await putMember({ orgId: ORG, id: 'ana', role: 'contributor', name: EVIL }, ledger.deps);
  await provisionOrg(ledger.deps, OTHER, { allowanceCu: 1000, billingAnchor: '2026-05-01' });
  await putMember({ orgId: OTHER, id: 'otto', role: 'org_admin' }, ledger.deps);
  for (const [userId, projectId, cu] of [['ana', 'web', 8], ['cora', 'docs', 20], ['apiu_web', 'web', 3], ['apiu_docs', 'docs', 5]] as const) {
    await consume(consumeRequest(ORG, { userId, projectId, cu }), ledger.deps);
  }
});

const person = (userId: string, orgId = ORG) => ({ orgId, userId });

async function listing(path: string, reader: { orgId: string; userId: string }, query: Record<string, string> = {}, orgId = ORG) {
  const event = readerEvent(`GET /v1/orgs/{orgId}/usage/${path}`, reader, { pathParameters: { orgId }, query });
  const answer = await areaHandler(analyticsRoutes, () => ledger.deps)(event as APIGatewayProxyEvent, {} as never);
  return { status: answer.statusCode, body: parseBody(answer) };
}

async function download(path: string, reader: { orgId: string; userId: string }, query: Record<string, string> = {}) {
  const sent = { status: 0, headers: {} as Record<string, string>, body: '' };
  const sink: ResponseSink = {
    start: (status, headers) => void Object.assign(sent, { status, headers }),
    write: async (chunk) => void (sent.body += chunk),
    end: () => undefined,
    abort: () => undefined,
  };
  const event = readerEvent(`GET /v1/orgs/{orgId}/usage/${path}.csv`, reader, { pathParameters: { orgId: ORG }, query });
  await streamingAreaHandler(exportRoutes, () => ledger.deps)(event, sink, {});
  return sent;
}

const bar = (row: { usedCu: number; capCu: number | null; capSource: string; status: string }) => [row.usedCu, row.capCu, row.capSource, row.status];
const byId = (rows: Record<string, unknown>[], field: string) => Object.fromEntries(rows.map((row) => [row[field] as string, row]));

describe("the org's listings with usage bars", () => {
  it('shows an org admin every member with their bar: the default cap where none is set, amber from 80 %, red at 100 %', async () => {
    const { status, body } = await listing('members', person('olga'));
    expect(status).toBe(200);
    const members = byId(body.items, 'userId');
    expect(Object.keys(members).sort()).toEqual(['ana', 'cora', 'olga', 'pat']);
    expect(bar(members.ana as never)).toEqual([8, 10, 'default', 'warning']);
    expect(bar(members.cora as never)).toEqual([20, 20, 'individual', 'reached']);
    expect(bar(members.olga as never)).toEqual([0, 10, 'default', 'ok']);
    expect(members.pat).toMatchObject({ role: 'project_admin', adminOfProjectIds: ['web'] });
    expect(body.nextCursor).toBeNull();
  });

  it('shows an org admin every project and API key with their bars; projects take no default cap', async () => {
    const projects = byId((await listing('projects', person('olga'))).body.items, 'projectId');
    expect(bar(projects.web as never)).toEqual([11, 100, 'individual', 'ok']);
    expect(bar(projects.docs as never)).toEqual([25, 30, 'individual', 'warning']);
    expect(bar(projects.lab as never)).toEqual([0, null, 'none', 'ok']);
    const keys = byId((await listing('api-keys', person('olga'))).body.items, 'keyId');
    expect(keys.apiu_web).toMatchObject({ projectId: 'web', usedCu: 3, capCu: 10, capSource: 'default', status: 'ok' });
    expect(keys.apiu_docs).toMatchObject({ projectId: 'docs', usedCu: 5, capCu: 5, capSource: 'individual', status: 'reached' });
  });

  it('pages as the admin listing does: every row once across the pages', async () => {
    const first = await listing('projects', person('olga'), { limit: '2' });
    expect(first.body.items).toHaveLength(2);
    const second = await listing('projects', person('olga'), { limit: '2', cursor: first.body.nextCursor });
    expect([...first.body.items, ...second.body.items].map((row: { projectId: string }) => row.projectId).sort()).toEqual(['docs', 'lab', 'web']);
  });

  it("shows a project admin only the projects they administer and those projects' keys, and no members (403)", async () => {
    const projects = await listing('projects', person('pat'));
    expect(projects.body.items.map((row: { projectId: string }) => row.projectId)).toEqual(['web']);
    const keys = await listing('api-keys', person('pat'), { limit: '1' });
    const rest = keys.body.nextCursor ? await listing('api-keys', person('pat'), { cursor: keys.body.nextCursor }) : { body: { items: [] } };
    expect([...keys.body.items, ...rest.body.items].map((row: { keyId: string }) => row.keyId)).toEqual(['apiu_web']);
    const members = await listing('members', person('pat'));
    expect([members.status, members.body.error.code]).toEqual([403, 'forbidden']);
  });

  it('refuses contributors, people the org does not know and another org’s admin (403)', async () => {
    for (const [reader, orgId] of [[person('cora'), ORG], [person('nobody'), ORG], [person('otto', OTHER), ORG]] as const) {
      for (const path of ['members', 'projects', 'api-keys']) {
        const answer = await listing(path, reader, {}, orgId);
        expect([path, reader.userId, answer.status, answer.body.error.code]).toEqual([path, reader.userId, 403, 'forbidden']);
      }
    }
  });

  it('refuses an analytics key (403): keys read the usage routes only', async () => {
    const event = readerEvent('GET /v1/orgs/{orgId}/usage/projects', { orgId: ORG, keyId: 'ak_1' }, { pathParameters: { orgId: ORG } });
    const answer = await areaHandler(analyticsRoutes, () => ledger.deps)(event as APIGatewayProxyEvent, {} as never);
    expect([answer.statusCode, parseBody(answer).error.code]).toEqual([403, 'forbidden']);
  });

  it('answers a bad query with 400 naming the field', async () => {
    for (const [query, field] of [[{ limit: '0' }, 'limit'], [{ sort: 'name' }, 'sort']] as const) {
      const answer = await listing('members', person('olga'), query);
      expect([answer.status, answer.body.error.code, answer.body.error.field]).toEqual([400, 'validation_failed', field]);
    }
    const csv = await download('members', person('olga'), { limit: '5' });
    expect([csv.status, JSON.parse(csv.body).error.field]).toEqual([400, 'limit']);
  });
});

describe("the listings' CSV downloads", () => {
  it('carry the JSON rows under a header, as an attachment, with formulas neutralised', async () => {
    for (const [path, kind, reader] of [['members', 'member', 'olga'], ['projects', 'project', 'olga'], ['api-keys', 'api_key', 'olga'], ['projects', 'project', 'pat'], ['api-keys', 'api_key', 'pat']] as const) {
      const sent = await download(path, person(reader));
      expect(sent.status).toBe(200);
      expect(sent.headers).toEqual({ 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${path}.csv"` });
      const [header, ...records] = parse(sent.body) as string[][];
      const columns = SCOPE_CSV_COLUMNS[kind];
      expect(header).toEqual([...columns]);
      const rows = (await listing(path, person(reader))).body.items as Record<string, unknown>[];
      const expected = rows.map((row) =>
        columns.map((column) => {
          const value = row[column];
          const text = value === null || value === undefined ? '' : Array.isArray(value) ? value.join(' ') : String(value);
          return typeof value === 'string' && /^[=+\-@]/.test(text) ? `'${text}` : text;
        }),
      );
      expect([path, reader, records]).toEqual([path, reader, expected]);
    }
    const members = parse((await download('members', person('olga'))).body, { columns: true }) as Record<string, string>[];
    expect(members.find((row) => row.userId === 'ana')!.name).toBe(`'${EVIL}`);
  });

  it('refuses the same callers as the JSON routes', async () => {
    expect((await download('members', person('pat'))).status).toBe(403);
    expect((await download('projects', person('cora'))).status).toBe(403);
  });
});
