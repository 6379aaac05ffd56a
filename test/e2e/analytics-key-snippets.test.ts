// End to end, as a BI developer follows seed 003: an org's analytics key, May 2026's usage, and the seed's own
// snippets (Python requests, Node fetch, curl -u and curl with the explicit Basic header) run as the seed shows them
// against the local runner: only the base URL and the environment differ (test/fixtures/seed-003/README.md). Then the
// Basic headers a BI tool gets wrong: each a 401 with the Basic challenge, never a 500.

import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BASIC_CHALLENGE } from '../../infra/analytics-gateway-responses';
import { basicAuthorization, createAnalyticsKey, provision, type IssuedKey } from '../support/analytics-callers';
import { client, runnerForSuite, type Json } from '../support/runner-http';
import { REPO_ROOT } from '../support/runner-process';

const run = promisify(execFile);
const FIXTURES = join(REPO_ROOT, 'test/fixtures/seed-003');
/** The base URL the seed's snippets call; each run puts the runner's in its place. */
const SEED_BASE_URL = 'https://api.cloud.scenario.com/v1';
const ORG = 'scenario-demo';
const MAY_2026 = 'startDate=2026-05-01&endDate=2026-05-31';

/** Why the Python snippet cannot run here, if it cannot: it needs python3 with requests. */
const pythonMissing = (() => {
  const probe = spawnSync('python3', ['-c', 'import requests'], { encoding: 'utf8' });
  if (probe.error) return `python3 did not start (${probe.error.message})`;
  if (probe.status !== 0) return `python3 -c 'import requests' failed: ${probe.stderr.trim().split('\n').at(-1)}`;
  return undefined;
})();

const consume = (requestId: string, job: Record<string, unknown>) => ({ requestId, orgId: ORG, jobType: 'image_generation', ...job });
/** A job on the last evening of April: outside the seed's window, so the snippets must not count it. */
const APRIL_JOB = consume('april-1', { projectId: 'studio', userId: 'c452b444', cu: 100, modelId: 'seedance-2', modelName: 'Seedance 2.0', assetKind: 'video', assetCount: 1 });
const MAY_JOBS = [
  consume('may-1', { projectId: 'studio', userId: 'c452b444', jobType: 'video_generation', cu: 32.75, modelId: 'seedance-2', modelName: 'Seedance 2.0', assetKind: 'video', assetCount: 1 }),
  consume('may-2', { projectId: 'studio', userId: 'c452b444', cu: 4.5, modelId: 'gpt-image-2', modelName: 'GPT Image 2', assetKind: 'image', assetCount: 4 }),
  consume('may-3', { projectId: 'studio', userId: 'apiu_x89E', cu: 1.25, modelId: 'gpt-image-2', modelName: 'GPT Image 2', assetKind: 'image', assetCount: 1 }),
  consume('may-4', { projectId: 'games', userId: 'd7a19f30', jobType: 'model_generation', cu: 9, modelId: 'hunyuan-3d', modelName: 'Hunyuan 3D', assetKind: '3d', assetCount: 2 }),
];
const MAY_TOTAL_CU = 47.5;

