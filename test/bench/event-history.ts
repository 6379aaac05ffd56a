// The benchmarks' synthetic org history and its bulk load into DynamoDB Local (bench:usage, bench:export): a fixed set
// of users, projects and models; events in random time order with their refunds, written by BatchWriteItem exactly
// as a consume or refund stores them (so the log and its index hold them); the rollup cells and model names the
// stream would have built, folded in memory by the domain's own rollup and written whole.

import { setTimeout as sleep } from 'node:timers/promises';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { toCellItem, toEventItem } from '../../shared/adapters/dynamodb/item-mapping';
import { eventKey, modelNameKey, usageCellKey } from '../../shared/adapters/dynamodb/ledger-table';
import { termsAt, type OrgTermsSource } from '../../shared/domain/billing-terms';
import { requestFingerprint } from '../../shared/domain/fingerprint';
import { actorKindOf } from '../../shared/domain/limits';
import { planReturns, poolCategoryOf, type Draw } from '../../shared/domain/pool';
import { dayOf } from '../../shared/domain/usage-filters';
import { rollUp, type AssetKind, type UsageCell } from '../../shared/domain/usage-rollup';
import { counterName, type MeterEventRecord } from '../../shared/ports/ledger-records';
import { cpuSample, foreignCores, prng } from './bench-support';

/** Events generated (and folded) at once; a consume and its refund are always in the same chunk. */
const CHUNK_EVENTS = 2_000;
/** BatchWriteItem takes at most 25 puts. */
const BATCH_ITEMS = 25;
export const BATCHES_IN_FLIGHT = 6;

/** Share of events that are refunds, as in the issue; of those, this many give the whole charge back. */
const REFUND_SHARE = 0.05;
const FULL_REFUND_SHARE = 0.7;

// ---- The org's fixed dimensions -----------------------------------------------------------------------------------

interface ModelSpec {
  readonly id: string;
  /** The name consumes carry; a second one from `renamedAt` (share of the history) on. */
  readonly names: readonly [string] | readonly [string, string];
  readonly jobType: string;
  readonly assetKind?: AssetKind;
  readonly assets: readonly [number, number];
  readonly milliPerJob: readonly [number, number];
  readonly resourceType: string;
  readonly endpoint: string;
}

/** Eight models, each of one job type (the same job type for the two image models). */
export const MODELS: readonly ModelSpec[] = [
  { id: 'gpt-image-2', names: ['GPT Image 2'], jobType: 'image_generation', assetKind: 'image', assets: [1, 4], milliPerJob: [2_000, 6_000], resourceType: 'image', endpoint: '/v1/images/generations' },
  { id: 'flux-1-dev', names: ['FLUX.1 [dev]'], jobType: 'image_generation', assetKind: 'image', assets: [1, 4], milliPerJob: [1_200, 4_800], resourceType: 'image', endpoint: '/v1/images/generations' },
  { id: 'kling-2', names: ['Kling 2.0', 'Kling 2.1'], jobType: 'video_generation', assetKind: 'video', assets: [1, 1], milliPerJob: [40_000, 120_000], resourceType: 'video', endpoint: '/v1/videos/generations' },
  { id: 'real-esrgan-x4', names: ['Real-ESRGAN x4'], jobType: 'upscale', assetKind: 'image', assets: [1, 1], milliPerJob: [200, 600], resourceType: 'image', endpoint: '/v1/images/upscale' },
  { id: 'rmbg-2', names: ['RMBG 2.0'], jobType: 'background_removal', assetKind: 'image', assets: [1, 1], milliPerJob: [100, 300], resourceType: 'image', endpoint: '/v1/images/background' },
  { id: 'trellis', names: ['TRELLIS'], jobType: 'three_d_generation', assetKind: '3d', assets: [1, 1], milliPerJob: [15_000, 25_000], resourceType: 'mesh', endpoint: '/v1/3d/generations' },
  { id: 'stable-audio-2', names: ['Stable Audio 2'], jobType: 'audio_generation', assetKind: 'audio', assets: [1, 2], milliPerJob: [3_000, 6_000], resourceType: 'audio', endpoint: '/v1/audio/generations' },
  { id: 'assistant-mini', names: ['Assistant mini'], jobType: 'assistant_message', assets: [0, 0], milliPerJob: [20, 200], resourceType: 'tokens', endpoint: '/v1/assistant/messages' },
];
/** Where in the history (share of its span) the renamed model takes its second name. */
const RENAMED_AT = 0.6;

