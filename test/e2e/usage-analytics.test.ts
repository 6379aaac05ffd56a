// End to end on the local runner, as an admin's dashboard or a BI tool would use it: consumes through the meter
// route, the runner's stream poller rolling them up, and the usage routes, the events table, the CSV export and the
// activity feed read with a token from `npm run token`, over HTTP.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { client, runnerForSuite } from '../support/runner-http';
import { REPO_ROOT, runnerEnvironment } from '../support/runner-process';

const run = promisify(execFile);
const keyDirectory = mkdtempSync(join(tmpdir(), 'cu-ledger-usage-'));
const keyEnvironment = { DEV_ISSUER_KEY_FILE: join(keyDirectory, 'dev-issuer.json') };
afterAll(() => rmSync(keyDirectory, { recursive: true, force: true }));

async function tokenFor(orgId: string, userId: string): Promise<string> {
  const { stdout } = await run('npm', ['run', '--silent', 'token', '--', '--org', orgId, '--user', userId], { cwd: REPO_ROOT, env: runnerEnvironment(keyEnvironment) });
  return stdout.trim();
}

const today = new Date().toISOString().slice(0, 10);

describe('usage analytics on the local runner', () => {
  const runner = runnerForSuite({ inMemory: true, env: keyEnvironment });
  const call = client(runner);
  let olga: string;
  let pat: string;
  const read = (path: string, token: string) => call('GET', path, { authorization: `Bearer ${token}` });

  beforeAll(async () => {
    const put = async (path: string, body: unknown) => expect((await call('PUT', path, { body })).status).toBe(200);
    await put('/v1/orgs/acme', { plan: { name: 'pro', allowanceCu: 1000 }, billingAnchor: today });
    await put('/v1/orgs/acme/members/olga', { role: 'org_admin' });
    await put('/v1/orgs/acme/members/pat', { role: 'project_admin', adminOfProjectIds: ['web'] });
    const jobs = [
      { requestId: 'job-1', projectId: 'web', userId: 'ana', jobType: 'image_generation', cu: 4, modelId: 'gpt-image', modelName: 'GPT Image 2', assetKind: 'image', assetCount: 2 },
      { requestId: 'job-2', projectId: 'web', userId: 'apiu_bot', jobType: 'image_generation', cu: 1.5, modelId: 'gpt-image', modelName: 'GPT Image 2', assetKind: 'image', assetCount: 1 },
      { requestId: 'job-3', projectId: 'app', userId: 'ben', jobType: 'video_generation', cu: 10, modelId: 'seedance', modelName: 'Seedance 2.0', assetKind: 'video', assetCount: 1 },
    ];
    for (const job of jobs) expect((await call('POST', '/v1/meter/consume', { body: { orgId: 'acme', ...job } })).status).toBe(200);
    expect((await call('POST', '/v1/meter/refund', { body: { orgId: 'acme', requestId: 'refund-3', refundOf: 'job-3' } })).status).toBe(200);
    [olga, pat] = await Promise.all([tokenFor('acme', 'olga'), tokenFor('acme', 'pat')]);
  }, 120_000);

  it("shows the consumes in GET /v1/usage once the runner's stream has rolled them up, net of the full refund", async () => {
    // The rollup is written from DynamoDB Local's stream, a moment after each consume: wait for it, however loaded.
    await vi.waitFor(
      async () => {
        const usage = await read(`/v1/usage?startDate=${today}&endDate=${today}`, olga);
        expect(usage.status, usage.text).toBe(200);
        expect(usage.body.totals.totalCU).toBe(5.5);
      },
      { timeout: 60_000, interval: 100 },
    );
    const usage = await read(`/v1/usage?startDate=${today}&endDate=${today}`, olga);
    expect(usage.body).toEqual({
      totals: { totalCU: 5.5, users: 2, startDate: today, endDate: today },
      consumption: [
        { userId: 'ana', value: 4, total: 4 },
        { userId: 'apiu_bot', value: 1.5, total: 1.5 },
      ],
      modelUsages: [{ modelName: 'GPT Image 2', totalCU: 5.5, totalJobs: 2, totalApiKeyCU: 1.5 }],
      assetUsages: [{ kind: 'image', total: 3, totalApiKey: 1 }],
    });
  });

  it("gives a project admin their projects only, and 403 for another's", async () => {
    const events = await read(`/v1/usage/events?startDate=${today}&endDate=${today}&sort=amount`, pat);
    expect(events.body.items.map((row: { requestId: string }) => row.requestId)).toEqual(['job-1', 'job-2']);
    const refused = await read(`/v1/usage/events?projectId=web&projectId=app`, pat);
    expect([refused.status, refused.body.error.code]).toEqual([403, 'forbidden']);
  });

  it('lists the events table with the refund as a row of its own, and streams the same rows as CSV', async () => {
    const events = await read(`/v1/usage/events?startDate=${today}&endDate=${today}&projectId=web&projectId=app&sort=createdAt&order=asc`, olga);
    expect(events.body.items.map((row: { requestId: string; amount: number }) => [row.requestId, row.amount])).toEqual([
      ['job-1', 4],
      ['job-2', 1.5],
      ['job-3', 10],
      ['refund-3', -10],
    ]);
    const response = await fetch(`${runner().url}/v1/usage/export.csv?startDate=${today}&endDate=${today}&order=asc`, { headers: { authorization: `Bearer ${olga}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    const records = parse(await response.text(), { columns: true }) as Record<string, string>[];
    expect(records.map((record) => [record.requestId, record.amount])).toEqual([
      ['job-1', '4'],
      ['job-2', '1.5'],
      ['job-3', '10'],
      ['refund-3', '-10'],
    ]);
  });

  it('holds the consumes, the refund and the member changes in the activity feed, newest first', async () => {
    const feed = await read(`/v1/activity?startDate=${today}&endDate=${today}&limit=100`, olga);
    expect(feed.status, feed.text).toBe(200);
    const kinds = feed.body.items.map((row: { kind: string }) => row.kind);
    expect(kinds.slice(0, 4)).toEqual(['refund', 'consume', 'consume', 'consume']);
    expect(kinds).toEqual(expect.arrayContaining(['member_added', 'org_provisioned']));
  });
});
