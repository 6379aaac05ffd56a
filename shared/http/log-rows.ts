// How the API shows the org's activity log, line by line: consumes and refunds with every field, and every other
// entry by its kind. CU in decimal, plans by name and allowance. The admin log and the activity feed share these rows.

import type { PendingPlan } from '../domain/billing-terms';
import { toCu, type MilliCu } from '../domain/compute-units';
import type { SettingChange, SettingChanges } from '../domain/setting-changes';
import { isMeterEvent, logConcerns, scopeChangeOf, type ActivityRecord, type LogEntry, type MeterEventRecord, type ScopeKind } from '../ports/ledger-records';
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
    case 'analytics_key_created':
    case 'analytics_key_rotated':
    case 'analytics_key_revoked':
      return { ...common, keyId: entry.keyId, name: entry.name, ...(entry.kind === 'analytics_key_rotated' ? { graceEndsAt: entry.graceEndsAt } : {}) };
    case 'analytics_key_auth_failed':
      return { ...common, keyId: entry.keyId, windowStart: entry.windowStart, failures: entry.failures };
    default:
      return { ...common, scopeId: entry.scopeId, projectId: entry.projectId, changes: changesRow(entry.changes) };
  }
}

/** One line of the activity log as the admin route lists it. */
export const logRow = (entry: LogEntry) => (isMeterEvent(entry) ? eventRow(entry) : activityRow(entry));

/** What the feed row says besides its own fields: the log row without what the feed row holds already. */
const HOISTED = ['kind', 'entryId', 'eventId', 'orgId', 'createdAt', 'actor', 'actorKind', 'projectId', 'userId', 'action'] as const;

/**
 * One line of the activity feed: `id`, `at`, `kind` (a platform action by its own name), the person it is about or who
 * acted, who made it, its project, a one-line summary, and the rest of the line as the admin log shows it.
 */
export function feedRow(entry: LogEntry) {
  const concerns = logConcerns(entry);
  const row: Record<string, unknown> = { ...logRow(entry) };
  // A platform action's eventId is the platform's own id for it: a detail, not the row's id.
  const hoisted = entry.kind === 'platform_action' ? HOISTED.filter((field) => field !== 'eventId') : HOISTED;
  for (const field of hoisted) delete row[field];
  if (isMeterEvent(entry)) {
    return { id: entry.eventId, at: entry.createdAt, kind: entry.kind, userId: entry.userId, actor: { kind: entry.actorKind, id: entry.userId }, projectId: entry.projectId, summary: summaryOf(entry), details: row };
  }
  return {
    id: entry.entryId,
    at: entry.createdAt,
    kind: entry.kind === 'platform_action' ? entry.action : entry.kind,
    userId: concerns.userId ?? entry.actor.actingUserId ?? null,
    actor: entry.actor,
    projectId: concerns.projectId,
    summary: summaryOf(entry),
    details: row,
  };
}

const cu = (milli: MilliCu | null) => (milli === null ? 'none' : `${toCu(milli)} CU`);
const plan = (terms: { planName: string; allowanceMilli: MilliCu }) => `${terms.planName} (${cu(terms.allowanceMilli)})`;

const SCOPE_NOUN: Record<ScopeKind, string> = { project: 'Project', member: 'Member', api_key: 'API key' };
const SETTING_NOUN: Record<keyof SettingChanges, string> = { name: 'name', capMilli: 'cap', role: 'role', adminOfProjectIds: 'admin of', projectId: 'project' };

function settingText(setting: keyof SettingChanges, value: unknown): string {
  if (setting === 'capMilli') return cu(value as MilliCu | null);
  if (Array.isArray(value)) return value.length ? value.join(', ') : 'none';
  return value === null ? 'none' : String(value);
}

/** `cap 40 CU → none, role viewer → project_admin`; for a new scope only what it was given: `cap 40 CU`. */
function changesText(changes: SettingChanges, created: boolean): string {
  return (Object.entries(changes) as [keyof SettingChanges, SettingChange<unknown>][])
    .map(([setting, { before, after }]) => `${SETTING_NOUN[setting]} ${created ? '' : `${settingText(setting, before)} → `}${settingText(setting, after)}`)
    .join(', ');
}

/** A line of plain English for the feed. */
export function summaryOf(entry: LogEntry): string {
  switch (entry.kind) {
    case 'consume':
      return `${entry.userId} used ${cu(entry.cuMilli)} on ${entry.jobType}${entry.modelName ? ` (${entry.modelName})` : ''} in ${entry.projectId}`;
    case 'refund':
      return `${cu(entry.cuMilli)} refunded to ${entry.userId} for ${entry.refundOf ?? 'a job'} in ${entry.projectId}`;
    case 'org_provisioned':
      return `Org provisioned on plan ${plan(entry.after)}`;
    case 'plan_upgraded':
      return `Plan upgraded from ${plan(entry.before)} to ${plan(entry.plan)}`;
    case 'plan_downgrade_scheduled':
      return `Downgrade to ${plan(entry.plan)} scheduled for ${entry.effectiveAt}`;
    case 'plan_downgrade_cancelled':
      return `Downgrade to ${plan(entry.cancelledDowngrade)} cancelled`;
    case 'period_reset':
      return `Billing period reset on plan ${plan(entry.plan)}${entry.downgradeApplied ? ' (downgrade applied)' : ''}`;
    case 'top_up_purchased':
      return `${entry.source === 'auto_refill' ? 'Auto-refill bought' : 'Top-up bought:'} ${cu(entry.cuMilli)} (${entry.purchaseId})`;
    case 'top_up_expired':
      return `Top-up ${entry.purchaseId} expired with ${cu(entry.unspentMilli)} unspent`;
    case 'default_limit_set':
      return `Default limit set to ${cu(entry.capMilli)} (was ${cu(entry.previousCapMilli)})`;
    case 'default_limit_removed':
      return `Default limit removed (was ${cu(entry.previousCapMilli)})`;
    case 'platform_action':
      return `${entry.userId}: ${entry.action}${entry.subject === null ? '' : ` ${entry.subject}`}`;
    case 'analytics_key_created':
      return `Analytics key ${entry.name} (${entry.keyId}) created`;
    case 'analytics_key_rotated':
      return `Analytics key ${entry.name} (${entry.keyId}) rotated: ${entry.graceEndsAt === null ? 'the old secret stopped at once' : `the old secret works until ${entry.graceEndsAt}`}`;
    case 'analytics_key_revoked':
      return `Analytics key ${entry.name} (${entry.keyId}) revoked`;
    case 'analytics_key_auth_failed':
      return `${entry.failures === 1 ? 'A secret was' : `${entry.failures} secrets were`} refused for analytics key ${entry.keyId} (wrong, past its grace, or the key revoked) in the minute from ${entry.windowStart}`;
    default: {
      const { scope, created } = scopeChangeOf(entry.kind);
      const changes = changesText(entry.changes, created);
      return `${SCOPE_NOUN[scope]} ${entry.scopeId} ${created ? (scope === 'member' ? 'added' : 'created') : 'changed'}${changes ? `: ${changes}` : ''}`;
    }
  }
}