export const PROJECTS = ['web-app', 'mobile-app', 'studio', 'marketing', 'research'] as const;

interface UserSpec {
  readonly id: string;
  readonly projectId: string;
  /** Share of the org's jobs, before normalising: a few power users, a long tail. */
  readonly weight: number;
  /** The models this user works with, by index in MODELS, and how much of their work each takes. */
  readonly models: ReadonlyArray<{ readonly model: number; readonly weight: number }>;
}

/** 17 members and 3 API keys, each in one project, each with 2 or 3 favourite models: a fixed set of combinations. */
function orgUsers(): UserSpec[] {
  const random = prng(20261123);
  const ids = [...Array.from({ length: 17 }, (_, index) => `user-${String(index + 1).padStart(2, '0')}`), 'apiu_batch_render', 'apiu_ci_pipeline', 'apiu_partner_sync'];
  return ids.map((id, rank) => {
    const favourites = new Set<number>();
    const wanted = 2 + (rank % 2);
    while (favourites.size < wanted) favourites.add(Math.floor(random() * MODELS.length));
    return {
      id,
      projectId: PROJECTS[rank % PROJECTS.length]!,
      weight: 1 / (rank + 1) ** 0.7,
      models: [...favourites].map((model, index) => ({ model, weight: 1 / (index + 1) })),
    };
  });
}

export const USERS = orgUsers();
export const COMBINATIONS = USERS.reduce((sum, user) => sum + user.models.length, 0);

/** Hour-of-day weights (UTC): a working day with an evening tail. */
const HOUR_WEIGHTS = [2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 10, 9, 10, 10, 10, 9, 8, 7, 6, 5, 4, 3, 2];
const MAX_HOUR_WEIGHT = Math.max(...HOUR_WEIGHTS);

function pickWeighted<T extends { weight: number }>(items: readonly T[], random: () => number): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let left = random() * total;
  for (const item of items) {
    left -= item.weight;
    if (left < 0) return item;
  }
  return items.at(-1)!;
}

// ---- Event generation ----------------------------------------------------------------------------------------------

export interface History {
  readonly orgId: string;
  readonly terms: OrgTermsSource;
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * The org's events in chunks, in random time order (so any prefix spreads over every day, and a load cut short by
 * its time budget still covers the whole history). Each consume is refunded with a probability that makes refunds
 * REFUND_SHARE of the events, in full or by half, later than the consume; the consume then carries `refundedMilli`
 * as the refund use case leaves it.
 */
