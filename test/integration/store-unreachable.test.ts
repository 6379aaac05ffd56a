// A store that accepts connections but never answers must not hang a request or surface as a 500: the SDK's
// timeouts make it a transient fault, and after our retries the caller gets 503 store_unavailable.

import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meterRoutes } from '../../functions/meter/meter.handler';
import { createDynamoDbClient } from '../../shared/adapters/dynamodb/client';
import { buildLedgerDependencies } from '../../shared/composition';
import { areaHandler } from '../../shared/http/lambda';
import { parseBody, serviceEvent } from '../support/api-events';

let silent: Server;
const sockets: Socket[] = [];
let endpoint = '';

beforeAll(async () => {
  silent = createServer((socket) => void sockets.push(socket)); // accepts, reads nothing, answers nothing
  await new Promise<void>((listening) => silent.listen(0, '127.0.0.1', () => listening()));
  const address = silent.address();
  endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((closed) => silent.close(closed));
});

describe('a store that stops answering', () => {
  it('answers 503 store_unavailable with Retry-After, not a hang or a 500', async () => {
    const client = createDynamoDbClient({ endpoint }, { maxAttempts: 1 });
    const deps = buildLedgerDependencies({ tableName: 'unreachable' }, { client, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    const handler = areaHandler(meterRoutes, () => deps);
    const event = serviceEvent('POST /v1/meter/consume', {
      body: { requestId: 'r1', orgId: 'o1', projectId: 'p1', userId: 'u1', jobType: 'upscale', cu: 1 },
    });

    const response = await handler(event, {} as never);

    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('1');
    expect(parseBody(response).error.code).toBe('store_unavailable');
    expect(sockets.length).toBeGreaterThanOrEqual(2);
  });
});
