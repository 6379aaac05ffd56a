// The analytics views, each computed from rollup cells alone: the Analytics API's summary (seed 003), the main
// graph's series, the totals panel, power users and free breakdowns (seed 000). Amounts stay in milli-CU here.

import type { MilliCu } from './compute-units';
import { actorKindOf } from './limits';
import { ASSET_KINDS, type AssetKind, type UsageAmounts, type UsageCell } from './usage-rollup';
import { addDays, daysOf, selects, type DayRange, type UsageDimensions, type UsageSelection } from './usage-filters';

/** The cells a selection reads: its days, its projects, users, job types and models. */
export function selectCells(cells: Iterable<UsageCell>, selection: UsageSelection): UsageCell[] {
  const selected: UsageCell[] = [];
  for (const cell of cells) {
    if (cell.day >= selection.startDate && cell.day <= selection.endDate && selects(selection, cell)) selected.push(cell);
  }
  return selected;
}

/** Amounts summed per group, in first-seen order; `key` names the group. */
function sumBy<K>(cells: readonly UsageCell[], key: (cell: UsageCell) => K, identity: (key: K) => string = String): Map<string, { key: K; amounts: { cuMilli: MilliCu; jobs: number } }> {
  const groups = new Map<string, { key: K; amounts: { cuMilli: MilliCu; jobs: number } }>();
  for (const cell of cells) {
    const groupKey = key(cell);
    const id = identity(groupKey);
    const group = groups.get(id) ?? { key: groupKey, amounts: { cuMilli: 0, jobs: 0 } };
    group.amounts.cuMilli += cell.cuMilli;
    group.amounts.jobs += cell.jobs;
    groups.set(id, group);
  }
  return groups;
}

/** Something is left in the window: CU or jobs (a group whose every job was refunded in full has neither). */
function hasUsage(amounts: UsageAmounts): boolean {
  return amounts.cuMilli !== 0 || amounts.jobs !== 0;
}

const byCuThen = <T>(tieBreak: (item: T) => string) => (a: T & { cuMilli: number }, b: T & { cuMilli: number }) =>
  b.cuMilli - a.cuMilli || (tieBreak(a) < tieBreak(b) ? -1 : tieBreak(a) > tieBreak(b) ? 1 : 0);

export function isApiKeyUser(userId: string): boolean {
  return actorKindOf(userId) === 'api_key';
}

export interface UserUsage extends UsageAmounts {
  readonly userId: string;
}

/** CU and jobs per user (or API key), highest CU first, then by id; users with nothing left are left out. */
export function usageByUser(cells: readonly UsageCell[]): UserUsage[] {
  return [...sumBy(cells, (cell) => cell.userId).values()]
    .map(({ key, amounts }) => ({ userId: key, ...amounts }))
    .filter(hasUsage)
    .sort(byCuThen((user) => user.userId));
}

export interface ModelUsage extends UsageAmounts {
  readonly modelId: string;
  readonly modelName: string;
  readonly apiKeyCuMilli: MilliCu;
}

export interface AssetUsage {
  readonly kind: AssetKind;
  readonly total: number;
  readonly totalApiKey: number;
}

/** The Analytics API's answer (seed 003), in milli-CU. */
export interface UsageSummary {
  readonly totals: DayRange & { readonly cuMilli: MilliCu; readonly users: number };
  readonly consumption: readonly UserUsage[];
  readonly modelUsages: readonly ModelUsage[];
  readonly assetUsages: readonly AssetUsage[];
}

/**
 * The summary of a window: total CU; CU per user; CU, jobs and the API-key part per model (named by the latest name
 * recorded for it, else its id; jobs without a model are in no model's row); outputs per kind.
 */
export function usageSummary(cells: readonly UsageCell[], range: DayRange, modelNames: ReadonlyMap<string, string>): UsageSummary {
  const consumption = usageByUser(cells);
  const models = new Map<string, { cuMilli: number; jobs: number; apiKeyCuMilli: number }>();
  const assets = new Map<AssetKind, { total: number; totalApiKey: number }>();
  let cuMilli = 0;
  for (const cell of cells) {
    cuMilli += cell.cuMilli;
    const viaKey = isApiKeyUser(cell.userId);
    if (cell.modelId !== null) {
      const model = models.get(cell.modelId) ?? { cuMilli: 0, jobs: 0, apiKeyCuMilli: 0 };
      model.cuMilli += cell.cuMilli;
      model.jobs += cell.jobs;
      if (viaKey) model.apiKeyCuMilli += cell.cuMilli;
      models.set(cell.modelId, model);
    }
    for (const kind of ASSET_KINDS) {
      const count = cell.assets[kind] ?? 0;
      if (count === 0) continue;
      const asset = assets.get(kind) ?? { total: 0, totalApiKey: 0 };
      asset.total += count;
      if (viaKey) asset.totalApiKey += count;
      assets.set(kind, asset);
    }
  }
  const modelUsages = [...models.entries()]
    .map(([modelId, amounts]) => ({ modelId, modelName: modelNames.get(modelId) ?? modelId, ...amounts }))
    .filter(hasUsage)
    .sort(byCuThen((model) => model.modelId));
  const assetUsages = ASSET_KINDS.flatMap((kind) => {
    const asset = assets.get(kind);
    return asset && asset.total !== 0 ? [{ kind, ...asset }] : [];
  }).sort((a, b) => b.total - a.total || ASSET_KINDS.indexOf(a.kind) - ASSET_KINDS.indexOf(b.kind));
  return { totals: { cuMilli, users: consumption.length, startDate: range.startDate, endDate: range.endDate }, consumption, modelUsages, assetUsages };
}

