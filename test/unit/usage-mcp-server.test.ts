// The MCP usage server (infra/mcp) through the SDK's own client, in memory, against a stand-in Analytics API on
// 127.0.0.1 (node:http) that records what each tool sends: the key as HTTP Basic, the route's path, repeated filters.
// Its settings, and `npm run mcp` refusing to start without them.

import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import * as z from 'zod/mini';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { usageRoutes } from '../../functions/analytics/usage-routes';
import { freePort } from '../../infra/local/dynamodb-local';
import { analyticsApiConfig, type AnalyticsApiConfig } from '../../infra/mcp/analytics-api-client';
import { USAGE_TOOLS, createUsageMcpServer } from '../../infra/mcp/usage-mcp-server';
import { REPO_ROOT, runnerEnvironment } from '../support/runner-process';

const KEY_ID = 'ak_test';
const SECRET = 'sk_very-secret-value';

interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
}

/** The stand-in API: records each request and answers what the test set (the same JSON for every request). */
function fakeAnalyticsApi() {
  const requests: Recorded[] = [];
  let answer: { status: number; body: string } = { status: 200, body: '{}' };
  const server: Server = createServer((request: IncomingMessage, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    requests.push({ method: request.method ?? '', path: url.pathname, query: url.searchParams, authorization: request.headers.authorization });
    response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  return {
    requests,
    answer: (status: number, body: unknown) => (answer = { status, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    start: () => new Promise<string>((ready) => server.listen(0, '127.0.0.1', () => ready(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    stop: () => new Promise<void>((done) => server.close(() => done())),
  };
}

async function connectedClient(config: AnalyticsApiConfig): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createUsageMcpServer(config).connect(serverSide);
  const client = new Client({ name: 'usage-mcp-test', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}

const textOf = (result: Awaited<ReturnType<Client['callTool']>>) => (result.content as { type: string; text: string }[]).map((part) => part.text).join('\n');

describe('the MCP usage server against a stand-in Analytics API', () => {
  const api = fakeAnalyticsApi();
  let client: Client;

  beforeAll(async () => {
    const url = await api.start();
    client = await connectedClient(analyticsApiConfig({ CU_LEDGER_URL: `${url}/v1/`, CU_LEDGER_KEY: KEY_ID, CU_LEDGER_SECRET: SECRET }));
  });
  afterAll(async () => {
    await client.close();
    await api.stop();
  });
  afterEach(() => {
    api.requests.length = 0;
    api.answer(200, {});
  });

  it("lists the five tools, each with its route's query parameters as its input schema", async () => {
    // Act
    const { tools } = await client.listTools();

    // Assess
    expect(tools.map((tool) => tool.name).sort()).toEqual(['power_users', 'usage_breakdown', 'usage_events', 'usage_summary', 'usage_timeseries']);
    for (const tool of tools) {
      const routeSchema = usageRoutes[USAGE_TOOLS[tool.name as keyof typeof USAGE_TOOLS]]!.doc.query as z.ZodMiniObject;
      expect(Object.keys(tool.inputSchema.properties ?? {}).sort(), tool.name).toEqual(Object.keys(routeSchema.shape).sort());
      expect(tool.inputSchema.additionalProperties, tool.name).toBe(false);
      expect(tool.inputSchema.properties!.startDate, tool.name).toMatchObject({ type: 'string', format: 'date' });
      expect(tool.inputSchema.properties!.projectId, tool.name).toMatchObject({ type: 'array', items: { type: 'string' } });
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(true);
    }
    const events = tools.find((tool) => tool.name === 'usage_events')!;
    expect(events.inputSchema.properties!.poolCategory).toMatchObject({ type: 'array', items: { enum: ['allocated', 'surplus', 'hybrid'] } });
    expect(tools.find((tool) => tool.name === 'usage_breakdown')!.inputSchema.required).toEqual(['groupBy']);
  });

  it('asks the route with the key as HTTP Basic, each repeatable filter repeated, and answers its JSON', async () => {
    // Prepare
    const body = { startDate: '2026-05-01', endDate: '2026-05-31', groupBy: ['userId', 'modelId'], groups: [{ userId: 'ana', modelId: 'gpt-image', cu: 4, jobs: 2 }] };
    api.answer(200, body);

    // Act
    const result = await client.callTool({
      name: 'usage_breakdown',
      arguments: { startDate: '2026-05-01', endDate: '2026-05-31', groupBy: 'userId,modelId', projectId: ['web', 'app'], jobType: ['image_generation'] },
    });

    // Assess
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual(body);
    expect(JSON.parse(textOf(result))).toEqual(body);
    expect(api.requests).toHaveLength(1);
    const [request] = api.requests;
    expect([request!.method, request!.path]).toEqual(['GET', '/v1/usage/breakdown']);
    expect(request!.authorization).toBe(`Basic ${Buffer.from(`${KEY_ID}:${SECRET}`).toString('base64')}`);
    expect(request!.query.getAll('projectId')).toEqual(['web', 'app']);
    expect(request!.query.getAll('jobType')).toEqual(['image_generation']);
    expect(request!.query.getAll('groupBy')).toEqual(['userId,modelId']);
    expect([...request!.query.keys()].sort()).toEqual(['endDate', 'groupBy', 'jobType', 'projectId', 'projectId', 'startDate']);
  });

  it.each(Object.entries(USAGE_TOOLS))('%s asks %s', async (name, routeKey) => {
    // Act
    const result = await client.callTool({ name, arguments: name === 'usage_breakdown' ? { groupBy: 'jobType' } : {} });

    // Assess
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(api.requests.map((request) => `${request.method} ${request.path}`)).toEqual([routeKey]);
  });

  it("sends the route's defaults and numbers as the route reads them", async () => {
    // Act
    await client.callTool({ name: 'usage_events', arguments: { minCu: -2.5, poolCategory: ['surplus'], cursor: 'abc' } });

    // Assess
    expect(Object.fromEntries(api.requests[0]!.query)).toEqual({ minCu: '-2.5', poolCategory: 'surplus', cursor: 'abc', sort: 'createdAt', order: 'desc', limit: '25' });
  });

  it("refuses a malformed argument as a tool error naming the field, before asking the API", async () => {
    // Act
    const result = await client.callTool({ name: 'usage_summary', arguments: { startDate: '2026-13-99' } });
    const unknown = await client.callTool({ name: 'power_users', arguments: { top: 5 } });

    // Assess
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/must be a calendar date YYYY-MM-DD at startDate/);
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/"top"/);
    expect(api.requests).toEqual([]);
  });

  it("turns the API's error answer into a tool error naming its code and field", async () => {
    // Prepare
    api.answer(400, { error: { code: 'validation_failed', message: 'endDate: must be at most 366 days after startDate', field: 'endDate' } });

    // Act
    const result = await client.callTool({ name: 'usage_timeseries', arguments: { startDate: '2024-01-01', endDate: '2026-01-01' } });

    // Assess
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('HTTP 400 validation_failed, field endDate: endDate: must be at most 366 days after startDate');
    expect(result.structuredContent).toEqual({ error: { code: 'validation_failed', message: 'endDate: must be at most 366 days after startDate', field: 'endDate' } });
  });

  it('says a 401 means the key was refused, naming the key and never the secret', async () => {
    // Prepare
    api.answer(401, { error: { code: 'unauthorized', message: 'Send Authorization: Basic base64(<key>:<secret>).' } });

    // Act
    const result = await client.callTool({ name: 'usage_summary', arguments: {} });

    // Assess
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^HTTP 401 unauthorized: the Analytics API refused analytics key ak_test; check CU_LEDGER_KEY and CU_LEDGER_SECRET/);
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('reports an answer without a JSON error body, and an API it cannot reach, as tool errors', async () => {
    // Prepare
    api.answer(502, '<html>Bad Gateway</html>');
    const closedPort = await freePort();
    const unreachable = await connectedClient({ baseUrl: `http://127.0.0.1:${closedPort}`, keyId: KEY_ID, secret: SECRET });

    // Act
    const badGateway = await client.callTool({ name: 'power_users', arguments: {} });
    const refused = await unreachable.callTool({ name: 'power_users', arguments: {} });
    await unreachable.close();

    // Assess
    expect([badGateway.isError, textOf(badGateway)]).toEqual([true, 'HTTP 502: the Analytics API answered without a JSON error body.']);
    expect([refused.isError, textOf(refused)]).toEqual([true, `Could not reach the Analytics API at http://127.0.0.1:${closedPort}: ECONNREFUSED.`]);
  });
});

describe('the MCP usage server settings', () => {
  const env = { CU_LEDGER_URL: 'https://api.example.com', CU_LEDGER_KEY: KEY_ID, CU_LEDGER_SECRET: SECRET };

  it.each([
    ['https://api.example.com', 'https://api.example.com'],
    ['https://api.example.com/', 'https://api.example.com'],
    ['https://api.example.com/v1', 'https://api.example.com'],
    ['https://abc.execute-api.eu-west-1.amazonaws.com/api/', 'https://abc.execute-api.eu-west-1.amazonaws.com/api'],
    ['https://abc.execute-api.eu-west-1.amazonaws.com/prod/v1/', 'https://abc.execute-api.eu-west-1.amazonaws.com/prod'],
    ['http://127.0.0.1:8787', 'http://127.0.0.1:8787'],
    ['http://localhost:8787/v1/', 'http://localhost:8787'],
  ])('takes %s as the base URL %s', (url, baseUrl) => {
    expect(analyticsApiConfig({ ...env, CU_LEDGER_URL: url })).toEqual({ baseUrl, keyId: KEY_ID, secret: SECRET });
  });

  it.each([
    [{ CU_LEDGER_URL: undefined }, 'CU_LEDGER_URL is not set.'],
    [{ CU_LEDGER_KEY: '', CU_LEDGER_SECRET: undefined }, 'CU_LEDGER_KEY, CU_LEDGER_SECRET are not set.'],
    [{ CU_LEDGER_URL: 'api.example.com' }, /^CU_LEDGER_URL is not a URL/],
    [{ CU_LEDGER_URL: 'ftp://api.example.com' }, 'CU_LEDGER_URL must be an http or https URL.'],
    [{ CU_LEDGER_URL: 'http://api.example.com' }, /^CU_LEDGER_URL must use https for any host but this machine/],
    [{ CU_LEDGER_URL: 'https://api.example.com/?stage=prod' }, 'CU_LEDGER_URL must hold no credentials, query or fragment.'],
    [{ CU_LEDGER_KEY: 'ak_1:sk_2' }, "CU_LEDGER_KEY must be the key's id, without a colon."],
  ])('refuses %j', (change, message) => {
    expect(() => analyticsApiConfig({ ...env, ...change })).toThrow(message);
  });

  it('`npm run mcp` refuses to start without its settings: a message on stderr, nothing on stdout, exit 2, no secret', async () => {
    // Act
    const outcome = await promisify(execFile)('npm', ['run', '--silent', 'mcp'], {
      cwd: REPO_ROOT,
      env: runnerEnvironment({ CU_LEDGER_URL: 'http://api.example.com', CU_LEDGER_KEY: KEY_ID, CU_LEDGER_SECRET: SECRET }),
    }).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

    // Assess
    expect({ code: outcome.code, stdout: outcome.stdout }).toEqual({ code: 2, stdout: '' });
    expect(outcome.stderr).toMatch(/CU_LEDGER_URL must use https/);
    expect(outcome.stderr).not.toContain(SECRET);
  });
});
