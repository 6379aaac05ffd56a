// The local runner for the e2e tests: `tsx infra/local/start.ts` (what `npm start` execs) as a child process, and
// a small HTTP client for it that sends the service token unless told otherwise.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect } from 'vitest';
import { freePort } from '../../infra/local/dynamodb-local';
import { READY_LINE, REPO_ROOT, killGroup, runnerEnvironment, spawnInGroup, waitForOutput, type Exit } from './runner-process';

const TSX_BIN = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
export const START_SCRIPT = 'infra/local/start.ts';
const STOP_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------------------------
// The runner as a child process
// ---------------------------------------------------------------------------------------------------------------

export interface Runner {
  readonly url: string;
  readonly token: string;
  readonly child: ChildProcess;
  /** Everything the runner printed so far (stdout and stderr interleaved). */
  output(): string;
  /** SIGTERM, then wait for the process to exit. */
  stop(): Promise<Exit>;
}

/** Starts a runner and waits until it says it is ready; `env` adds to its environment (JOB_INTERVAL_SECONDS, ...). */
export async function startRunner(options: { inMemory: boolean; dataDir?: string; port?: number; token?: string; env?: Record<string, string> }): Promise<Runner> {
  const port = options.port ?? (await freePort());
  const token = options.token ?? randomBytes(24).toString('base64url');
  const env = runnerEnvironment({
    PORT: String(port),
    SERVICE_TOKEN: token,
    ...(options.dataDir ? { DATA_DIR: options.dataDir } : {}),
    ...options.env,
  });
  const spawned = spawnInGroup(TSX_BIN, [START_SCRIPT, ...(options.inMemory ? ['--in-memory'] : [])], { env });
  const { child, exited } = spawned;
  const output = () => spawned.output();
  let url: string;
  try {
    url = (await waitForOutput(spawned, READY_LINE))[1]!;
  } catch (error) {
    killGroup(child);
    throw error;
  }
  expect(url).toBe(`http://127.0.0.1:${port}`);
  // SIGTERM goes to the runner's own process (the pid GET /health names, as the README stops a runner), not to tsx's
  // wrapper: tsx relays a signal to its child and SIGKILLs it (exit 143, DynamoDB Local left running) unless the child
  // says it got the signal within 30 ms, which a loaded machine can miss.
  const { pid } = (await (await fetch(`${url}/health`)).json()) as { pid: number };

  return {
    url,
    token,
    child,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) signal(pid, 'SIGTERM');
      const result = await Promise.race([exited, new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), STOP_TIMEOUT_MS))]);
      if (result === 'timeout') {
        killGroup(child);
        throw new Error(`runner did not exit within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM:\n${output()}`);
      }
      return result;
    },
  };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone: its wrapper's exit follows
  }
}

/**
 * One runner for a whole `describe`: started before its tests, stopped after them with a clean exit expected.
 * Call it inside the `describe`; the function it returns gives the runner to the tests.
 */
export function runnerForSuite(options: Parameters<typeof startRunner>[0]): () => Runner {
  let runner: Runner | undefined;
  beforeAll(async () => {
    runner = await startRunner(options);
  }, 100_000);
  afterAll(async () => {
    if (!runner) return;
    const exit = await runner.stop();
    expect(exit, runner.output()).toEqual({ code: 0, signal: null });
  }, STOP_TIMEOUT_MS + 5_000);
  return () => runner!;
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------------------------

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface Reply {
  readonly status: number;
  readonly contentType: string | null;
  readonly headers?: Headers;
  readonly text: string;
  readonly body: Json;
}

export interface CallOptions {
  /** A JS value is sent as JSON; `{ raw }` is sent byte for byte. */
  readonly body?: unknown;
  /** undefined: the runner's token; null: no Authorization header; a string: that whole header value. */
  readonly authorization?: string | null;
}

/** A `call(method, path, options)` on the runner `runner()` returns at call time, with its token unless told otherwise. */
export function client(runner: () => Runner) {
  return async function call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    const { url, token } = runner();
    const headers: Record<string, string> = {};
    if (options.authorization === undefined) headers.authorization = `Bearer ${token}`;
    else if (options.authorization !== null) headers.authorization = options.authorization;
    let body: string | undefined;
    if (options.body !== undefined) {
      const raw = options.body as { raw?: unknown };
      body = typeof raw === 'object' && raw !== null && typeof raw.raw === 'string' ? raw.raw : JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let parsed: Json;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, contentType: response.headers.get('content-type'), headers: response.headers, text, body: parsed };
  };
}

/** `ok(method, path, body?)`: a call that must succeed (a 2xx), answering its parsed body. */
export function successfulCalls(call: ReturnType<typeof client>) {
  return async function ok(method: string, path: string, body?: unknown): Promise<Json> {
    const reply = await call(method, path, body === undefined ? {} : { body });
    expect(reply.status, `${method} ${path}: ${reply.text}`).toBeLessThan(300);
    return reply.body;
  };
}

/** An error reply: the status, and the `{ error: { code, message, field? } }` shape every error has. */
export function expectError(reply: Reply, status: number, code: string, field?: string): void {
  expect({ status: reply.status, code: reply.body?.error?.code }, reply.text).toEqual({ status, code });
  expect(reply.contentType).toMatch(/application\/json/);
  expect(typeof reply.body.error.message).toBe('string');
  expect(reply.body.error.message.length).toBeGreaterThan(0);
  if (field !== undefined) expect(reply.body.error.field, reply.text).toBe(field);
}
