// The local stand-in for a Lambda event source mapping on the ledger table's stream: polls DynamoDB Local's stream,
// hands each shard's records to the stream handler in order, in Lambda's event shape, and, like Lambda, delivers the
// first failed record and everything after it again (after a backoff) until the handler takes them. A shard's
// children are read once it is read to its end.

import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
  type AttributeValue as StreamAttributeValue,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { LOCAL_TIMEOUTS, createDynamoDbClient } from '../../shared/adapters/dynamodb/client';
import { log } from '../../shared/http/log';

/** GetRecords errors that mean "open the iterator again", not "the stream is broken". */
const REOPEN_ITERATOR_ON = new Set(['ExpiredIteratorException', 'TrimmedDataAccessException']);

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

export interface StreamPollerOptions {
  /** DynamoDB Local's endpoint (its streams API answers on the same one). */
  readonly endpoint: string;
  readonly tableName: string;
  readonly handler: StreamHandler;
  /**
   * Where to begin on the shards there are at start: TRIM_HORIZON (the default) for a table this process created,
   * LATEST for one an earlier run wrote (its records were handled then). Shards found later are read from their start.
   */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** The most records in one batch; Lambda's default for DynamoDB streams is 100. */
  readonly batchSize?: number;
  /** The pause after a round that found no full batch. */
  readonly idleIntervalMs?: number;
  /** A failed batch waits `initialMs`, doubled on each further failure up to `maxMs`, before it is delivered again. */
  readonly retryBackoff?: { readonly initialMs: number; readonly maxMs: number };
}

export interface StreamPoller {
  /**
   * Resolves once every record written before the call has been handled: a round of reads over every shard, begun
   * after the call, found nothing new and nothing waiting for a retry. Fails after `timeoutMs`.
   */
  drain(timeoutMs?: number): Promise<void>;
  /** Ends the loop after the batch in flight (the handler is never interrupted). */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Records in Lambda's shape
// ---------------------------------------------------------------------------------------------------------------

/** Where records come from, as Lambda names it on each record. */
export interface StreamSource {
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

/**
 * One record as the event source mapping hands it to Lambda: attribute values stay in DynamoDB JSON (binary as
 * base64), the creation time is in epoch seconds, and the identity of a TTL delete has Lambda's lower-case keys.
 */
export function toLambdaRecord(record: _Record, source: StreamSource): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    eventSourceARN: source.eventSourceARN,
    awsRegion: record.awsRegion ?? source.awsRegion,
    ...(record.userIdentity ? { userIdentity: { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId } } : {}),
    dynamodb: {
      ...(stream.ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(stream.ApproximateCreationDateTime.getTime() / 1000) } : {}),
      ...(stream.Keys ? { Keys: toLambdaImage(stream.Keys) } : {}),
      ...(stream.NewImage ? { NewImage: toLambdaImage(stream.NewImage) } : {}),
      ...(stream.OldImage ? { OldImage: toLambdaImage(stream.OldImage) } : {}),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
  };
}

function toLambdaImage(image: Record<string, StreamAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaValue(value)]));
}

/**
 * The SDK hands binary values as bytes, Lambda as base64 text; every other kind is the same in both. DynamoDB Local's
 * stream sends an empty map as `{}`, with no type at all (the table itself answers `{ M: {} }`, as AWS's stream does).
 */
function toLambdaValue(value: StreamAttributeValue): AttributeValue {
  if (Object.keys(value).length === 0) return { M: {} };
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((bytes) => Buffer.from(bytes).toString('base64')) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  return value as AttributeValue;
}

// ---------------------------------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------------------------------

/**
 * Where the handler's answer says to start again: -1 when it took the whole batch, else the index of the earliest
 * failed record. A thrown error, or a failure naming a record not in the batch, fails the whole batch (as on Lambda).
 */
export async function deliverBatch(handler: StreamHandler, records: DynamoDBRecord[]): Promise<number> {
  let response: DynamoDBBatchResponse | undefined;
  try {
    response = await handler({ Records: records });
  } catch (error) {
    log('error', 'stream handler failed', { errorName: (error as Error | undefined)?.name ?? typeof error, records: records.length });
    return 0;
  }
  const failures = response?.batchItemFailures ?? [];
  if (failures.length === 0) return -1;
  const indexes = failures.map((failure) => records.findIndex((record) => record.dynamodb?.SequenceNumber === failure.itemIdentifier));
  return indexes.includes(-1) ? 0 : Math.min(...indexes);
}

