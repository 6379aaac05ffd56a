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
}

/** CU (net of refunds) and jobs (net of full refunds). */
export interface UsageAmounts {
  readonly cuMilli: MilliCu;
  readonly jobs: number;
}

export interface UsageCell extends UsageCellKey, UsageAmounts {
  /** By hour of the day (`00`..`23`), only hours with something in them. */
  readonly hours: Readonly<Record<string, UsageAmounts>>;
  /** Outputs by kind (net of full refunds), only kinds with something in them. */
  readonly assets: Readonly<Partial<Record<AssetKind, number>>>;
}

/** What one event adds to its cell (negative for a refund). */
export interface UsageDelta extends UsageAmounts {
  readonly cell: UsageCellKey;
  /** Hour of the day, `00`..`23`. */
  readonly hour: string;
  readonly asset: { readonly kind: AssetKind; readonly count: number } | null;
}

/** The event's contribution to the rollup: the live path (stream) and the bulk loader both build on this. */
export function usageDeltaOf(event: MeteredEvent): UsageDelta {
  const sign = event.kind === 'consume' ? 1 : -1;
  const jobCounts = event.kind === 'consume' || event.refundsInFull === true;
  const assetCount = jobCounts && event.assetKind ? (event.assetCount ?? 0) : 0;
  return {
    cell: { day: dayOf(event.createdAt), projectId: event.projectId, userId: event.userId, modelId: event.modelId ?? null, jobType: event.jobType },
    hour: new Date(event.createdAt).toISOString().slice(11, 13),
    cuMilli: sign * event.cuMilli,
    jobs: jobCounts ? sign : 0,
    asset: assetCount > 0 ? { kind: event.assetKind!, count: sign * assetCount } : null,
  };
}

/** The cell's identity among its day's cells (the model id last, since it may hold any character). */
export function cellIdOf(key: UsageCellKey): string {
  return `${key.day}#${key.projectId}#${key.userId}#${key.jobType}#${key.modelId === null ? '' : `m:${key.modelId}`}`;
}

/** The cell with the delta added: what the store's atomic ADDs leave, done in memory (bulk loads, models). */
export function applyDelta(cell: UsageCell | undefined, delta: UsageDelta): UsageCell {
  const base: UsageCell = cell ?? { ...delta.cell, cuMilli: 0, jobs: 0, hours: {}, assets: {} };
  const hour = base.hours[delta.hour] ?? { cuMilli: 0, jobs: 0 };
  const assets = { ...base.assets };
  if (delta.asset) assets[delta.asset.kind] = (assets[delta.asset.kind] ?? 0) + delta.asset.count;
  return {
    ...base,
    cuMilli: base.cuMilli + delta.cuMilli,
    jobs: base.jobs + delta.jobs,
    hours: { ...base.hours, [delta.hour]: { cuMilli: hour.cuMilli + delta.cuMilli, jobs: hour.jobs + delta.jobs } },
    assets,
  };
}

/** Folds events into cells, keyed by cell id. */
export function rollUp(events: Iterable<MeteredEvent>, cells = new Map<string, UsageCell>()): Map<string, UsageCell> {
  for (const event of events) {
    const delta = usageDeltaOf(event);
    const id = cellIdOf(delta.cell);
    cells.set(id, applyDelta(cells.get(id), delta));
  }
  return cells;
}
