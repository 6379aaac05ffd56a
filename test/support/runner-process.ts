// The local runner as a child process, for the e2e tests: spawned in a process group of its own (so a test can tell
// when every process of it, Java included, is gone), its output captured, its readiness read from the line it prints.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createConnection } from 'node:net';
import { delimiter, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Generous: DynamoDB Local's JVM start on a busy 2-core machine. */
export const READY_TIMEOUT_MS = 90_000;
/** The line the runner prints once it serves requests. */
export const READY_LINE = /ready on (http:\/\/\S+)/;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RunnerProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr interleaved). */
  output(): string;
  readonly exited: Promise<Exit>;
}

/** The parent's environment minus anything that would steer the runner; Node 22 (this process's) first on PATH. */
export function runnerEnvironment(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const steering = ['PORT', 'SERVICE_TOKEN', 'DATA_DIR', 'IN_MEMORY', 'TABLE_NAME', 'DYNAMODB_ENDPOINT', 'LOG_LEVEL', 'JOB_INTERVAL_SECONDS'];
  for (const name of [...steering, 'DEV_ISSUER_KEY_FILE', 'ORG_CLAIM', 'JWT_ISSUER', 'JWT_AUDIENCE', 'JWKS_URL']) delete env[name];
  env.PATH = [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter);
  return { ...env, ...overrides };
}

export function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
}

/** Spawns `command` in a new process group, capturing its output. */
export function spawnInGroup(command: string, args: readonly string[], options: Omit<SpawnOptions, 'stdio' | 'detached'>): RunnerProcess {
  const child = spawn(command, args, { cwd: REPO_ROOT, ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (output += text));
  return { child, output: () => output, exited: exitOf(child) };
}

/** Resolves with the first match of `pattern` in the output; fails if the process exits first or time runs out. */
export function waitForOutput(runner: RunnerProcess, pattern: RegExp, timeoutMs = READY_TIMEOUT_MS): Promise<RegExpExecArray> {
  return new Promise((found, failed) => {
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      clearInterval(poll);
      settle();
    };
    const timer = setTimeout(() => finish(() => failed(new Error(`no ${pattern} within ${timeoutMs / 1000} s:\n${runner.output()}`))), timeoutMs);
    const poll = setInterval(() => {
      const match = pattern.exec(runner.output());
      if (match) finish(() => found(match));
    }, 50);
    void runner.exited.then(({ code, signal }) =>
      finish(() => {
        const match = pattern.exec(runner.output());
        if (match) found(match);
        else failed(new Error(`exited (code ${code}, signal ${signal}) before ${pattern}:\n${runner.output()}`));
      }),
    );
  });
}

/** Last resort only: SIGKILL to the whole group reaches npm, tsx, node and Java alike. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** True while any process of the group led by `pid` is still running. */
export function groupIsAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when nothing accepts connections on the port of `url`. */
export function refusesConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((answer) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      answer(false);
    });
    socket.once('error', () => answer(true));
  });
}