export function* eventChunks(history: History, count: number, seed: number): Generator<MeterEventRecord[]> {
  const random = prng(seed);
  const hex32 = () => Array.from({ length: 4 }, () => Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0')).join('');
  const periods = new Map<string, string>();
  /** The billing period of an instant: its day's (a period starts at midnight UTC on the anchor's day). */
  const periodOf = (at: number): string => {
    const day = dayOf(new Date(at));
    let period = periods.get(day);
    if (period === undefined) periods.set(day, (period = termsAt(history.terms, new Date(`${day}T00:00:00.000Z`)).period.id));
    return period;
  };
  const span = history.toMs - history.fromMs;
  const instant = (): number => {
    for (;;) {
      const at = history.fromMs + Math.floor(random() * span);
      if (random() * MAX_HOUR_WEIGHT < HOUR_WEIGHTS[new Date(at).getUTCHours()]!) return at;
    }
  };
  const refundChance = REFUND_SHARE / (1 - REFUND_SHARE);
  let made = 0;
  let sequence = 0;
  while (made < count) {
    const chunk: MeterEventRecord[] = [];
    while (chunk.length < CHUNK_EVENTS && made + chunk.length < count) {
      const user = pickWeighted(USERS, random);
      const model = MODELS[pickWeighted(user.models, random).model]!;
      const at = instant();
      const assetCount = model.assets[0] + Math.floor(random() * (model.assets[1] - model.assets[0] + 1));
      const cuMilli = Math.round(model.milliPerJob[0] + random() * (model.milliPerJob[1] - model.milliPerJob[0]));
      const name = model.names.length === 2 && at >= history.fromMs + RENAMED_AT * span ? model.names[1] : model.names[0];
      const request = {
        requestId: `req-${++sequence}`,
        orgId: history.orgId,
        projectId: user.projectId,
        userId: user.id,
        jobType: model.jobType,
        cuMilli,
        modelId: model.id,
        modelName: name,
        ...(model.assetKind ? { assetKind: model.assetKind, assetCount } : {}),
        resourceType: model.resourceType,
        ioType: 'output' as const,
        endpoint: model.endpoint,
      };
      const actorKind = actorKindOf(user.id);
      const draws: Draw[] = [{ ref: { kind: 'allowance' }, milli: cuMilli }];
      const periodId = periodOf(at);
      const consumeEvent: MeterEventRecord = {
        ...request,
        kind: 'consume',
        eventId: `evt_${hex32()}`,
        createdAt: new Date(at).toISOString(),
        periodId,
        actorKind,
        poolCategory: poolCategoryOf(draws),
        draws,
        counters: [counterName({ kind: 'team', id: '' }), counterName({ kind: 'project', id: user.projectId }), counterName({ kind: actorKind, id: user.id })],
        fingerprint: requestFingerprint('consume', request),
        attemptId: hex32(),
        availableAfterMilli: null,
      };
      if (random() >= refundChance || made + chunk.length + 2 > count) {
        chunk.push(consumeEvent);
        continue;
      }
      const full = random() < FULL_REFUND_SHARE;
      const amount = full ? cuMilli : Math.max(1, Math.floor(cuMilli / 2));
      // Minutes to hours after the consume, and never after the history's end.
      const refundAt = Math.min(at + 30_000 + Math.floor(random() * 3 * 3_600_000), history.toMs);
      const refundRequest = { requestId: `req-${++sequence}`, orgId: history.orgId, refundOf: consumeEvent.requestId, ...(full ? {} : { cuMilli: amount }) };
      const periodIsCurrent = periodOf(refundAt) === periodId;
      const { requestId: _requestId, eventId: _eventId, createdAt: _createdAt, cuMilli: _cuMilli, fingerprint: _fingerprint, attemptId: _attemptId, availableAfterMilli: _available, draws: _draws, ...job } = consumeEvent;
      chunk.push({ ...consumeEvent, refundedMilli: amount });
      chunk.push({
        ...job,
        kind: 'refund',
        requestId: refundRequest.requestId,
        eventId: `evt_${hex32()}`,
        createdAt: new Date(refundAt).toISOString(),
        cuMilli: amount,
        draws: [],
        returns: planReturns(draws, 0, amount, { periodIsCurrent, liveBatch: () => false }),
        fingerprint: requestFingerprint('refund', refundRequest),
        attemptId: hex32(),
        refundOf: consumeEvent.requestId,
        refundsInFull: full,
      });
    }
    made += chunk.length;
    yield chunk;
  }
}

// ---- Bulk writes ---------------------------------------------------------------------------------------------------

export type Item = Record<string, unknown>;

/** BatchWriteItem, 25 puts a call, several calls in flight, unprocessed items sent again with a backoff. */
export class BatchWriter {
  private buffer: Item[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  written = 0;
  calls = 0;
  resent = 0;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly onWritten: (written: number) => void = () => undefined,
  ) {}

  async put(item: Item): Promise<void> {
    this.buffer.push(item);
    if (this.buffer.length < BATCH_ITEMS) return;
    const batch = this.buffer;
    this.buffer = [];
    while (this.inFlight.size >= BATCHES_IN_FLIGHT) await Promise.race(this.inFlight);
    const sending = this.send(batch).finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  async flush(): Promise<void> {
    if (this.buffer.length > 0) {
      const batch = this.buffer;
      this.buffer = [];
      await this.send(batch);
    }
    await Promise.all(this.inFlight);
  }

  private async send(items: Item[]): Promise<void> {
    let pending = items.map((Item) => ({ PutRequest: { Item } }));
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) await sleep(Math.min(1_000, 10 * 2 ** round));
      if (round > 12) throw new Error(`BatchWriteItem left ${pending.length} items unprocessed after ${round} rounds`);
      this.calls++;
      const result = await this.documents.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
      const unprocessed = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
      this.written += pending.length - unprocessed.length;
      this.resent += unprocessed.length;
      pending = unprocessed;
      this.onWritten(this.written);
    }
  }
}