// ---------------------------------------------------------------------------------------------------------------
// The poller
// ---------------------------------------------------------------------------------------------------------------

const DEFAULTS = { batchSize: 100, idleIntervalMs: 200, retryBackoff: { initialMs: 200, maxMs: 5_000 }, drainTimeoutMs: 60_000 } as const;

interface ShardState {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  /** How to open the first iterator. */
  readonly startAt: 'TRIM_HORIZON' | 'LATEST';
  iterator: string | undefined;
  /** The last record read: a fresh iterator resumes after it when the old one expired. */
  lastSequenceNumber: string | undefined;
  /** The shard has no more records (its iterator ran out). */
  exhausted: boolean;
  /** Records read but not yet taken by the handler, from the first failed one on; nothing further is read meanwhile. */
  pending: DynamoDBRecord[];
  failures: number;
  retryAt: number;
}

interface RoundOutcome {
  /** Nothing new anywhere: no shard, no record, nothing waiting for a retry. */
  readonly quiet: boolean;
  /** Some shard gave a full batch: more may be waiting, so the next round starts at once. */
  readonly full: boolean;
}

interface DrainWaiter {
  /** Only a round numbered above this one began after the drain was asked for. */
  readonly afterRound: number;
  resolve(): void;
  reject(error: Error): void;
}

