// A store that accepts connections but never answers must not hang a request or surface as a 500: the SDK's
// timeouts make it a transient fault, and after our retries the caller gets 503 store_unavailable. When the retries
// would outlast the function, the request is answered before Lambda's timeout and its store calls are cancelled.

import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { meterRoutes } from '../../functions/meter/meter.handler';
import { AWS_TIMEOUTS, createDynamoDbClient } from '../../shared/adapters/dynamodb/client';
import { buildLedgerDependencies, forRequest } from '../../shared/composition';
import { areaHandler } from '../../shared/http/lambda';
import { DEFAULT_RETRY_POLICY } from '../../shared/use-cases/store-retry';
import { contextWithBudget, parseBody, serviceEvent } from '../support/api-events';

let silent: Server;
/** Every connection the silent store accepted; `sockets` holds the current test's. */
const everySocket: Socket[] = [];
let sockets: { socket: Socket; closed: boolean }[] = [];
let endpoint = '';

beforeAll(async () => {
  // Accepts and reads (so it sees the client hang up), answers nothing.
  silent = createServer((socket) => {
    const entry = { socket, closed: false };
    socket.on('close', () => void (entry.closed = true));
    socket.resume();
    sockets.push(entry);
    everySocket.push(socket);
  });
  await new Promise<void>((listening) => silent.listen(0, '127.0.0.1', () => listening()));
  const address = silent.address();
  endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

beforeEach(() => {
  sockets = [];
});

afterAll(async () => {
  for (const socket of everySocket) socket.destroy();
  await new Promise((closed) => silent.close(closed));
});

const consume = () =>
  serviceEvent('POST /v1/meter/consume', { body: { requestId: 'r1', orgId: 'o1', projectId: 'p1', userId: 'u1', jobType: 'upscale', cu: 1 } });

describe('a store that stops answering', () => {
  it('answers 503 store_unavailable with Retry-After, not a hang or a 500', async () => {
    // The timeouts deployed on AWS, against a silent endpoint.
    const client = createDynamoDbClient({ endpoint }, { maxAttempts: 1, requestHandler: AWS_TIMEOUTS });
    const deps = buildLedgerDependencies({ tableName: 'unreachable' }, { client, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    const handler = areaHandler(meterRoutes, () => deps);

    const response = await handler(consume(), {} as never);

    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('1');
    expect(parseBody(response).error.code).toBe('store_unavailable');
    expect(sockets.length).toBeGreaterThanOrEqual(2);
  });

  it('answers 503 before the function times out when the retries would outlast it, and cancels the calls in flight', async () => {
    // The deployed retry settings (3 SDK tries per call, 8 store attempts) outlast this budget by far. The request
    // timeout is stretched to a minute so that only the abort can close a connection within the test, however busy
    // the machine is.
    const client = createDynamoDbClient({ endpoint }, { requestHandler: { connectionTimeout: 60_000, requestTimeout: 60_000, throwOnRequestTimeout: true } });
    const deps = buildLedgerDependencies({ tableName: 'unreachable' }, { client });
    expect(DEFAULT_RETRY_POLICY.attempts).toBeGreaterThan(1);
    const handler = areaHandler(meterRoutes, (signal) => forRequest(deps, signal));

    const response = await handler(consume(), contextWithBudget(3_000));

    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('1');
    expect(parseBody(response).error).toMatchObject({ code: 'store_unavailable', message: expect.stringMatching(/in time.*outcome is unknown.*same requestId/) });
    // The call in flight when the answer went out is cancelled (its connection closes, which nothing but the abort
    // does before a minute), and nothing retries afterwards.
    const opened = sockets.length;
    expect(opened).toBeGreaterThanOrEqual(1);
    await vi.waitFor(() => expect(sockets.filter((entry) => !entry.closed)).toHaveLength(0), { timeout: 30_000, interval: 20 });
    await sleep(2_500);
    expect(sockets).toHaveLength(opened);
  }, 60_000);
});