/** A progress bar on stderr: count, share, rate and time left; redrawn in place on a terminal, a line per 10% otherwise. */
export function progressBar(label: string, total: number) {
  const started = performance.now();
  const tty = process.stderr.isTTY === true;
  let drawnAt = 0;
  let lastTenth = 0;
  const line = (done: number) => {
    const elapsedS = (performance.now() - started) / 1000;
    const rate = done / Math.max(elapsedS, 1e-3);
    const share = Math.min(1, done / total);
    const width = 30;
    const filled = Math.round(share * width);
    const eta = rate > 0 ? (total - done) / rate : Infinity;
    return `[bench] ${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${(share * 100).toFixed(1)}% ${Math.round(rate).toLocaleString('en-US')}/s ETA ${duration(eta)}`;
  };
  return {
    update(done: number): void {
      const now = performance.now();
      if (tty) {
        if (now - drawnAt < 200) return;
        drawnAt = now;
        process.stderr.write(`\r${line(done)}\x1b[K`);
        return;
      }
      const tenth = Math.floor((done / total) * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`${line(done)}\n`);
      }
    },
    finish(done: number): void {
      if (tty) process.stderr.write(`\r${line(done)}\x1b[K\n`);
      else if (lastTenth < 10) process.stderr.write(`${line(done)}\n`);
    },
  };
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const whole = Math.round(seconds);
  return whole >= 60 ? `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s` : `${whole}s`;
}

export interface LoadResult {
  readonly orgId: string;
  readonly events: number;
  readonly refunds: number;
  readonly cells: number;
  /** Cells inside the 31 days every view reads. */
  readonly cellsInRange: number;
  /** Hours with something in them, per cell (24 at most): a cell's item grows with them. */
  readonly hoursPerCell: number;
  /** Net CU of the 31 days by the in-memory rollup: what /v1/usage must answer. */
  readonly cuMilliInRange: number;
  readonly items: number;
  readonly batchCalls: number;
  readonly resent: number;
  readonly loadS: number;
  readonly eventsPerS: number;
  /** Over the load's second half: past the JIT warm-up of both processes. */
  readonly steadyEventsPerS: number;
  /** The load stopped at the time budget, short of what was asked. */
  readonly cutShort: boolean;
  /** Cores busy while the events loaded: this process (generation, rollup, marshalling), DynamoDB Local, the rest of the machine. */
  readonly cores: CoreSplit;
}

export interface CoreSplit {
  readonly node: number | null;
  readonly dynamoDb: number | null;
  readonly others: number | null;
}

/** Starts counting CPU time; the answer is average cores busy, by whom, since the start. */
function coreSplit(nodePid: number, dynamoDbPid: number | undefined): () => CoreSplit {
  const pids = dynamoDbPid === undefined ? [nodePid] : [nodePid, dynamoDbPid];
  const started = performance.now();
  const before = { all: cpuSample(pids), node: cpuSample([nodePid]), dynamoDb: dynamoDbPid === undefined ? undefined : cpuSample([dynamoDbPid]) };
  return () => {
    const elapsedS = (performance.now() - started) / 1000;
    const cores = (from: ReturnType<typeof cpuSample>, to: ReturnType<typeof cpuSample>) => (from && to ? (to.ownTicks - from.ownTicks) / 100 / elapsedS : null);
    return {
      node: cores(before.node, cpuSample([nodePid])),
      dynamoDb: dynamoDbPid === undefined ? null : cores(before.dynamoDb, cpuSample([dynamoDbPid])),
      others: foreignCores(before.all, cpuSample(pids), elapsedS * 1000),
    };
  };
}

