// Brute-force answers of every usage route, computed straight from the event log with none of the rollup code: the
// reference the property test compares the routes against. Deliberately plain: loops over events, nothing shared with
// shared/domain/usage-*.ts beyond the record type.

import type { MeterEventRecord } from '../../shared/ports/ledger-records';

export interface OracleQuery {
  readonly startDate: string;
  readonly endDate: string;
  /** What the reader may see, narrowed by any projectId filter. */
  readonly projects: 'all' | readonly string[];
  readonly users?: readonly string[];
  readonly jobTypes?: readonly string[];
  readonly models?: readonly string[];
}

const cu = (milli: number) => Math.round(milli) / 1000;

/** The full-refund flag, derived again: the refund after which the consume's refunds add up to its charge. */
function fullRefunds(log: readonly MeterEventRecord[]): Set<string> {
  const consumes = new Map(log.filter((event) => event.kind === 'consume').map((event) => [event.requestId, event]));
  const refunds = log.filter((event) => event.kind === 'refund').sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  const refunded = new Map<string, number>();
  const full = new Set<string>();
  for (const refund of refunds) {
    const total = (refunded.get(refund.refundOf!) ?? 0) + refund.cuMilli;
    refunded.set(refund.refundOf!, total);
    if (total === consumes.get(refund.refundOf!)?.cuMilli) full.add(refund.eventId);
  }
  return full;
}

interface Contribution {
  readonly event: MeterEventRecord;
  readonly cuMilli: number;
  readonly jobs: number;
  readonly assets: number;
}

/** Each event of the window that the query selects, with what it adds (refunds negative). */
export function contributions(log: readonly MeterEventRecord[], query: OracleQuery): Contribution[] {
  const full = fullRefunds(log);
  const result: Contribution[] = [];
  for (const event of log) {
    const day = event.createdAt.slice(0, 10);
    if (day < query.startDate || day > query.endDate) continue;
    if (query.projects !== 'all' && !query.projects.includes(event.projectId)) continue;
    if (query.users?.length && !query.users.includes(event.userId)) continue;
    if (query.jobTypes?.length && !query.jobTypes.includes(event.jobType)) continue;
    if (query.models?.length && (event.modelId === undefined || !query.models.includes(event.modelId))) continue;
    const consume = event.kind === 'consume';
    const jobs = consume ? 1 : full.has(event.eventId) ? -1 : 0;
    result.push({ event, cuMilli: consume ? event.cuMilli : -event.cuMilli, jobs, assets: event.assetKind ? jobs * (event.assetCount ?? 0) : 0 });
  }
  return result;
}

function group<K extends string>(items: readonly Contribution[], key: (item: Contribution) => K | undefined) {
  const groups = new Map<K, { cuMilli: number; jobs: number; apiKeyCuMilli: number; assets: number; apiKeyAssets: number }>();
  for (const item of items) {
    const name = key(item);
    if (name === undefined) continue;
    const entry = groups.get(name) ?? { cuMilli: 0, jobs: 0, apiKeyCuMilli: 0, assets: 0, apiKeyAssets: 0 };
    const viaKey = item.event.userId.startsWith('apiu_');
    entry.cuMilli += item.cuMilli;
    entry.jobs += item.jobs;
    entry.assets += item.assets;
    if (viaKey) {
      entry.apiKeyCuMilli += item.cuMilli;
      entry.apiKeyAssets += item.assets;
    }
    groups.set(name, entry);
  }
  return groups;
}

const byCuDesc = <T extends { cuMilli: number; id: string }>(a: T, b: T) => b.cuMilli - a.cuMilli || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The latest name a consume recorded for each model, over the whole log. */
export function latestModelNames(log: readonly MeterEventRecord[]): Map<string, string> {
  const names = new Map<string, { name: string; at: string }>();
  for (const event of log) {
    if (event.kind !== 'consume' || event.modelId === undefined || event.modelName === undefined) continue;
    const at = `${event.createdAt}#${event.eventId}`;
    const known = names.get(event.modelId);
    if (!known || known.at < at) names.set(event.modelId, { name: event.modelName, at });
  }
  return new Map([...names].map(([id, { name }]) => [id, name]));
}

