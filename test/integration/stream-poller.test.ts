// The local runner's stream poller against DynamoDB Local's real stream: order, redelivery after a reported failure,
// drain and stop, as a Lambda event source mapping would behave on AWS.

import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { startStreamPoller, type StreamHandler, type StreamPoller, type StreamPollerOptions } from '../../infra/local/stream-poller';
import { createTestDynamoDbClient, createTestLedger } from '../support/ledger-fixture';

/** Quick retries: the test waits on the redeliveries themselves, not on a production backoff. */
const FAST_RETRY = { initialMs: 10, maxMs: 50 };

const pollers: StreamPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
});

/** A fresh table (with its stream) and a way to write items to it, named by their partition key. */
async function streamedTable() {
  const { tableName, endpoint } = await createTestLedger();
  const client = createTestDynamoDbClient(endpoint);
  return {
    tableName,
    endpoint,
    async write(...keys: string[]) {
      for (const key of keys) await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: key }, sk: { S: 'ITEM' } } }));
    },
    async start(handler: StreamHandler, options: Partial<StreamPollerOptions> = {}) {
      const poller = await startStreamPoller({ endpoint, tableName, handler, retryBackoff: FAST_RETRY, ...options });
      pollers.push(poller);
      return poller;
    },
  };
}

const keyOf = (record: DynamoDBRecord) => record.dynamodb?.NewImage?.pk?.S;
const keys = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `${prefix}-${String(index).padStart(2, '0')}`);

/** A promise the test settles by hand: a handler waits on it, or the test waits for the handler to reach it. */
function latch() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Whether `pending` settled while `meanwhile` ran. */
async function settlesDuring(pending: Promise<unknown>, meanwhile: () => Promise<unknown>): Promise<boolean> {
  let settled = false;
  pending.then(
    () => (settled = true),
    () => (settled = true),
  );
  await meanwhile();
  return settled;
}

/** A handler that takes everything and remembers each batch's keys. */
function recordingHandler() {
  const batches: (string | undefined)[][] = [];
  const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    batches.push(event.Records.map(keyOf));
    return { batchItemFailures: [] };
  };
  return { handler, batches, handled: () => batches.flat() };
}

describe('the stream poller on DynamoDB Local', () => {
  it('delivers every record once, in write order, in batches no larger than the batch size, in the shape Lambda gives', async () => {
    const table = await streamedTable();
    const seen: DynamoDBRecord[] = [];
    const recording = recordingHandler();
    const poller = await table.start(
      async (event) => {
        seen.push(...event.Records);
        return recording.handler(event);
      },
      { batchSize: 3 },
    );
    const written = keys('order', 10);

    await table.write(...written);
    await poller.drain();

    expect(recording.handled()).toEqual(written);
    expect(Math.max(...recording.batches.map((batch) => batch.length))).toBeLessThanOrEqual(3);
    expect(seen[0]).toMatchObject({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      eventSourceARN: expect.stringContaining(`table/${table.tableName}/stream/`),
      dynamodb: {
        Keys: { pk: { S: 'order-00' }, sk: { S: 'ITEM' } },
        NewImage: { pk: { S: 'order-00' }, sk: { S: 'ITEM' } },
        SequenceNumber: expect.any(String),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        ApproximateCreationDateTime: expect.any(Number),
      },
    });
  });

  it('delivers a failed record and every later one again, and nothing before it, until the handler takes them', async () => {
    const table = await streamedTable();
    const written = keys('retry', 6);
    await table.write(...written);
    const deliveries: (string | undefined)[][] = [];
    let failuresLeft = 2;
    const poller = await table.start(async (event) => {
      deliveries.push(event.Records.map(keyOf));
      const failing = event.Records.find((record) => keyOf(record) === 'retry-03');
      if (failing && failuresLeft > 0) {
        failuresLeft -= 1;
        return { batchItemFailures: [{ itemIdentifier: failing.dynamodb!.SequenceNumber! }] };
      }
      return { batchItemFailures: [] };
    });

    await poller.drain();

    const fromFailed = written.slice(3);
    expect(deliveries).toEqual([written, fromFailed, fromFailed]);
  });

  it('counts a handler that throws as a failed batch and delivers the whole batch again', async () => {
    const table = await streamedTable();
    const written = keys('throw', 3);
    await table.write(...written);
    const deliveries: (string | undefined)[][] = [];
    const poller = await table.start(async (event) => {
      deliveries.push(event.Records.map(keyOf));
      if (deliveries.length === 1) throw new Error('the handler crashed');
      return { batchItemFailures: [] };
    });

    await poller.drain();

    expect(deliveries).toEqual([written, written]);
  });

  it('drains only once every record written before the call was handled, even when the handler is slow', async () => {
    const table = await streamedTable();
    const recording = recordingHandler();
    const gate = latch();
    const poller = await table.start(
      async (event) => {
        await gate.opened;
        return recording.handler(event);
      },
      { batchSize: 2 },
    );
    const written = keys('drain', 7);
    await table.write(...written);

    const draining = poller.drain();
    expect(await settlesDuring(draining, () => table.write('drain-later'))).toBe(false);
    gate.open();
    await draining;

    expect(recording.handled().slice(0, written.length)).toEqual(written);
  });

  it('gives up draining after its timeout when a record keeps failing', async () => {
    const table = await streamedTable();
    await table.write('stuck-00');
    const poller = await table.start(async (event) => ({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber! }] }));

    await expect(poller.drain(1_000)).rejects.toThrow(/not drained within 1 s/);
  });

  it('keeps delivering when another table with a stream is created while its shard is still empty', async () => {
    const table = await streamedTable();
    const recording = recordingHandler();
    const poller = await table.start(recording.handler);
    // DynamoDB Local then answers GetRecords on the empty shard's iterator with TrimmedDataAccessException.
    await createTestLedger();
    const written = keys('after-other-table', 3);
    await table.write(...written);
    await poller.drain();
    expect(recording.handled()).toEqual(written);
  });

  it('from LATEST, skips what was written before it started', async () => {
    const table = await streamedTable();
    await table.write(...keys('before', 3));
    const recording = recordingHandler();
    const poller = await table.start(recording.handler, { startingPosition: 'LATEST' });

    await table.write('after-00', 'after-01');
    await poller.drain();

    expect(recording.handled()).toEqual(['after-00', 'after-01']);
  });

  it('stops after the batch in flight, and delivers nothing after', async () => {
    const table = await streamedTable();
    const recording = recordingHandler();
    const inFlight = latch();
    const gate = latch();
    const poller = await table.start(async (event) => {
      inFlight.open();
      await gate.opened;
      return recording.handler(event);
    });
    await table.write('stop-00');
    await inFlight.opened;

    const stopping = poller.stop();
    expect(await settlesDuring(stopping, () => table.write('stop-01'))).toBe(false);
    gate.open();
    await stopping;

    expect(recording.handled()).toEqual(['stop-00']);
    await expect(poller.drain()).rejects.toThrow(/stopped/);
  });
});
