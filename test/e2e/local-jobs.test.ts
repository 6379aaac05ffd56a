// End to end: the local runner's jobs and its local-only routes (/local/clock, /local/jobs/run,
// /local/events/published) over HTTP, as a developer or a test drives them.

import { describe, expect, it, vi } from 'vitest';
import { client, expectError, runnerForSuite } from '../support/runner-http';

const JOB_NAMES = ['period-rollover', 'top-up-expiry', 'monthly-export'];

describe('local runner jobs and clock', () => {
  const runner = runnerForSuite({ inMemory: true, env: { JOB_INTERVAL_SECONDS: '1' } });
  const call = client(runner);

  /** The runner's clock, read over HTTP, in epoch ms. */
  async function runnerNow(): Promise<number> {
    const reply = await call('GET', '/local/clock');
    expect(reply.status, reply.text).toBe(200);
    return Date.parse(reply.body.now);
  }

  /** Runs `change` and reads the clock after it; also tells how much wall time passed from before `change` to after the read. */
  async function clockAfter(change: () => Promise<unknown>): Promise<{ now: number; before: number; elapsedMs: number }> {
    const before = Date.now();
    await change();
    const now = await runnerNow();
    return { now, before, elapsedMs: Date.now() - before };
  }

  /** The runner's JSON log lines with `message`. */
  function logLines(message: string): Record<string, unknown>[] {
    return runner()
      .output()
      .split('\n')
      .slice(0, -1) // the last piece may be a line still being written
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.message === message);
  }

  it('runs both scheduled jobs on the timer (JOB_INTERVAL_SECONDS), with one JSON log line per run', async () => {
    await vi.waitFor(() => expect(new Set(logLines('job run').map((line) => line.job))).toEqual(new Set(JOB_NAMES)), { timeout: 60_000, interval: 100 });
    for (const line of logLines('job run')) {
      expect(line).toMatchObject({ level: 'info', job: expect.any(String), handled: expect.any(Number), durationMs: expect.any(Number) });
    }
  }, 90_000);

  it('tells the system time until set; PUT /local/clock sets it (and it keeps running), advances it, and resets it', async () => {
    const system = await clockAfter(async () => undefined);
    expect(system.now).toBeGreaterThanOrEqual(system.before);
    expect(system.now).toBeLessThanOrEqual(system.before + system.elapsedMs);

    const at = Date.parse('2030-01-31T23:59:00Z');
    const set = await clockAfter(async () => {
      const reply = await call('PUT', '/local/clock', { body: { at: '2030-01-31T23:59:00Z' } });
      expect(reply.status, reply.text).toBe(200);
      expect(Date.parse(reply.body.now)).toBeGreaterThanOrEqual(at);
    });
    expect(set.now).toBeGreaterThanOrEqual(at);
    expect(set.now).toBeLessThanOrEqual(at + set.elapsedMs);

    const day = 86_400;
    const advanced = await clockAfter(() => call('PUT', '/local/clock', { body: { advanceSeconds: day } }));
    const wallSinceSet = Date.now() - set.before;
    expect(advanced.now).toBeGreaterThanOrEqual(set.now + day * 1000);
    expect(advanced.now).toBeLessThanOrEqual(at + day * 1000 + wallSinceSet);

    const reset = await clockAfter(() => call('PUT', '/local/clock', { body: { reset: true } }));
    expect(reset.now).toBeGreaterThanOrEqual(reset.before);
    expect(reset.now).toBeLessThanOrEqual(reset.before + reset.elapsedMs);
  });

  it('refuses a clock body that is not exactly one of at, advanceSeconds or reset with a 400 naming the field, and leaves the clock alone', async () => {
    const cases: Array<[string, unknown, string, string]> = [
      ['at not an instant', { at: 'tomorrow' }, 'validation_failed', 'at'],
      ['at a date without a time', { at: '2030-01-01' }, 'validation_failed', 'at'],
      ['advanceSeconds not a number', { advanceSeconds: '60' }, 'validation_failed', 'advanceSeconds'],
      ['advanceSeconds past 100 years', { advanceSeconds: 1e12 }, 'validation_failed', 'advanceSeconds'],
      ['reset false', { reset: false }, 'validation_failed', 'reset'],
      ['an unknown field', { when: '2030-01-01T00:00:00Z' }, 'validation_failed', 'when'],
      ['nothing to do', {}, 'validation_failed', 'body'],
      ['two things at once', { at: '2030-01-01T00:00:00Z', reset: true }, 'validation_failed', 'body'],
      ['not JSON', { raw: '{"at":' }, 'invalid_json', 'body'],
    ];
    for (const [name, body, code, field] of cases) {
      const reply = await call('PUT', '/local/clock', { body });
      expect({ name, status: reply.status, field: reply.body?.error?.field }, reply.text).toEqual({ name, status: 400, field });
      expectError(reply, 400, code, field);
    }
    const after = await clockAfter(async () => undefined);
    expect(after.now).toBeGreaterThanOrEqual(after.before);
    expect(after.now).toBeLessThanOrEqual(after.before + after.elapsedMs);
  });

  it('POST /local/jobs/run runs period-rollover then top-up-expiry at once and answers both runs', async () => {
    const reply = await call('POST', '/local/jobs/run');

    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.runs.map((run: { job: string }) => run.job)).toEqual(JOB_NAMES);
    for (const run of reply.body.runs) expect(run.handled).toBeGreaterThanOrEqual(0);
  });

  it('GET /local/events/published answers the published events as a list', async () => {
    const reply = await call('GET', '/local/events/published');

    expect(reply.status, reply.text).toBe(200);
    expect(Array.isArray(reply.body.items)).toBe(true);
  });

  it('every local route needs the service token (401 without it); an unknown one is 404', async () => {
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/local/clock'],
      ['PUT', '/local/clock', { advanceSeconds: 3_600 }],
      ['POST', '/local/jobs/run'],
      ['GET', '/local/events/published'],
      ['POST', '/local/exports', { orgId: 'acme', month: '2026-01' }],
    ];
    for (const [method, path, body] of routes) {
      for (const authorization of [null, 'Bearer wrong']) {
        expectError(await call(method, path, { authorization, ...(body === undefined ? {} : { body }) }), 401, 'unauthorized');
      }
    }
    const untouched = await clockAfter(async () => undefined);
    expect(untouched.now).toBeLessThanOrEqual(untouched.before + untouched.elapsedMs);
    expectError(await call('GET', '/local/nope'), 404, 'route_not_found');
  });
});
