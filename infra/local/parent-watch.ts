// The local runner stops when whoever started it goes away. `npm start` puts npm, a shell and tsx's CLI between the
// developer and this process, and a SIGTERM to npm alone (`kill $!`, `timeout`) ends npm but nothing below it: left
// alone, the API and DynamoDB Local would run on, orphaned. So the runner watches each process between itself and
// npm (or, started without npm, its parent), and shuts down when any of them is gone.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

interface ProcessInfo {
  readonly parentPid: number;
  readonly command: string;
}

/** A process's parent and command line: /proc on Linux, `ps` elsewhere (macOS); undefined when it cannot be told. */
function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid ...`; comm may hold spaces and parentheses, so read after the last ')'.
    const parentPid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { parentPid, command };
  } catch {
    const ps = spawnSync('ps', ['-o', 'ppid=', '-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
    const match = /^\s*(\d+)\s+(.*)$/.exec(ps.stdout ?? '');
    return match ? { parentPid: Number(match[1]), command: match[2]!.trim() } : undefined;
  }
}

const NPM = /(^|[\s/])(npm|npx)(\s|$)|npm-cli\.js|npx-cli\.js/;
const TSX_CLI = /(^|[\s/])tsx(\s|$)|tsx[/\\]dist[/\\]cli/;

/**
 * The processes to watch: every ancestor up to and including npm when npm started us (within a few levels);
 * otherwise the parent, and the parent's parent when the parent is tsx's CLI (which outlives its own parent too).
 */
export function ancestorsToWatch(startPid: number = process.ppid): number[] {
  const chain: { pid: number; command: string }[] = [];
  for (let pid = startPid; pid > 1 && chain.length < 6; ) {
    const info = processInfo(pid);
    if (!info) break;
    chain.push({ pid, command: info.command });
    if (NPM.test(info.command)) return chain.map((entry) => entry.pid);
    pid = info.parentPid;
  }
  if (chain.length === 0) return startPid > 1 ? [startPid] : [];
  return TSX_CLI.test(chain[0]!.command) && chain[1] ? [chain[0]!.pid, chain[1].pid] : [chain[0]!.pid];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Calls `onGone` once, as soon as one of `pids` has exited (polled; the timer does not keep the process alive). */
export function watchProcesses(pids: readonly number[], onGone: (pid: number) => void, intervalMs = 250): () => void {
  const originalParent = process.ppid;
  const timer = setInterval(() => {
    const gone = pids.find((pid) => !isAlive(pid)) ?? (process.ppid !== originalParent ? originalParent : undefined);
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(gone);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
