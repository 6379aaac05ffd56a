// The rows and bodies usage data is handed out in, in CU: the events table's row (seed 002), the Analytics API's
// summary body (seed 003) and a breakdown row. The routes, the CSV export and the finance exports share them, so a
// file in S3 says exactly what the API says.

import { toCu } from './compute-units';
import type { BreakdownGroup, UsageSummary } from './usage-analytics';
import { signedAmount, type TableEvent } from './usage-events';

/** What an events-table row shows of a logged consume or refund. */
export interface EventRowSource extends TableEvent {
  readonly requestId: string;
  readonly endpoint?: string | undefined;
  readonly modelName?: string | undefined;
  readonly refundOf?: string | undefined;
}

/** The events table's columns, in the seed's order first. */
export const EVENT_COLUMNS = [
  'createdAt',
  'userId',
  'amount',
  'resourceType',
  'poolCategory',
  'ioType',
  'requestId',
  'endpoint',
  'projectId',
  'jobType',
  'modelName',
  'modelId',
  'kind',
  'refundOf',
  'eventId',
] as const;

/** A row of the events table (seed 002): a refund is its own row, with a negative amount and the consume it reverses. */
export function eventTableRow(event: EventRowSource) {
  return {
    eventId: event.eventId,
    createdAt: event.createdAt,
    kind: event.kind,
    userId: event.userId,
    amount: toCu(signedAmount(event)),
    resourceType: event.resourceType ?? null,
    poolCategory: event.poolCategory,
    ioType: event.ioType ?? null,
    requestId: event.requestId,
    endpoint: event.endpoint ?? null,
    projectId: event.projectId,
    jobType: event.jobType,
    modelId: event.modelId ?? null,
    modelName: event.modelName ?? event.modelId ?? null,
    ...(event.refundOf === undefined ? {} : { refundOf: event.refundOf }),
  };
}

/** `GET /v1/usage`'s body: the Analytics API's shape. */
export function usageSummaryBody(summary: UsageSummary) {
  return {
    totals: { totalCU: toCu(summary.totals.cuMilli), users: summary.totals.users, startDate: summary.totals.startDate, endDate: summary.totals.endDate },
    consumption: summary.consumption.map((user) => ({ userId: user.userId, value: toCu(user.cuMilli), total: toCu(user.cuMilli) })),
    modelUsages: summary.modelUsages.map((model) => ({
      modelName: model.modelName,
      totalCU: toCu(model.cuMilli),
      totalJobs: model.jobs,
      totalApiKeyCU: toCu(model.apiKeyCuMilli),
    })),
    assetUsages: summary.assetUsages.map((asset) => ({ kind: asset.kind, total: asset.total, totalApiKey: asset.totalApiKey })),
  };
}

export function breakdownRow(group: BreakdownGroup) {
  return { ...group.key, cu: toCu(group.cuMilli), jobs: group.jobs };
}