export function oracleUsage(log: readonly MeterEventRecord[], query: OracleQuery) {
  const items = contributions(log, query);
  const users = [...group(items, (item) => item.event.userId)]
    .map(([id, entry]) => ({ id, ...entry }))
    .filter((entry) => entry.cuMilli !== 0 || entry.jobs !== 0)
    .sort(byCuDesc);
  const names = latestModelNames(log);
  const models = [...group(items, (item) => item.event.modelId)]
    .map(([id, entry]) => ({ id, ...entry }))
    .filter((entry) => entry.cuMilli !== 0 || entry.jobs !== 0)
    .sort(byCuDesc);
  const order = ['image', 'video', '3d', 'audio'];
  const assets = [...group(items, (item) => item.event.assetKind)]
    .filter(([, entry]) => entry.assets !== 0)
    .sort(([a, x], [b, y]) => y.assets - x.assets || order.indexOf(a) - order.indexOf(b));
  return {
    totals: { totalCU: cu(items.reduce((sum, item) => sum + item.cuMilli, 0)), users: users.length, startDate: query.startDate, endDate: query.endDate },
    consumption: users.map((user) => ({ userId: user.id, value: cu(user.cuMilli), total: cu(user.cuMilli) })),
    modelUsages: models.map((model) => ({ modelName: names.get(model.id) ?? model.id, totalCU: cu(model.cuMilli), totalJobs: model.jobs, totalApiKeyCU: cu(model.apiKeyCuMilli) })),
    assetUsages: assets.map(([kind, entry]) => ({ kind, total: entry.assets, totalApiKey: entry.apiKeyAssets })),
  };
}

export function oracleTotals(log: readonly MeterEventRecord[], query: OracleQuery) {
  const items = contributions(log, query);
  const jobTypes = [...group(items, (item) => item.event.jobType)]
    .map(([id, entry]) => ({ id, ...entry }))
    .filter((entry) => entry.cuMilli !== 0 || entry.jobs !== 0)
    .sort(byCuDesc);
  return {
    startDate: query.startDate,
    endDate: query.endDate,
    totalCU: cu(items.reduce((sum, item) => sum + item.cuMilli, 0)),
    totalJobs: items.reduce((sum, item) => sum + item.jobs, 0),
    jobTypes: jobTypes.map((row) => ({ jobType: row.id, jobs: row.jobs, cu: cu(row.cuMilli) })),
  };
}

export function oraclePowerUsers(log: readonly MeterEventRecord[], query: OracleQuery, limit: number) {
  const usage = oracleUsage(log, query);
  const jobs = group(contributions(log, query), (item) => item.event.userId);
  return {
    startDate: query.startDate,
    endDate: query.endDate,
    users: usage.consumption.slice(0, limit).map((user) => ({ userId: user.userId, apiKey: user.userId.startsWith('apiu_'), cu: user.value, jobs: jobs.get(user.userId)!.jobs })),
  };
}

export function oracleBreakdown(log: readonly MeterEventRecord[], query: OracleQuery, groupBy: readonly ('userId' | 'projectId' | 'modelId' | 'jobType')[]) {
  const items = contributions(log, query);
  const keyOf = (event: MeterEventRecord) => Object.fromEntries(groupBy.map((dimension) => [dimension, dimension === 'modelId' ? (event.modelId ?? null) : event[dimension]]));
  const groups = group(items, (item) => JSON.stringify(groupBy.map((dimension) => keyOf(item.event)[dimension])));
  const keys = new Map(items.map((item) => [JSON.stringify(groupBy.map((dimension) => keyOf(item.event)[dimension])), keyOf(item.event)]));
  return {
    startDate: query.startDate,
    endDate: query.endDate,
    groupBy,
    groups: [...groups]
      .map(([id, entry]) => ({ id, ...entry }))
      .filter((entry) => entry.cuMilli !== 0 || entry.jobs !== 0)
      .sort(byCuDesc)
      .map((entry) => ({ ...keys.get(entry.id), cu: cu(entry.cuMilli), jobs: entry.jobs })),
  };
}

