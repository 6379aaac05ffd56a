// The CSV export on DynamoDB Local: the same rows as the events table (every page of it), or the breakdown; a header
// row; spreadsheet-safe cells; bad filters answered with their status before anything streams.

import type { APIGatewayProxyEvent } from 'aws-lambda';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportRoutes } from '../../functions/analytics/export.handler';
import { EVENT_COLUMNS } from '../../shared/domain/usage-rows';
import { analyticsRoutes } from '../../functions/analytics/analytics.handler';
import { toMilli } from '../../shared/domain/compute-units';
import { toEventRecord } from '../../shared/adapters/dynamodb/item-mapping';
import { TransientStoreError } from '../../shared/ports/ledger-records';
import { areaHandler } from '../../shared/http/lambda';
import { streamingAreaHandler, type ResponseSink } from '../../shared/http/streaming';
import { consume } from '../../shared/use-cases/consume';
import { refund } from '../../shared/use-cases/refund';
import { putMember } from '../../shared/use-cases/provisioning';
import { parseBody, readerEvent } from '../support/api-events';
import { createTestLedger, manualClock, type TestLedger } from '../support/ledger-fixture';
import { consumeRequest, provisionOrg } from '../support/provision';

const ORG = 'acme-export';
const clock = manualClock('2026-05-02T08:00:00.000Z');
let ledger: TestLedger;
const may = { startDate: '2026-05-01', endDate: '2026-05-31' };
const olga = { orgId: ORG, userId: 'olga' };

beforeAll(async () => {
  ledger = await createTestLedger({ clock });
  await provisionOrg(ledger.deps, ORG, { allowanceCu: 100_000, billingAnchor: '2026-05-01' });
  await putMember({ orgId: ORG, id: 'olga', role: 'org_admin' }, ledger.deps);
  // More events than one page of the export reads (100), and cells a spreadsheet would run as formulas.
  for (let index = 0; index < 130; index++) {
    clock.set(new Date(Date.parse('2026-05-02T08:00:00.000Z') + index * 60_000).toISOString());
    await consume(
      {
        ...consumeRequest(ORG, { userId: index % 2 ? 'ana' : 'apiu_bot', projectId: 'web', cu: 1 }),
        requestId: `job-${index}`,
        cuMilli: toMilli(1 + (index % 7)),
        modelId: 'gpt-image',
        modelName: index === 3 ? '=HYPERLINK("http://evil","click"), "quoted"' : 'GPT Image 2',
        endpoint: index === 4 ? '@SUM(A1:A9)' : index === 5 ? '-2+3' : '/v1/generate',
      },
      ledger.deps,
    );
  }
  clock.set('2026-05-03T09:00:00.000Z');
  await refund({ requestId: 'refund-1', orgId: ORG, refundOf: 'job-1' }, ledger.deps);
  // What the table's stream does for each event (this file runs no stream poller).
  for (const item of await ledger.scanAll()) if (item.entity === 'event') await ledger.deps.store.applyRollup(toEventRecord(item));
});

/** A sink that keeps what was sent, as the local runner's response would carry it. */
function memorySink() {
  const sent = { status: 0, headers: {} as Record<string, string>, body: '', ended: false, aborted: false };
  const sink: ResponseSink = {
    start: (status, headers) => void Object.assign(sent, { status, headers }),
    write: async (chunk) => void (sent.body += chunk),
    end: () => void (sent.ended = true),
    abort: () => void (sent.aborted = true),
  };
  return { sink, sent };
}

async function exportCsv(query: Record<string, string | readonly string[] | undefined>, deps = ledger.deps) {
  const { sink, sent } = memorySink();
  await streamingAreaHandler(exportRoutes, () => deps)(readerEvent('GET /v1/usage/export.csv', olga, { query }), sink, {});
  return sent;
}

async function allEventRows(query: Record<string, string>) {
  const rows: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  do {
    const answer = await areaHandler(analyticsRoutes, () => ledger.deps)(readerEvent('GET /v1/usage/events', olga, { query: { ...query, limit: '100', cursor } }) as APIGatewayProxyEvent, {} as never);
    const body = parseBody(answer);
    rows.push(...body.items);
    cursor = body.nextCursor ?? undefined;
  } while (cursor);
  return rows;
}

