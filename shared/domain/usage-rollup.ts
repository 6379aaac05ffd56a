// The usage rollup: every charged event adds to one cell, the org's net usage on one UTC day for one combination of
// project, user (or API key), model and job type, with its hours and its outputs by kind. Every analytics view reads
// cells, never events, so a view costs days x active combinations however many events there were.
//
// Net, like a credit note: a refund counts at its own time and takes its CU back there, and the refund that brings a
// job's refunded total to its whole charge takes the job (and its outputs) back too. A closed day never changes.

import type { MilliCu } from './compute-units';
import { dayOf, type UsageDimensions } from './usage-filters';

export const ASSET_KINDS = ['image', 'video', '3d', 'audio'] as const;
export type AssetKind = (typeof ASSET_KINDS)[number];

/** A consume or refund as every usage view sees it (the log's event record has all of it). */
export interface LoggedEvent {
  readonly kind: 'consume' | 'refund';
  readonly eventId: string;
  readonly createdAt: string;
  readonly projectId: string;
  readonly userId: string;
  readonly jobType: string;
  readonly modelId?: string | undefined;
  readonly cuMilli: MilliCu;
}

/** What the rollup needs of a consume or refund besides: its outputs, and whether it refunds the job in full. */
export interface MeteredEvent extends LoggedEvent {
  readonly assetKind?: AssetKind | undefined;
  readonly assetCount?: number | undefined;
  /** refund: it brings the consume's refunded total to the whole charge (the job no longer counts). */
  readonly refundsInFull?: boolean | undefined;
}

export interface UsageCellKey extends UsageDimensions {
  /** ISO date, UTC. */
  readonly day: string;
  /** An hour cell's hour of the day (`00`..`23`); a day cell has none. */
  readonly hour?: string | undefined;
}

/** CU (net of refunds) and jobs (net of full refunds). */
export interface UsageAmounts {
  readonly cuMilli: MilliCu;
  readonly jobs: number;
}

/**
 * A day cell (every view reads these) or an hour cell (only the graph by hour does). Day cells also count outputs by
 * kind (net of full refunds), only kinds with something in them; an hour cell's `assets` is empty. Hours live in
 * cells of their own so that a day cell stays the same size however many events it holds.
 */
export interface UsageCell extends UsageCellKey, UsageAmounts {
  readonly assets: Readonly<Partial<Record<AssetKind, number>>>;
}

/** What one event adds to one cell (negative for a refund). */
export interface CellDelta extends UsageAmounts {
  readonly key: UsageCellKey;
  readonly asset: { readonly kind: AssetKind; readonly count: number } | null;
}

/** What one event adds: to its day cell (with its outputs) and to its hour cell. The live path and the bulk loader both build on this. */
export function usageDeltaOf(event: MeteredEvent): readonly [day: CellDelta, hour: CellDelta] {
  const sign = event.kind === 'consume' ? 1 : -1;
  const jobCounts = event.kind === 'consume' || event.refundsInFull === true;
  const assetCount = jobCounts && event.assetKind ? (event.assetCount ?? 0) : 0;
  const day = { day: dayOf(event.createdAt), projectId: event.projectId, userId: event.userId, modelId: event.modelId ?? null, jobType: event.jobType };
  const amounts = { cuMilli: sign * event.cuMilli, jobs: jobCounts ? sign : 0 };
  return [
    { key: day, ...amounts, asset: assetCount > 0 ? { kind: event.assetKind!, count: sign * assetCount } : null },
    { key: { ...day, hour: new Date(event.createdAt).toISOString().slice(11, 13) }, ...amounts, asset: null },
  ];
}

/**
 * The cell's identity among its month's cells: day cells under `D#<day>`, hour cells under `H#<day>#<hour>`, so a range
 * of days of either kind is one key range (the model id last, since it may hold any character).
 */
export function cellIdOf(key: UsageCellKey): string {
  const when = key.hour === undefined ? `D#${key.day}` : `H#${key.day}#${key.hour}`;
  return `${when}#${key.projectId}#${key.userId}#${key.jobType}#${key.modelId === null ? '' : `m:${key.modelId}`}`;
}

/** The cell with the delta added: what the store's atomic ADDs leave, done in memory (bulk loads, models). */
export function applyDelta(cell: UsageCell | undefined, delta: CellDelta): UsageCell {
  const base: UsageCell = cell ?? { ...delta.key, cuMilli: 0, jobs: 0, assets: {} };
  const assets = { ...base.assets };
  if (delta.asset) assets[delta.asset.kind] = (assets[delta.asset.kind] ?? 0) + delta.asset.count;
  return { ...base, cuMilli: base.cuMilli + delta.cuMilli, jobs: base.jobs + delta.jobs, assets };
}

/** Folds events into cells (day and hour cells alike), keyed by cell id. */
export function rollUp(events: Iterable<MeteredEvent>, cells = new Map<string, UsageCell>()): Map<string, UsageCell> {
  for (const event of events) {
    for (const delta of usageDeltaOf(event)) {
      const id = cellIdOf(delta.key);
      cells.set(id, applyDelta(cells.get(id), delta));
    }
  }
  return cells;
}