describe("seed 003's snippets against the local runner", () => {
  const runner = runnerForSuite({ inMemory: true });
  const call = client(runner);
  const scratch = mkdtempSync(join(tmpdir(), 'cu-ledger-seed-003-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  let key: IssuedKey;
  /** GET /v1/usage for May 2026 with the key, as the runner answers it directly: what every snippet must show. */
  let direct: Json;

  beforeAll(async () => {
    // Consumes are charged at the runner's clock: the last evening of April, then May 20th.
    const setClock = async (at: string) => expect((await call('PUT', '/local/clock', { body: { at } })).status).toBe(200);
    await setClock('2026-04-30T22:00:00Z');
    await provision(call, `/v1/orgs/${ORG}`, { name: 'Scenario demo', plan: { name: 'pro', allowanceCu: 100_000 }, billingAnchor: '2026-04-01' });
    expect((await call('POST', '/v1/meter/consume', { body: APRIL_JOB })).status).toBe(200);
    await setClock('2026-05-20T12:00:00Z');
    for (const job of MAY_JOBS) {
      const charged = await call('POST', '/v1/meter/consume', { body: job });
      expect(charged.status, charged.text).toBe(200);
    }
    key = await createAnalyticsKey(call, ORG, 'finance-bi-monthly');
    // The usage cells are written from the table's stream a moment after each consume: wait for them, however loaded.
    await vi.waitFor(
      async () => {
        const usage = await call('GET', `/v1/usage?${MAY_2026}`, { authorization: basicAuthorization(key.keyId, key.secret) });
        expect(usage.status, usage.text).toBe(200);
        expect(usage.body.totals.totalCU).toBe(MAY_TOTAL_CU);
        // A model's friendly name is its own write, just after the cells: wait for it as well.
        expect(usage.body.modelUsages.map((model: Json) => model.modelName)).toEqual(['Seedance 2.0', 'Hunyuan 3D', 'GPT Image 2']);
        direct = usage.body;
      },
      { timeout: 60_000, interval: 200 },
    );
  }, 120_000);

  /** The fixture as the seed has it, the runner's base URL in place of the seed's, written where it can run. */
  function snippetFile(name: string): string {
    const text = readFileSync(join(FIXTURES, name), 'utf8');
    expect(text).toContain(SEED_BASE_URL);
    const file = join(scratch, name);
    writeFileSync(file, text.replaceAll(SEED_BASE_URL, `${runner().url}/v1`));
    return file;
  }

  async function runSnippet(command: string, args: readonly string[], env: Record<string, string>): Promise<string> {
    const { stdout } = await run(command, args, { cwd: scratch, env: { ...process.env, ...env }, timeout: 60_000 });
    return stdout;
  }

  const pythonTitle = 'the Python snippet (requests, auth=(key, secret)) prints totals.totalCU, then modelName and totalCU of the top models';
  it.skipIf(pythonMissing !== undefined)(pythonMissing ? `${pythonTitle}: skipped, ${pythonMissing}` : pythonTitle, async () => {
    const stdout = await runSnippet('python3', [snippetFile('usage.py')], { SC_KEY: key.keyId, SC_SECRET: key.secret });

    const models = direct.modelUsages.slice(0, 5).map((model: Json) => `${model.modelName} ${model.totalCU}`);
    expect(stdout.trimEnd().split('\n')).toEqual([String(direct.totals.totalCU), ...models]);
  });

  it('the Node snippet (fetch with a Basic header, run as an ES module) prints totals.totalCU', async () => {
    const stdout = await runSnippet(process.execPath, [snippetFile('usage.mjs')], { SC_KEY: key.keyId, SC_SECRET: key.secret });

    expect(stdout).toBe(`${direct.totals.totalCU}\n`);
  });

  it.each(['curl-u.sh', 'curl-header.sh'])('%s prints the JSON with totals, consumption, modelUsages and assetUsages', async (name) => {
    // The header form pipes printf into base64, which wraps at 76 characters: key:secret (55 bytes) fits one line.
    expect(`${key.keyId}:${key.secret}`).toHaveLength(55);
    const script = readFileSync(snippetFile(name), 'utf8');

    const stdout = await runSnippet('bash', ['-c', script], { SCENARIO_KEY: key.keyId, SCENARIO_SECRET: key.secret });

    const printed = JSON.parse(stdout);
    expect(Object.keys(printed)).toEqual(['totals', 'consumption', 'modelUsages', 'assetUsages']);
    expect(printed).toEqual(direct);
  });

  describe('a Basic header gone wrong', () => {
    const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
    const basicOf = (text: string) => `Basic ${base64(text)}`;
    /** The secret with its last (checksum) character changed: well shaped, but its checksum no longer holds. */
    const brokenChecksum = (secret: string) => `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    const MALFORMED: readonly [string, (key: IssuedKey) => string][] = [
      ['no colon', (k) => basicOf(`${k.keyId}${k.secret}`)],
      ['not base64 at all', () => 'Basic %%not*base64%%'],
      ['base64 cut short by a character', (k) => basicAuthorization(k.keyId, k.secret).slice(0, -1)],
      ['an empty key id (:secret)', (k) => basicOf(`:${k.secret}`)],
      ['an empty secret (key:)', (k) => basicOf(`${k.keyId}:`)],
      ['a colon alone', () => basicOf(':')],
      ['the scheme alone', () => 'Basic'],
      ['10 KB of credentials', () => `Basic ${'QUJD'.repeat(2_560)}`],
      ['unicode in the secret', (k) => basicOf(`${k.keyId}:${k.secret.slice(0, -2)}é€`)],
      ['unicode in the key id', (k) => basicOf(`${k.keyId.slice(0, -1)}ü:${k.secret}`)],
      ['a byte beyond ASCII after the credentials', (k) => `${basicAuthorization(k.keyId, k.secret)}ÿ`],
      ['a space inside the base64', (k) => basicAuthorization(k.keyId, k.secret).replace(/^(Basic .{20})/, '$1 ')],
      ['spaces around the colon', (k) => basicOf(`${k.keyId} : ${k.secret}`)],
      ['a trailing newline (echo instead of printf)', (k) => basicOf(`${k.keyId}:${k.secret}\n`)],
      ['key:secret not base64-encoded', (k) => `Basic ${k.keyId}:${k.secret}`],
      ['no scheme', (k) => base64(`${k.keyId}:${k.secret}`)],
      ['another scheme (Digest)', (k) => `Digest ${base64(`${k.keyId}:${k.secret}`)}`],
      ["a real key with the secret's checksum broken", (k) => basicOf(`${k.keyId}:${brokenChecksum(k.secret)}`)],
      ['Bearer key: (no secret)', (k) => `Bearer ${k.keyId}:`],
      ['Bearer :secret (no key id)', (k) => `Bearer :${k.secret}`],
    ];

    it('lets the same key in when the header is right, with one or more spaces after the scheme (a control)', async () => {
      for (const authorization of [basicAuthorization(key.keyId, key.secret), basicAuthorization(key.keyId, key.secret).replace(' ', '   ')]) {
        const reply = await call('GET', `/v1/usage?${MAY_2026}`, { authorization });
        expect(reply.status, reply.text).toBe(200);
      }
    });

    it.each(MALFORMED)('%s: 401 with the Basic challenge and the error body, never a 500', async (_case, header) => {
      const reply = await call('GET', `/v1/usage?${MAY_2026}`, { authorization: header(key) });

      expect(reply.status, reply.text).toBe(401);
      expect(reply.headers!.get('www-authenticate')).toBe(BASIC_CHALLENGE);
      expect(reply.contentType).toMatch(/^application\/json/);
      expect(reply.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      expect(reply.text).not.toContain(key.keyId);
    });

    it('refuses all of them before any lookup: the feed has no failed authentication of the key', async () => {
      const feed = await call('GET', `/v1/activity?${MAY_2026}&limit=100`, { authorization: basicAuthorization(key.keyId, key.secret) });

      expect(feed.status, feed.text).toBe(200);
      expect(feed.body.items.map((row: Json) => row.kind)).toContain('analytics_key_created');
      expect(feed.body.items.map((row: Json) => row.kind)).not.toContain('analytics_key_auth_failed');
    });
  });
});