export const GRANULARITIES = ['hour', 'day', 'week', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
export const METRICS = ['cu', 'jobs'] as const;
export type Metric = (typeof METRICS)[number];
/** Hourly series cover at most this many days (744 buckets). */
export const MAX_HOURLY_DAYS = 31;

export interface SeriesBucket {
  /** The bucket's first instant (ISO); weeks start on Monday, UTC. */
  readonly start: string;
  /** milli-CU for `cu`, a count for `jobs`. */
  readonly value: number;
  /** The same per job type (the graph's hover), job types with something in the bucket only, by id. */
  readonly byJobType: Readonly<Record<string, number>>;
}

/** The first instant of the bucket a day falls in. */
function bucketStartOfDay(day: string, granularity: Exclude<Granularity, 'hour'>): string {
  if (granularity === 'day') return day;
  if (granularity === 'month') return `${day.slice(0, 8)}01`;
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
  return addDays(day, -((weekday + 6) % 7));
}

/**
 * The main graph: every bucket of the range in order, zero where empty, each with its total and its split by job
 * type. The first and last weeks or months may reach outside the range; only the range's days count in them. By
 * hour it takes hour cells, otherwise day cells.
 */
export function timeSeries(cells: readonly UsageCell[], range: DayRange, metric: Metric, granularity: Granularity): SeriesBucket[] {
  const buckets = new Map<string, { value: number; byJobType: Map<string, number> }>();
  for (const day of daysOf(range)) {
    if (granularity === 'hour') {
      for (let hour = 0; hour < 24; hour++) buckets.set(`${day}T${String(hour).padStart(2, '0')}`, { value: 0, byJobType: new Map() });
    } else {
      const start = bucketStartOfDay(day, granularity);
      if (!buckets.has(start)) buckets.set(start, { value: 0, byJobType: new Map() });
    }
  }
  const add = (bucketKey: string, jobType: string, amounts: UsageAmounts) => {
    const bucket = buckets.get(bucketKey);
    const value = metric === 'cu' ? amounts.cuMilli : amounts.jobs;
    if (!bucket || value === 0) return;
    bucket.value += value;
    bucket.byJobType.set(jobType, (bucket.byJobType.get(jobType) ?? 0) + value);
  };
  // By hour, the cells are hour cells; otherwise day cells.
  for (const cell of cells) add(granularity === 'hour' ? `${cell.day}T${cell.hour}` : bucketStartOfDay(cell.day, granularity), cell.jobType, cell);
  return [...buckets.entries()].map(([key, bucket]) => ({
    start: granularity === 'hour' ? `${key}:00:00.000Z` : `${key}T00:00:00.000Z`,
    value: bucket.value,
    byJobType: Object.fromEntries([...bucket.byJobType.entries()].filter(([, value]) => value !== 0).sort(([a], [b]) => (a < b ? -1 : 1))),
  }));
}

export interface JobTypeUsage extends UsageAmounts {
  readonly jobType: string;
}

/** The totals panel: total CU and jobs, then CU and jobs per job type (highest CU first). */
export function usageTotals(cells: readonly UsageCell[]): UsageAmounts & { readonly jobTypes: readonly JobTypeUsage[] } {
  const jobTypes = [...sumBy(cells, (cell) => cell.jobType).values()]
    .map(({ key, amounts }) => ({ jobType: key, ...amounts }))
    .filter(hasUsage)
    .sort(byCuThen((row) => row.jobType));
  return { cuMilli: cells.reduce((sum, cell) => sum + cell.cuMilli, 0), jobs: cells.reduce((sum, cell) => sum + cell.jobs, 0), jobTypes };
}

export const BREAKDOWN_DIMENSIONS = ['userId', 'projectId', 'modelId', 'jobType'] as const;
export type BreakdownDimension = (typeof BREAKDOWN_DIMENSIONS)[number];

export interface BreakdownGroup extends UsageAmounts {
  /** The group's value of each dimension grouped by (`modelId` null: jobs without a model). */
  readonly key: Readonly<Partial<Record<BreakdownDimension, string | null>>>;
}

/** CU and jobs per combination of the chosen dimensions, highest CU first, then by key. */
export function breakdown(cells: readonly UsageCell[], groupBy: readonly BreakdownDimension[]): BreakdownGroup[] {
  const keyOf = (cell: UsageDimensions) => Object.fromEntries(groupBy.map((dimension) => [dimension, cell[dimension]])) as BreakdownGroup['key'];
  const identity = (key: BreakdownGroup['key']) => JSON.stringify(groupBy.map((dimension) => key[dimension]));
  return [...sumBy(cells, keyOf, identity).values()]
    .map(({ key, amounts }) => ({ key, ...amounts, id: identity(key) }))
    .filter(hasUsage)
    .sort(byCuThen((group) => group.id))
    .map(({ id: _id, ...group }) => group);
}
