// The README's "A first session", run as a newcomer runs it: its shell blocks pasted in order into bash, against
// a fresh `npm start`. The answers it prints must be the ones the README shows, and its last block must leave
// nothing running. If the README and the service drift apart, this fails.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../infra/local/dynamodb-local';
import { REPO_ROOT, groupIsAlive, killGroup, refusesConnections, runnerEnvironment, spawnInGroup, type RunnerProcess } from '../support/runner-process';

/** The fenced blocks of one language in the README section under `heading`, in order. */
function readmeBlocks(heading: string, language: string): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  expect(start, `README has no "${heading}"`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + heading.length + 2);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]!);
}

/** A line the README shows, as a pattern: `…` stands for any text (an event id). */
function shownLine(line: string): RegExp {
  return new RegExp(`^${line.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`);
}

const STATUS = / -> HTTP (\d{3})$/;
let session: RunnerProcess | undefined;
afterEach(() => {
  if (session) killGroup(session.child);
});

/** Runs `script` in bash as pasted, on a free port; it must end well. Answers its output and its lines with a status. */
async function pasteIntoBash(script: string): Promise<{ output: string; answers: string[]; port: number }> {
  const port = await freePort();
  session = spawnInGroup('bash', ['-c', script], { env: runnerEnvironment({ PORT: String(port) }) });
  const exit = await session.exited;
  const output = session.output();
  expect(exit.code, output).toBe(0);
  return { output, answers: output.split('\n').filter((line) => STATUS.test(line)), port };
}

describe('README: A first session', () => {
  it('runs as pasted: every call answers as shown, and the last block stops the runner', async () => {
    const commands = readmeBlocks('## A first session', 'sh');
    const shown = readmeBlocks('## A first session', 'text').join('').trim().split('\n');
    expect(commands.length).toBeGreaterThanOrEqual(3);
    expect(commands.at(-1)).toMatch(/kill \$RUNNER/);
    // bash reads the blocks as a terminal would get them pasted; it ends when the last block has run.
    const { output, answers, port } = await pasteIntoBash(commands.join('\n'));
    // org, member, four jobs, members, balance, events, cap removed
    expect(answers.map((line) => Number(STATUS.exec(line)![1])), output).toEqual([200, 200, 200, 200, 200, 402, 200, 200, 200, 200]);
    expect(answers.slice(2, 6), output).toEqual(shown.map((line) => expect.stringMatching(shownLine(line))));
    expect(answers[6]).toMatch(/"userId":"alice".*"usedCu":3,"capCu":3,"capSource":"individual","status":"reached"/);
    expect(answers[7]).toMatch(/"plan":\{"name":"pro","allowanceCu":100\},"usedCu":3,"availableCu":97/);
    expect(JSON.parse(answers[8]!.replace(STATUS, '')).items.map((entry: { kind: string }) => entry.kind)).toEqual(['consume', 'consume', 'consume', 'member_added', 'org_provisioned']);
    expect(answers[9]).toMatch(/"capCu":null,"capSource":"none","status":"ok"/);
    // `kill $RUNNER` stopped the API and DynamoDB Local, and every process with them.
    await vi.waitFor(() => expect(groupIsAlive(session!.child.pid!), output).toBe(false), { timeout: 45_000, interval: 100 });
    expect(await refusesConnections(`http://127.0.0.1:${port}`)).toBe(true);
  }, 180_000);

  it('then signs olga in as the README shows: her token reads usage and the CSV, and no token is 401', async () => {
    const first = readmeBlocks('## A first session', 'sh');
    const signIn = readmeBlocks('## Signing in: people and the dev issuer', 'sh').find((block) => block.includes('TOKEN=$('));
    expect(signIn).toBeDefined();
    const { output, answers } = await pasteIntoBash([...first.slice(0, -1), signIn!, first.at(-1)!].join('\n'));
    // ...the first session's ten answers, then olga made an org admin, her usage and her week's graph.
    expect(answers.slice(10).map((line) => Number(STATUS.exec(line)![1])), output).toEqual([200, 200, 200]);
    const usage = JSON.parse(answers[11]!.replace(STATUS, ''));
    // The rollup comes from the runner's stream a moment after each job: all three jobs, or some on a loaded machine.
    expect(usage.totals.totalCU, output).toBeLessThanOrEqual(3);
    expect(Object.keys(usage)).toEqual(['totals', 'consumption', 'modelUsages', 'assetUsages']);
    expect(JSON.parse(answers[12]!.replace(STATUS, '')).granularity).toBe('week');
    // The CSV reads the events themselves: the header, then alice's three jobs, newest first.
    const csv = output.split('\n').filter((line) => line.startsWith('createdAt,') || /,alice,1,/.test(line));
    expect(csv[0]).toMatch(/^createdAt,userId,amount,/);
    expect(csv.slice(1).map((line) => line.split(',')[6])).toEqual(['job-3', 'job-2', 'job-1']);
    expect(output).toContain('HTTP/1.1 401 Unauthorized');
    await vi.waitFor(() => expect(groupIsAlive(session!.child.pid!), output).toBe(false), { timeout: 45_000, interval: 100 });
  }, 240_000);

  it("then reads acme with an analytics key as the README shows: Basic both ways, the feed, 403 elsewhere, a rotation with grace", async () => {
    const first = readmeBlocks('## A first session', 'sh');
    const keys = readmeBlocks('## HTTP API', 'sh').find((block) => block.includes('/analytics-keys -d'));
    expect(keys).toBeDefined();
    const { output, answers } = await pasteIntoBash([...first.slice(0, -1), keys!, first.at(-1)!].join('\n'));
    // ...the first session's ten answers, then usage twice (-u and the explicit header), the feed, the balance, the
    // rotation and the list.
    expect(answers.slice(10).map((line) => Number(STATUS.exec(line)![1])), output).toEqual([200, 200, 200, 403, 200, 200]);
    const body = (index: number) => JSON.parse(answers[index]!.replace(STATUS, ''));
    for (const index of [10, 11]) {
      expect(Object.keys(body(index))).toEqual(['totals', 'consumption', 'modelUsages', 'assetUsages']);
      expect(body(index).totals.totalCU).toBeLessThanOrEqual(3);
    }
    expect(body(12).items.map((item: { kind: string }) => item.kind)).toEqual(['analytics_key_created', 'member_changed']);
    expect(body(13).error.code).toBe('forbidden');
    expect(body(14)).toMatchObject({ name: 'finance-bi-monthly', secret: expect.stringMatching(/^cuas_/), previousSecretValidUntil: expect.any(String) });
    expect(body(15).items).toEqual([expect.objectContaining({ name: 'finance-bi-monthly', status: 'active', graceEndsAt: body(14).previousSecretValidUntil, lastUsedAt: expect.any(String) })]);
    await vi.waitFor(() => expect(groupIsAlive(session!.child.pid!), output).toBe(false), { timeout: 45_000, interval: 100 });
  }, 240_000);
});
