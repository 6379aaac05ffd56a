// The MCP usage server as a person's MCP client runs it: `npm run --silent mcp` spawned by the SDK's own stdio client,
// with an org analytics key made on the local runner. Every tool must answer what a direct GET with the same key
// answers; a bad argument, a foreign team and a wrong secret come back as tool errors.

import { tmpdir } from 'node:os';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import * as z from 'zod/mini';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { usageRoutes } from '../../functions/analytics/usage-routes';
import { USAGE_TOOLS } from '../../infra/mcp/usage-mcp-server';
import { client as runnerClient, runnerForSuite, type Reply } from '../support/runner-http';
import { REPO_ROOT, runnerEnvironment } from '../support/runner-process';

const today = new Date().toISOString().slice(0, 10);
type ToolResult = Awaited<ReturnType<Client['callTool']>>;
const textOf = (result: ToolResult) => (result.content as { text: string }[]).map((part) => part.text).join('\n');

/** An MCP client of `npm run --silent mcp`, started as the README's configuration starts it: from elsewhere, with --prefix. */
async function mcpClient(settings: { url: string; keyId: string; secret: string }): Promise<Client> {
  const env = runnerEnvironment({ CU_LEDGER_URL: settings.url, CU_LEDGER_KEY: settings.keyId, CU_LEDGER_SECRET: settings.secret });
  const transport = new StdioClientTransport({
    command: 'npm',
    args: ['--prefix', REPO_ROOT, 'run', '--silent', 'mcp'],
    cwd: tmpdir(),
    env: Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)),
    stderr: 'ignore',
  });
  const client = new Client({ name: 'usage-mcp-e2e', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

describe('the MCP usage server on the local runner', () => {
  const runner = runnerForSuite({ inMemory: true });
  const call = runnerClient(runner);
  let key: { keyId: string; secret: string };
  let mcp: Client;
  const basic = (keyId: string, secret: string) => `Basic ${Buffer.from(`${keyId}:${secret}`).toString('base64')}`;
  const direct = (path: string): Promise<Reply> => call('GET', path, { authorization: basic(key.keyId, key.secret) });

  beforeAll(async () => {
    const put = async (path: string, body: unknown) => expect((await call('PUT', path, { body })).status).toBe(200);
    for (const orgId of ['acme', 'globex']) await put(`/v1/orgs/${orgId}`, { plan: { name: 'pro', allowanceCu: 1000 }, billingAnchor: today });
    const jobs = [
      { orgId: 'acme', requestId: 'job-1', projectId: 'web', userId: 'ana', jobType: 'image_generation', cu: 4, modelId: 'gpt-image', modelName: 'GPT Image 2', assetKind: 'image', assetCount: 2 },
      { orgId: 'acme', requestId: 'job-2', projectId: 'web', userId: 'apiu_bot', jobType: 'image_generation', cu: 1.5, modelId: 'gpt-image', modelName: 'GPT Image 2', assetKind: 'image', assetCount: 1 },
      { orgId: 'acme', requestId: 'job-3', projectId: 'app', userId: 'ben', jobType: 'video_generation', cu: 10, modelId: 'seedance', modelName: 'Seedance 2.0', assetKind: 'video', assetCount: 1 },
      { orgId: 'acme', requestId: 'job-4', projectId: 'app', userId: 'ana', jobType: 'video_generation', cu: 2.25, modelId: 'seedance', modelName: 'Seedance 2.0', assetKind: 'video', assetCount: 1 },
      { orgId: 'globex', requestId: 'job-g', projectId: 'web', userId: 'gus', jobType: 'image_generation', cu: 7, modelId: 'gpt-image' },
    ];
    for (const job of jobs) expect((await call('POST', '/v1/meter/consume', { body: job })).status).toBe(200);
    expect((await call('POST', '/v1/meter/refund', { body: { orgId: 'acme', requestId: 'refund-3', refundOf: 'job-3', cu: 4 } })).status).toBe(200);

    const created = await call('POST', '/v1/orgs/acme/analytics-keys', { body: { name: 'mcp-e2e' } });
    expect(created.status, created.text).toBe(201);
    key = { keyId: created.body.keyId, secret: created.body.secret };
    // The rollup is written from the runner's stream a moment after each consume: wait until the key sees all of it.
    await vi.waitFor(
      async () => {
        const usage = await direct(`/v1/usage?startDate=${today}&endDate=${today}`);
        expect(usage.status, usage.text).toBe(200);
        expect(usage.body.totals.totalCU).toBe(13.75);
        // A model's friendly name is its own write, just after the cells: the tools and the direct reads must agree.
        expect(usage.body.modelUsages.map((model: { modelName: string }) => model.modelName).sort()).toEqual(['GPT Image 2', 'Seedance 2.0']);
      },
      { timeout: 60_000, interval: 100 },
    );
    mcp = await mcpClient({ url: runner().url, ...key });
  }, 120_000);

  afterAll(async () => {
    await mcp?.close();
  });

  it("lists the five tools, each with its route's query parameters", async () => {
    const { tools } = await mcp.listTools();

    expect(tools.map((tool) => tool.name).sort()).toEqual(Object.keys(USAGE_TOOLS).sort());
    for (const tool of tools) {
      const routeSchema = usageRoutes[USAGE_TOOLS[tool.name as keyof typeof USAGE_TOOLS]]!.doc.query as z.ZodMiniObject;
      expect(Object.keys(tool.inputSchema.properties ?? {}).sort(), tool.name).toEqual(Object.keys(routeSchema.shape).sort());
      for (const filter of ['startDate', 'endDate', 'teamId', 'projectId', 'userId', 'jobType', 'modelId']) expect(tool.inputSchema.properties, tool.name).toHaveProperty(filter);
    }
  });

  it.each([
    ['usage_summary', { startDate: today, endDate: today }, `/v1/usage?startDate=${today}&endDate=${today}`],
    ['usage_summary', { projectId: ['app'], userId: ['ana', 'ben'] }, '/v1/usage?projectId=app&userId=ana&userId=ben'],
    ['usage_timeseries', { startDate: today, endDate: today, metric: 'jobs', granularity: 'hour' }, `/v1/usage/timeseries?startDate=${today}&endDate=${today}&metric=jobs&granularity=hour`],
    ['usage_timeseries', { jobType: ['video_generation'] }, '/v1/usage/timeseries?jobType=video_generation'],
    ['usage_breakdown', { groupBy: 'projectId,modelId' }, '/v1/usage/breakdown?groupBy=projectId,modelId'],
    ['usage_breakdown', { groupBy: 'userId', projectId: ['web', 'app'], modelId: ['seedance'] }, '/v1/usage/breakdown?groupBy=userId&projectId=web&projectId=app&modelId=seedance'],
    ['power_users', { limit: 2 }, '/v1/usage/power-users?limit=2'],
    ['usage_events', { sort: 'amount', order: 'asc' }, '/v1/usage/events?sort=amount&order=asc'],
    ['usage_events', { projectId: ['app'], poolCategory: ['allocated'], minCu: -5 }, '/v1/usage/events?projectId=app&poolCategory=allocated&minCu=-5'],
  ])('%s with %j answers what GET %s answers with the same key', async (name, args, path) => {
    const [result, reply] = await Promise.all([mcp.callTool({ name, arguments: args }), direct(path)]);

    expect(reply.status, reply.text).toBe(200);
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(result.structuredContent).toEqual(reply.body);
    expect(JSON.parse(textOf(result))).toEqual(reply.body);
  });

  it('pages the events table with the cursor of the page before, as the route does', async () => {
    const first = await mcp.callTool({ name: 'usage_events', arguments: { limit: 2 } });
    const cursor = (first.structuredContent as { nextCursor: string | null }).nextCursor;
    expect(cursor).toEqual(expect.any(String));

    const [second, reply] = await Promise.all([mcp.callTool({ name: 'usage_events', arguments: { limit: 2, cursor } }), direct(`/v1/usage/events?limit=2&cursor=${encodeURIComponent(cursor!)}`)]);

    expect(second.structuredContent).toEqual(reply.body);
    expect(reply.body.items).toHaveLength(2);
  });

  it('sees the whole org and nothing of another: a foreign teamId is the tool error the route gives', async () => {
    const [result, reply] = await Promise.all([mcp.callTool({ name: 'usage_summary', arguments: { teamId: 'globex' } }), direct('/v1/usage?teamId=globex')]);

    expect(reply.status).toBe(404);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(`HTTP 404 ${reply.body.error.code}, field ${reply.body.error.field}: ${reply.body.error.message}`);
    expect(result.structuredContent).toEqual(reply.body);
  });

  it('refuses a malformed date as a tool error naming the field', async () => {
    const result = await mcp.callTool({ name: 'usage_summary', arguments: { startDate: '2026-13-99' } });

    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/startDate/);
  });

  it('answers a wrong secret with a tool error that names the key, not the secret', async () => {
    const wrongSecret = `${key.secret}x`;
    const stranger = await mcpClient({ url: `${runner().url}/v1/`, keyId: key.keyId, secret: wrongSecret });
    try {
      const result = await stranger.callTool({ name: 'usage_summary', arguments: {} });

      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(new RegExp(`^HTTP 401 unauthorized: the Analytics API refused analytics key ${key.keyId}`));
      expect(JSON.stringify(result)).not.toContain(wrongSecret);
    } finally {
      await stranger.close();
    }
  });
});
