// Helpers for the meter benchmark: API Gateway events without vitest, timing statistics, DynamoDB item sizes and
// a plain-text table. Nothing here touches the service's code paths.

import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/** The event API Gateway hands a Lambda for a service-principal call (a copy of test/support/ledger-fixture.ts's). */
export function serviceEvent(routeKey: string, options: { body?: unknown; pathParameters?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  const [method, path] = routeKey.split(' ') as [string, string];
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'bench',
      domainPrefix: 'bench',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      authorizer: { iam: { userArn: 'arn:aws:iam::000000000000:role/platform-backend' } },
    },
  } as APIGatewayProxyEventV2;
}

/** A minimal Lambda context for calling a middy handler in-process. */
export function lambdaContext(functionName = 'cu-ledger-meter'): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface LatencyStats {
  readonly n: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

/** Nearest-rank percentiles. */
export function latencyStats(samples: readonly number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? NaN;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, p50Ms: round(rank(0.5), 2), p99Ms: round(rank(0.99), 2), meanMs: round(mean, 2), maxMs: round(sorted.at(-1) ?? NaN, 2) };
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