const cellOf = (value: unknown) => (value === null || value === undefined ? '' : String(value));

describe('the CSV export', () => {
  it('streams every row of the events table, in its order, under a header, as CSV with a filename', async () => {
    const sent = await exportCsv({ ...may, sort: 'amount' });
    expect(sent).toMatchObject({ status: 200, ended: true, aborted: false });
    expect(sent.headers).toEqual({ 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="usage-events.csv"' });
    const [header, ...records] = parse(sent.body) as string[][];
    expect(header).toEqual([...EVENT_COLUMNS]);
    const expected = (await allEventRows({ ...may, sort: 'amount' })).map((row) =>
      EVENT_COLUMNS.map((column) => {
        const text = cellOf(row[column]);
        return typeof row[column] === 'string' && /^[=+\-@]/.test(text) ? `'${text}` : text;
      }),
    );
    expect(records).toHaveLength(131);
    expect(records).toEqual(expected);
  });

  it('neutralises cells a spreadsheet would run as formulas, and keeps numbers (a refund is negative) as numbers', async () => {
    const records = parse((await exportCsv({ ...may, sort: 'createdAt', order: 'asc' })).body, { columns: true }) as Record<string, string>[];
    const byRequest = new Map(records.map((record) => [record.requestId, record]));
    expect(byRequest.get('job-3')!.modelName).toBe(`'=HYPERLINK("http://evil","click"), "quoted"`);
    expect(byRequest.get('job-4')!.endpoint).toBe("'@SUM(A1:A9)");
    expect(byRequest.get('job-5')!.endpoint).toBe("'-2+3");
    expect(byRequest.get('refund-1')).toMatchObject({ amount: '-2', kind: 'refund', refundOf: 'job-1' });
    for (const record of records) expect(Object.values(record).filter((cell) => /^[=+@]/.test(cell))).toEqual([]);
  });

  it('exports the breakdown with groupBy, and refuses event-only filters with it', async () => {
    const sent = await exportCsv({ ...may, groupBy: 'userId,jobType' });
    const records = parse(sent.body, { columns: true }) as Record<string, string>[];
    const breakdown = parseBody(
      await areaHandler(analyticsRoutes, () => ledger.deps)(readerEvent('GET /v1/usage/breakdown', olga, { query: { ...may, groupBy: 'userId,jobType' } }) as APIGatewayProxyEvent, {} as never),
    );
    expect(sent.headers['content-disposition']).toBe('attachment; filename="usage-breakdown.csv"');
    expect(records).toHaveLength(2);
    expect(records).toEqual(breakdown.groups.map((group: Record<string, unknown>) => Object.fromEntries(Object.entries(group).map(([key, value]) => [key, cellOf(value)]))));
    const refused = await exportCsv({ ...may, groupBy: 'userId', minCu: '1' });
    expect([refused.status, JSON.parse(refused.body).error]).toEqual([400, expect.objectContaining({ code: 'validation_failed', field: 'minCu' })]);
  });

  it('answers bad filters and a store that cannot answer with their own status, before any CSV', async () => {
    const reversed = await exportCsv({ startDate: '2026-05-31', endDate: '2026-05-01' });
    expect([reversed.status, reversed.headers['content-type'], JSON.parse(reversed.body).error.field]).toEqual([400, 'application/json', 'endDate']);
    const failing = { ...ledger.deps, store: { ...ledger.deps.store, listTableEvents: () => Promise.reject(new TransientStoreError('down')) } };
    const unavailable = await exportCsv(may, failing as typeof ledger.deps);
    expect(unavailable.status).toBe(503);
  });

  it('breaks the transfer off when a later page fails, rather than ending a short file', async () => {
    let pages = 0;
    const store = ledger.deps.store;
    const flaky = { ...ledger.deps, store: { ...store, listTableEvents: (...args: Parameters<typeof store.listTableEvents>) => (++pages === 1 ? store.listTableEvents(...args) : Promise.reject(new Error('lost'))) } };
    const sent = await exportCsv(may, flaky as typeof ledger.deps);
    expect(sent).toMatchObject({ status: 200, ended: false, aborted: true });
    expect((parse(sent.body) as string[][]).length).toBe(101);
  });
});
