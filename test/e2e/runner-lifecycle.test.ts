// The runner as a developer starts and stops it: `npm start`, a readiness route, and no process left behind however
// its parent goes away. `kill $!` after `npm start &`, or `timeout`, signals npm alone; npm exits and nothing
// forwards the signal, so the runner must notice by itself.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../infra/local/dynamodb-local';
import { READY_LINE, groupIsAlive, killGroup, refusesConnections, runnerEnvironment, spawnInGroup, waitForOutput, type RunnerProcess } from '../support/runner-process';

/** Generous bounds for a loaded machine: liveness checks, not speed claims. */
const GONE_WITHIN_MS = 45_000;

const started: RunnerProcess[] = [];
afterEach(() => {
  for (const runner of started.splice(0)) killGroup(runner.child);
});

/** `npm start -- --in-memory` in a process group of its own, waited on until it says it is ready. */
async function npmStart(): Promise<{ runner: RunnerProcess; apiUrl: string; dynamoDbUrl: string }> {
  const runner = spawnInGroup('npm', ['start', '--', '--in-memory'], {
    env: runnerEnvironment({ PORT: String(await freePort()), SERVICE_TOKEN: 'lifecycle' }),
  });
  started.push(runner);
  const apiUrl = (await waitForOutput(runner, READY_LINE))[1]!;
  const dynamoDbUrl = /DynamoDB Local at (http:\/\/\S+)/.exec(runner.output())![1]!;
  return { runner, apiUrl, dynamoDbUrl };
}

describe('npm start', () => {
  it('answers GET /health with 200 and its pid once ready, without credentials; SIGTERM to that pid stops it all', async () => {
    const { runner, apiUrl, dynamoDbUrl } = await npmStart();

    const health = await fetch(`${apiUrl}/health`);

    expect(health.status).toBe(200);
    const body = (await health.json()) as { pid: number };
    expect(body).toEqual({ status: 'ok', dynamoDb: 'ok', pid: expect.any(Number) });
    // Every other route still needs the token.
    expect((await fetch(`${apiUrl}/v1/orgs/acme/balance`)).status).toBe(401);
    // The README's way to stop a runner found on a port: kill the pid it reports.
    process.kill(body.pid, 'SIGTERM');
    await vi.waitFor(() => expect(groupIsAlive(runner.child.pid!), runner.output()).toBe(false), { timeout: GONE_WITHIN_MS, interval: 100 });
    expect(await refusesConnections(dynamoDbUrl)).toBe(true);
  }, 150_000);

  it.each(['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGKILL'] as const)(
    'stops the API and DynamoDB Local, leaving no process, when npm alone gets %s',
    async (signal) => {
      const { runner, apiUrl, dynamoDbUrl } = await npmStart();
      expect(await refusesConnections(apiUrl)).toBe(false);
      expect(await refusesConnections(dynamoDbUrl)).toBe(false);

      process.kill(runner.child.pid!, signal); // npm only, not its group

      await vi.waitFor(() => expect(groupIsAlive(runner.child.pid!), runner.output()).toBe(false), { timeout: GONE_WITHIN_MS, interval: 100 });
      expect(await refusesConnections(apiUrl)).toBe(true);
      expect(await refusesConnections(dynamoDbUrl)).toBe(true);
    },
    150_000,
  );

  it('refuses to start on a port in use, with one plain line, and leaves nothing behind', async () => {
    const { apiUrl } = await npmStart();
    const second = spawnInGroup('npm', ['start', '--', '--in-memory'], {
      env: runnerEnvironment({ PORT: new URL(apiUrl).port, SERVICE_TOKEN: 'second' }),
    });
    started.push(second);

    const exit = await second.exited;

    expect(exit.code, second.output()).not.toBe(0);
    expect(second.output()).toMatch(new RegExp(`Port ${new URL(apiUrl).port} on 127.0.0.1 is already in use`));
    expect(second.output()).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    await vi.waitFor(() => expect(groupIsAlive(second.child.pid!), second.output()).toBe(false), { timeout: GONE_WITHIN_MS, interval: 100 });
    // The first runner is untouched.
    expect((await fetch(`${apiUrl}/health`)).status).toBe(200);
  }, 150_000);
});
