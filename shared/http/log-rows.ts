// How the API shows the org's activity log, line by line: consumes and refunds with every field, and every other
// entry by its kind. CU in decimal, plans by name and allowance. The admin log and the activity feed share these rows.

import type { PendingPlan } from '../domain/billing-terms';
import { toCu, type MilliCu } from '../domain/compute-units';
import type { SettingChanges } from '../domain/setting-changes';
import { isMeterEvent, type ActivityRecord, type LogEntry, type MeterEventRecord } from '../ports/ledger-records';
import { drawRow, returnRow } from './pool-rows';

export const cuOrNull = (milli: MilliCu | null): number | null => (milli === null ? null : toCu(milli));

export const planRow = (plan: { planName: string; allowanceMilli: MilliCu }) => ({ name: plan.planName, allowanceCu: toCu(plan.allowanceMilli) });

export const pendingView = (pending: PendingPlan | null) =>
  pending === null ? null : { name: pending.planName, allowanceCu: toCu(pending.allowanceMilli), effectiveAt: pending.effectiveAt };

function eventRow(event: MeterEventRecord) {
  const { fingerprint: _fingerprint, attemptId: _attemptId, periodId, cuMilli, refundedMilli, availableAfterMilli: _available, draws, returns, ...rest } = event;
  return {
    ...rest,
    periodStart: periodId,
    cu: toCu(cuMilli),
    ...(event.kind === 'consume' ? { refundedCu: toCu(refundedMilli ?? 0), draws: draws.map(drawRow) } : { returns: (returns ?? []).map(returnRow) }),
  };
}

/** The settings a change touched, each before and after; a cap in decimal CU (`capCu`). */
function changesRow(changes: SettingChanges) {
  const { capMilli, ...rest } = changes;
  return { ...rest, ...(capMilli ? { capCu: { before: cuOrNull(capMilli.before), after: cuOrNull(capMilli.after) } } : {}) };
}

/** Any entry besides consumes and refunds, as the activity log shows it. */
function activityRow(entry: ActivityRecord) {
  const common = { kind: entry.kind, entryId: entry.entryId, orgId: entry.orgId, createdAt: entry.createdAt, actor: entry.actor };
  switch (entry.kind) {
    case 'org_provisioned':
      return { ...common, plan: planRow(entry.after), billingAnchor: entry.after.billingAnchor };
    case 'plan_upgraded':
      return { ...common, plan: planRow(entry.plan), previousPlan: planRow(entry.before), periodStart: entry.periodId, cancelledDowngrade: pendingView(entry.cancelledDowngrade) };
    case 'plan_downgrade_scheduled':
      return { ...common, plan: planRow(entry.plan), previousPlan: planRow(entry.before), effectiveAt: entry.effectiveAt };
    case 'plan_downgrade_cancelled':
      return { ...common, plan: planRow(entry.plan), cancelledDowngrade: pendingView(entry.cancelledDowngrade) };
    case 'period_reset':
      return { ...common, periodStart: entry.periodId, previousPeriodStart: entry.previousPeriodId, plan: planRow(entry.plan), downgradeApplied: entry.downgradeApplied };
    case 'top_up_purchased':
      return { ...common, purchaseId: entry.purchaseId, source: entry.source, cu: toCu(entry.cuMilli), expiresAt: entry.expiresAt };
    case 'top_up_expired':
      return { ...common, purchaseId: entry.purchaseId, cu: toCu(entry.cuMilli), unspentCu: toCu(entry.unspentMilli), expiresAt: entry.expiresAt };
    case 'default_limit_set':
    case 'default_limit_removed':
      return { ...common, capCu: cuOrNull(entry.capMilli), previousCapCu: cuOrNull(entry.previousCapMilli) };
    case 'platform_action':
      return { ...common, action: entry.action, eventId: entry.eventId, userId: entry.userId, projectId: entry.projectId, subject: entry.subject };
    default:
      return { ...common, scopeId: entry.scopeId, projectId: entry.projectId, changes: changesRow(entry.changes) };
  }
}

/** One line of the activity log as the admin route lists it. */
export const logRow = (entry: LogEntry) => (isMeterEvent(entry) ? eventRow(entry) : activityRow(entry));