/**
 * Loads `count` events into the org: every event item as the live write path stores it (its key, index keys and
 * attributes), then the rollup cells and model names the stream would have built from them, summed in memory by
 * the domain's rollup. Stops early, at a chunk's end, once `deadlineS` has passed and `floor` events are in.
 */
export async function loadOrg(
  documents: DynamoDBDocumentClient,
  tableName: string,
  history: History,
  count: number,
  seed: number,
  range: { startDate: string; endDate: string },
  options: { dynamoDbPid: number | undefined; deadlineS?: number; floor?: number },
): Promise<LoadResult> {
  const bar = progressBar(`loading ${history.orgId}`, count);
  const writer = new BatchWriter(documents, tableName, (written) => bar.update(written));
  const cpu = coreSplit(process.pid, options.dynamoDbPid);
  const cells = new Map<string, UsageCell>();
  const latestNames = new Map<string, { nameAt: string; modelName: string }>();
  const started = performance.now();
  let events = 0;
  let refunds = 0;
  let cutShort = false;
  let halfway: { readonly at: number; readonly events: number } | undefined;
  for (const chunk of eventChunks(history, count, seed)) {
    rollUp(chunk, cells);
    for (const event of chunk) {
      if (event.kind === 'refund') refunds++;
      else if (event.modelId !== undefined && event.modelName !== undefined) {
        // As the live path records it: the latest consume's name per model.
        const nameAt = `${event.createdAt}#${event.eventId}`;
        const latest = latestNames.get(event.modelId);
        if (!latest || latest.nameAt < nameAt) latestNames.set(event.modelId, { nameAt, modelName: event.modelName });
      }
      await writer.put({ ...eventKey(event.orgId, event.requestId), ...toEventItem(event) });
    }
    events += chunk.length;
    if (!halfway && events >= count / 2) halfway = { at: performance.now(), events };
    const elapsedS = (performance.now() - started) / 1000;
    if (options.deadlineS !== undefined && elapsedS > options.deadlineS && events >= (options.floor ?? 0) && events < count) {
      cutShort = true;
      break;
    }
  }
  await writer.flush();
  const eventsDone = performance.now();
  const eventsS = (eventsDone - started) / 1000;
  const cores = cpu();
  bar.finish(writer.written);
  const rollups = new BatchWriter(documents, tableName);
  for (const cell of cells.values()) await rollups.put({ ...usageCellKey(history.orgId, cell), ...toCellItem(cell) });
  for (const [modelId, latest] of latestNames) {
    await rollups.put({ ...modelNameKey(history.orgId, modelId), modelId, modelName: latest.modelName, nameAt: latest.nameAt });
  }
  await rollups.flush();
  // Day cells are what the views read; each hour with something in it has an hour cell of its own.
  const inRangeWithHours = [...cells.values()].filter((cell) => cell.day >= range.startDate && cell.day <= range.endDate);
  const inRange = inRangeWithHours.filter((cell) => cell.hour === undefined);
  return {
    orgId: history.orgId,
    events,
    refunds,
    cells: cells.size,
    cellsInRange: inRange.length,
    hoursPerCell: (inRangeWithHours.length - inRange.length) / Math.max(1, inRange.length),
    cuMilliInRange: inRange.reduce((sum, cell) => sum + cell.cuMilli, 0),
    items: writer.written + rollups.written,
    batchCalls: writer.calls + rollups.calls,
    resent: writer.resent + rollups.resent,
    loadS: (performance.now() - started) / 1000,
    eventsPerS: events / eventsS,
    steadyEventsPerS: halfway && eventsDone > halfway.at ? ((events - halfway.events) / (eventsDone - halfway.at)) * 1000 : events / eventsS,
    cutShort,
    cores,
  };
}