/** Every bucket of the range, by plain date arithmetic. */
export function oracleSeries(log: readonly MeterEventRecord[], query: OracleQuery, metric: 'cu' | 'jobs', granularity: 'hour' | 'day' | 'week' | 'month') {
  const bucketOf = (instant: Date): string => {
    const day = instant.toISOString().slice(0, 10);
    if (granularity === 'hour') return `${instant.toISOString().slice(0, 13)}:00:00.000Z`;
    if (granularity === 'day') return `${day}T00:00:00.000Z`;
    if (granularity === 'month') return `${day.slice(0, 7)}-01T00:00:00.000Z`;
    const monday = new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate() - ((instant.getUTCDay() + 6) % 7)));
    return monday.toISOString();
  };
  const buckets = new Map<string, { value: number; byJobType: Map<string, number> }>();
  for (let time = Date.parse(`${query.startDate}T00:00:00Z`); time <= Date.parse(`${query.endDate}T23:00:00Z`); time += 3_600_000) {
    const key = bucketOf(new Date(time));
    if (!buckets.has(key)) buckets.set(key, { value: 0, byJobType: new Map() });
  }
  for (const item of contributions(log, query)) {
    const bucket = buckets.get(bucketOf(new Date(item.event.createdAt)))!;
    const value = metric === 'cu' ? item.cuMilli : item.jobs;
    bucket.value += value;
    bucket.byJobType.set(item.event.jobType, (bucket.byJobType.get(item.event.jobType) ?? 0) + value);
  }
  const shown = (value: number) => (metric === 'cu' ? cu(value) : value);
  return [...buckets].map(([start, bucket]) => ({
    start,
    value: shown(bucket.value),
    byJobType: Object.fromEntries([...bucket.byJobType].filter(([, value]) => value !== 0).sort(([a], [b]) => (a < b ? -1 : 1)).map(([jobType, value]) => [jobType, shown(value)])),
  }));
}

export interface OracleEventQuery extends OracleQuery {
  readonly resourceTypes?: readonly string[];
  readonly poolCategories?: readonly string[];
  readonly ioTypes?: readonly string[];
  readonly minCu?: number;
  readonly maxCu?: number;
  readonly sort: 'createdAt' | 'amount' | 'userId';
  readonly order: 'asc' | 'desc';
}

/** The whole events table for a query: matching rows in order (ties by time, then event id). */
export function oracleEvents(log: readonly MeterEventRecord[], query: OracleEventQuery): MeterEventRecord[] {
  const amount = (event: MeterEventRecord) => (event.kind === 'refund' ? -event.cuMilli : event.cuMilli);
  const rows = contributions(log, query)
    .map((item) => item.event)
    .filter(
      (event) =>
        (!query.resourceTypes?.length || (event.resourceType !== undefined && query.resourceTypes.includes(event.resourceType))) &&
        (!query.poolCategories?.length || query.poolCategories.includes(event.poolCategory)) &&
        (!query.ioTypes?.length || (event.ioType !== undefined && query.ioTypes.includes(event.ioType))) &&
        (query.minCu === undefined || amount(event) >= query.minCu * 1000) &&
        (query.maxCu === undefined || amount(event) <= query.maxCu * 1000),
    );
  const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const direction = query.order === 'asc' ? 1 : -1;
  return rows.sort((a, b) => {
    const own = query.sort === 'amount' ? amount(a) - amount(b) : query.sort === 'userId' ? text(a.userId, b.userId) : 0;
    return direction * (own || text(a.createdAt, b.createdAt) || text(a.eventId, b.eventId));
  });
}
