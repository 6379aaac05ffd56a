// Helpers for the benchmarks: API Gateway events without vitest, timing statistics, DynamoDB item sizes and
// a plain-text table. Nothing here touches the service's code paths.

import { readdirSync, readFileSync } from 'node:fs';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export { serviceEvent } from '../support/api-events';
export { lambdaContext } from '../../infra/local/api-gateway';

export interface LatencyStats {
  readonly n: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

/** Nearest-rank percentiles. */
export function latencyStats(samples: readonly number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? NaN;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length);
  return {
    n: sorted.length,
    p50Ms: round(rank(0.5), 2),
    p95Ms: round(rank(0.95), 2),
    p99Ms: round(rank(0.99), 2),
    meanMs: round(mean, 2),
    maxMs: round(sorted.at(-1) ?? NaN, 2),
  };
}

/** A positive whole number from the environment (a bench's size), or `fallback` when unset. */
export function sizeFromEnv<T extends number | undefined>(name: string, fallback: T): number | T {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new Error(`${name} must be a positive whole number; it is ${JSON.stringify(value)}`);
  return parsed;
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

// ---- DynamoDB item size, by the documented rules ----------------------------------------------------------------
// Attribute name: its UTF-8 bytes. String: UTF-8 bytes. Number: 1 byte per two significant digits, plus 1.
// Binary: its bytes. Boolean, null: 1. List and map: 3 bytes, plus each element's size plus 1 byte per element
// (a map element's size includes its key name). String / number / binary sets: the sum of their elements.

export function itemSize(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name, 'utf8') + valueSize(value);
  return size;
}

export function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined) return 1;
  if (value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + valueSize(element) + 1, 0);
  if (value.M !== undefined) {
    return 3 + Object.entries(value.M).reduce((sum, [key, element]) => sum + Buffer.byteLength(key, 'utf8') + valueSize(element) + 1, 0);
  }
  if (value.SS !== undefined) return value.SS.reduce((sum, element) => sum + Buffer.byteLength(element, 'utf8'), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, element) => sum + numberSize(element), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, element) => sum + element.byteLength, 0);
  throw new Error(`unknown attribute value ${JSON.stringify(value)}`);
}

/** Significant digits of a decimal number string (leading and trailing zeros trimmed), halved up, plus one byte. */
export function numberSize(text: string): number {
  const digits = text.replace(/^[-+]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Write units for one item of `bytes`: per started KB, times 2 inside a transaction. */
export function writeUnits(bytes: number, transactional: boolean): number {
  return Math.max(1, Math.ceil(bytes / 1024)) * (transactional ? 2 : 1);
}

// ---- Output ------------------------------------------------------------------------------------------------------

export function table(title: string, header: readonly string[], rows: readonly (readonly (string | number | boolean | null)[])[]): string {
  const cells = [header, ...rows.map((row) => row.map((cell) => (cell === null ? '-' : String(cell))))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [`\n${title}`, line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

/** A small deterministic PRNG (mulberry32), so the overspend run's choices repeat from run to run. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- CPU used by other processes (Linux /proc): a noisy neighbour on a 2-core box moves every figure ------------


const CLOCK_TICKS = 100;

interface CpuSample {
  readonly busyTicks: number;
  readonly ownTicks: number;
}

/** Finds the DynamoDB Local JVM listening on `port` (its command line carries `-port <port>`). */
export function findDynamoDbLocalPid(port: number): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        const portIndex = args.indexOf('-port');
        if (args.some((arg) => arg.includes('DynamoDBLocal')) && portIndex >= 0 && args[portIndex + 1] === String(port)) return Number(entry);
      } catch {
        // the process went away
      }
    }
  } catch {
    // no /proc
  }
  return undefined;
}

function processTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU time of the whole machine and of our own processes (this one and the JVM), in clock ticks. */
export function cpuSample(ownPids: readonly number[]): CpuSample | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
    return { busyTicks: user + nice + system + irq + softirq + steal, ownTicks: ownPids.reduce((sum, pid) => sum + processTicks(pid), 0) };
  } catch {
    return undefined;
  }
}

/** Average number of cores other processes kept busy between two samples (null when /proc is unavailable). */
export function foreignCores(before: CpuSample | undefined, after: CpuSample | undefined, elapsedMs: number): number | null {
  if (!before || !after || elapsedMs <= 0) return null;
  const foreignTicks = after.busyTicks - before.busyTicks - (after.ownTicks - before.ownTicks);
  return Math.max(0, foreignTicks / CLOCK_TICKS / (elapsedMs / 1000));
}