/** Finds the table's stream and its shards, opens their iterators, and starts polling. */
export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const batchSize = options.batchSize ?? DEFAULTS.batchSize;
  const idleIntervalMs = options.idleIntervalMs ?? DEFAULTS.idleIntervalMs;
  const backoff = options.retryBackoff ?? DEFAULTS.retryBackoff;
  const streamArn = await latestStreamArn(options.endpoint, options.tableName);
  const source: StreamSource = { eventSourceARN: streamArn, awsRegion: streamArn.split(':')[3] ?? 'local' };
  const streams = new DynamoDBStreamsClient({
    endpoint: options.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
    requestHandler: LOCAL_TIMEOUTS,
  });
  const stopping = new AbortController();
  const shards = new Map<string, ShardState>();
  const drains = new Set<DrainWaiter>();
  let roundsStarted = 0;
  let wake: (() => void) | undefined;

  /** Adds the shards not seen yet; false when there were any. */
  async function discoverShards(startAt: 'TRIM_HORIZON' | 'LATEST'): Promise<boolean> {
    let nothingNew = true;
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }), {
        abortSignal: stopping.signal,
      });
      for (const shard of StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || shards.has(shard.ShardId)) continue;
        shards.set(shard.ShardId, newShard(shard, startAt));
        nothingNew = false;
      }
      exclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    return nothingNew;
  }

  /** A shard is read once its parent is done with (or was never seen: trimmed, or from before this process). */
  function readable(shard: ShardState): boolean {
    const parent = shard.parentShardId === undefined ? undefined : shards.get(shard.parentShardId);
    return !isDone(shard) && (parent === undefined || isDone(parent));
  }

  async function openIterator(shard: ShardState): Promise<void> {
    const position = shard.lastSequenceNumber
      ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: shard.lastSequenceNumber }
      : { ShardIteratorType: shard.startAt };
    const { ShardIterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.shardId, ...position }), {
      abortSignal: stopping.signal,
    });
    shard.iterator = ShardIterator;
    shard.exhausted = ShardIterator === undefined;
  }

  /** Reads one batch from the shard (or retries its pending one) and delivers it; true when nothing happened. */
  async function pollShard(shard: ShardState, outcome: { full: boolean }): Promise<boolean> {
    if (shard.pending.length > 0) {
      if (Date.now() >= shard.retryAt) await deliver(shard, shard.pending);
      return false;
    }
    if (shard.iterator === undefined) await openIterator(shard);
    if (shard.exhausted) return false;
    let page;
    try {
      page = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: batchSize }), { abortSignal: stopping.signal });
    } catch (error) {
      // An iterator that expired, or one DynamoDB Local declares trimmed (it does, for an empty shard, once another
      // table with a stream is created): open a new one at the same place.
      if (!REOPEN_ITERATOR_ON.has((error as Error).name)) throw error;
      shard.iterator = undefined;
      return false;
    }
    shard.iterator = page.NextShardIterator;
    shard.exhausted = page.NextShardIterator === undefined;
    const records = (page.Records ?? []).map((record) => toLambdaRecord(record, source));
    if (records.length === 0) return !shard.exhausted;
    shard.lastSequenceNumber = records.at(-1)!.dynamodb!.SequenceNumber;
    if (records.length === batchSize) outcome.full = true;
    await deliver(shard, records);
    return false;
  }

  async function deliver(shard: ShardState, records: DynamoDBRecord[]): Promise<void> {
    const failedFrom = await deliverBatch(options.handler, records);
    if (failedFrom < 0) {
      shard.pending = [];
      shard.failures = 0;
      return;
    }
    shard.pending = records.slice(failedFrom);
    shard.failures += 1;
    const retryInMs = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (shard.failures - 1));
    shard.retryAt = Date.now() + retryInMs;
    log('warn', 'stream batch failed', { shardId: shard.shardId, redelivered: shard.pending.length, failures: shard.failures, retryInMs });
  }

  async function round(): Promise<RoundOutcome> {
    const outcome = { quiet: await discoverShards('TRIM_HORIZON'), full: false };
    for (const shard of [...shards.values()].filter(readable)) {
      if (stopping.signal.aborted) break;
      const nothingHappened = await pollShard(shard, outcome);
      outcome.quiet &&= nothingHappened;
    }
    return outcome;
  }

  function settleDrains(round: number): void {
    for (const waiter of drains) {
      if (round > waiter.afterRound) waiter.resolve();
    }
  }

  /** Waits `ms`, or less when a drain or stop wakes the loop. */
  function pause(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(finish, ms);
      wake = finish;
      function finish() {
        clearTimeout(timer);
        wake = undefined;
        done();
      }
    });
  }

  async function loop(): Promise<void> {
    let failedRounds = 0;
    while (!stopping.signal.aborted) {
      const number = ++roundsStarted;
      try {
        const outcome = await round();
        failedRounds = 0;
        if (outcome.quiet) settleDrains(number);
        if (!outcome.full) await pause(idleIntervalMs);
      } catch (error) {
        if (stopping.signal.aborted) break;
        // DynamoDB Local busy or gone: try again, more slowly while it lasts.
        failedRounds += 1;
        const retryInMs = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failedRounds - 1));
        log('warn', 'stream poll failed', { errorName: (error as Error | undefined)?.name ?? typeof error, retryInMs });
        await pause(retryInMs);
      }
    }
  }

  const initialPosition = options.startingPosition ?? 'TRIM_HORIZON';
  await discoverShards(initialPosition);
  if (initialPosition === 'LATEST') {
    // Pin LATEST now, before anything is written (a shard closed by then holds only what earlier runs handled).
    for (const shard of [...shards.values()].filter(readable)) await openIterator(shard);
  }
  const running = loop();

  return {
    drain(timeoutMs = DEFAULTS.drainTimeoutMs) {
      if (stopping.signal.aborted) return Promise.reject(new Error('The stream poller has stopped.'));
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => settle(() => reject(new Error(`The stream was not drained within ${timeoutMs / 1000} s.`))), timeoutMs);
        const waiter: DrainWaiter = { afterRound: roundsStarted, resolve: () => settle(resolve), reject: (error) => settle(() => reject(error)) };
        function settle(finish: () => void) {
          clearTimeout(timer);
          drains.delete(waiter);
          finish();
        }
        drains.add(waiter);
        wake?.();
      });
    },
    async stop() {
      stopping.abort();
      wake?.();
      await running;
      for (const waiter of drains) waiter.reject(new Error('The stream poller stopped before the stream was drained.'));
      streams.destroy();
    },
  };
}

/** From LATEST, a shard already closed has nothing new to read. */
function newShard(shard: Shard, startAt: 'TRIM_HORIZON' | 'LATEST'): ShardState {
  return {
    shardId: shard.ShardId!,
    parentShardId: shard.ParentShardId,
    startAt,
    iterator: undefined,
    lastSequenceNumber: undefined,
    exhausted: startAt === 'LATEST' && shard.SequenceNumberRange?.EndingSequenceNumber !== undefined,
    pending: [],
    failures: 0,
    retryAt: 0,
  };
}

function isDone(shard: ShardState): boolean {
  return shard.exhausted && shard.pending.length === 0;
}

/** The table's current stream; a table without one is refused plainly (the runner turns it on for its table). */
async function latestStreamArn(endpoint: string, tableName: string): Promise<string> {
  const client = createDynamoDbClient({ endpoint });
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (!Table?.LatestStreamArn || !Table.StreamSpecification?.StreamEnabled) throw new Error(`Table ${tableName} has no stream enabled.`);
    return Table.LatestStreamArn;
  } finally {
    client.destroy();
  }
}
