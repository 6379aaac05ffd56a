// Plans, top-ups and auto-refill settings, managed by the platform's backend: provisioning an org, upgrading or
// downgrading its plan, buying top-up CU, and the auto-refill settings. Every write that changes what a consume
// evaluates bumps the org's config version, so the very next consume sees it.

import type { AutoRefillSettings } from '../domain/auto-refill';
import { downgradedTerms, settledTerms, termsAt, upgradedTerms, type OrgTermsSource, type Plan, type PlanChangeKind } from '../domain/billing-terms';
import type { MilliCu } from '../domain/compute-units';
import { idempotencyKeyReused, invalidField, orgNotFound, planChangeRequired, topUpLimitReached } from '../domain/errors';
import { monthlyExportDue } from '../domain/finance-export';
import { requestFingerprint } from '../domain/fingerprint';
import { liveBatchCount, MAX_LIVE_TOP_UPS, type TopUpBatch } from '../domain/pool';
import type { AdminStore, OrgSettings } from '../ports/admin-store';
import type { JobStore } from '../ports/job-store';
import { SERVICE_ACTOR, termsSourceOf, type ActingRequest, type ActivityRecord, type OrgRecord } from '../ports/ledger-records';
import type { Clock, IdGenerator } from '../ports/runtime';
import { dueReset, rollOrgPeriod } from './jobs';
import { readOrg } from './usage-views';
import { AGAIN, retryRounds, withStoreRetries } from './store-retry';

export interface BillingDependencies {
  readonly store: AdminStore & JobStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

const YEAR_MS = 365.25 * 86_400_000;
/** A top-up may expire at most this far ahead. */
export const MAX_TOP_UP_YEARS = 5;

/**
 * Creates the org with its plan and anchor, or changes its name and high-cost threshold. After provisioning the plan
 * and anchor change only through `changePlan`: either would restart counters and let usage past the caps.
 */
export async function provisionOrg(settings: OrgSettings & ActingRequest, deps: BillingDependencies): Promise<OrgRecord> {
  return retryRounds(async () => {
    const now = deps.clock.now();
    const existing = await withStoreRetries(() => deps.store.getOrg(settings.orgId));
    if (!existing) {
      const { planName, allowanceMilli, billingAnchor } = settings;
      const source: OrgTermsSource = { planName, allowanceMilli, billingAnchor, periodStartedAt: null, pendingPlan: null, highCostMilli: settings.highCostMilli ?? null };
      const firstReset = termsAt(source, now).period.resetsAt.toISOString();
      const entry = { orgId: settings.orgId, entryId: deps.ids.eventId(), createdAt: now.toISOString(), actor: settings.actor ?? SERVICE_ACTOR, kind: 'org_provisioned' as const, after: source, configVersion: 1 };
      const created = await withStoreRetries(() => deps.store.createOrg(settings, entry, { reset: firstReset, monthlyExport: monthlyExportDue(settings.orgId, now) }));
      return created ?? AGAIN;
    }
    if (existing.planName !== settings.planName || existing.allowanceMilli !== settings.allowanceMilli) throw planChangeRequired('plan', settings.orgId);
    if (existing.billingAnchor !== settings.billingAnchor) throw planChangeRequired('billingAnchor', settings.orgId);
    const updated = await withStoreRetries(() => deps.store.updateOrgDetails(settings.orgId, { name: settings.name, highCostMilli: settings.highCostMilli }, now.toISOString()));
    if (!updated) throw orgNotFound(settings.orgId);
    return updated;
  });
}

export interface PlanChangeRequest extends Plan, ActingRequest {
  readonly orgId: string;
  readonly change: PlanChangeKind;
}

/**
 * Steps:
 * 1. Read the org and its terms now (after rolling over a reset that is due and not handled yet). An upgrade must raise the allowance in force, a downgrade must not raise it.
 * 2. The same change again changes nothing (an upgrade to the plan in force, a downgrade to the plan already
 *    pending): a retried PUT must not restart the period a second time. An upgrade to the plan in force while a
 *    downgrade is pending cancels the downgrade and keeps the period: it must not hand out a fresh allowance.
 * 3. Write the new terms and the log entry, conditioned on the config version read in step 1.
 */
export async function changePlan(request: PlanChangeRequest, deps: BillingDependencies): Promise<OrgRecord> {
  return retryRounds(async () => {
    const now = deps.clock.now();
    const org = await rolledOver(request.orgId, now, deps);
    const terms = termsAt(org, now);
    const plan: Plan = { planName: request.planName, allowanceMilli: request.allowanceMilli };
    const inForce = plan.planName === terms.planName && plan.allowanceMilli === terms.allowanceMilli;
    if (request.change === 'upgrade' && !inForce && plan.allowanceMilli <= terms.allowanceMilli) {
      throw invalidField('allowanceCu', `An upgrade must raise the allowance (today ${terms.allowanceMilli / 1000} CU); use "change": "downgrade".`);
    }
    if (request.change === 'downgrade' && plan.allowanceMilli > terms.allowanceMilli) {
      throw invalidField('allowanceCu', `A downgrade may not raise the allowance (today ${terms.allowanceMilli / 1000} CU); use "change": "upgrade".`);
    }
    if (alreadyChanged(terms, plan, request.change)) return org;

    // A downgrade whose reset has passed is in force even if the rollover has not written it in yet: build on that.
    const before = settledTerms(termsSourceOf(org), now);
    const base = { orgId: org.orgId, entryId: deps.ids.eventId(), createdAt: now.toISOString(), actor: request.actor ?? SERVICE_ACTOR, configVersion: org.configVersion + 1 };
    let entry: ActivityRecord & { kind: 'plan_upgraded' | 'plan_downgrade_scheduled' | 'plan_downgrade_cancelled' };
    let after: OrgTermsSource;
    if (request.change === 'upgrade' && inForce) {
      after = { ...before, pendingPlan: null };
      entry = { ...base, kind: 'plan_downgrade_cancelled', before, after, plan, cancelledDowngrade: terms.pendingPlan! };
    } else if (request.change === 'upgrade') {
      after = upgradedTerms(before, plan, now);
      entry = { ...base, kind: 'plan_upgraded', before, after, plan, periodId: termsAt(after, now).period.id, cancelledDowngrade: terms.pendingPlan };
    } else {
      after = downgradedTerms(before, plan, now);
      entry = { ...base, kind: 'plan_downgrade_scheduled', before, after, plan, effectiveAt: after.pendingPlan!.effectiveAt };
    }
    const nextReset = entry.kind === 'plan_upgraded' ? termsAt(after, now).period.resetsAt.toISOString() : null;
    const outcome = await withStoreRetries(() => deps.store.changePlan({ orgId: org.orgId, expectedConfigVersion: org.configVersion, after, entry, nextReset }, now.toISOString()));
    if (outcome === 'stale') return AGAIN;
    return { ...org, ...after, configVersion: org.configVersion + 1 };
  });
}

/** Most resets a plan change rolls over first (ten years of missed jobs); beyond that it leaves them to the job. */
const MAX_RESETS_ROLLED_BY_A_CHANGE = 120;

/**
 * The org once every reset due by `now` is rolled over (the job's own work, done here if the job has not yet): a
 * plan change must land on an org item that still describes the time before each of those resets.
 */
async function rolledOver(orgId: string, now: Date, deps: BillingDependencies): Promise<OrgRecord> {
  for (let rolled = 0; ; rolled += 1) {
    const org = await withStoreRetries(() => deps.store.getOrg(orgId));
    if (!org) throw orgNotFound(orgId);
    const due = dueReset(org, now);
    if (!due || rolled >= MAX_RESETS_ROLLED_BY_A_CHANGE || (await rollOrgPeriod(due, deps)) === 'left') return org;
  }
}

/** An upgrade to the plan in force with nothing pending, or a downgrade to the plan already pending. */
function alreadyChanged(terms: ReturnType<typeof termsAt>, plan: Plan, change: PlanChangeKind): boolean {
  const same = (a: Plan | null) => a !== null && a.planName === plan.planName && a.allowanceMilli === plan.allowanceMilli;
  return change === 'upgrade' ? same(terms) && terms.pendingPlan === null : same(terms.pendingPlan);
}


export interface TopUpRequest extends ActingRequest {
  readonly orgId: string;
  readonly purchaseId: string;
  readonly cuMilli: MilliCu;
  readonly expiresAt: string;
}

export interface TopUpResult {
  readonly batch: TopUpBatch;
  readonly replayed: boolean;
}

/**
 * Adds a batch of top-up CU. `purchaseId` makes it idempotent: the same id and body add one batch, the same id
 * with another body is refused. The batch expires at its own `expiresAt` (after now, within five years).
 */
export async function addTopUp(request: TopUpRequest, deps: BillingDependencies): Promise<TopUpResult> {
  const now = deps.clock.now();
  const expiresAt = new Date(request.expiresAt);
  if (expiresAt.getTime() <= now.getTime()) throw invalidField('expiresAt', 'must be in the future');
  if (expiresAt.getTime() > now.getTime() + MAX_TOP_UP_YEARS * YEAR_MS) throw invalidField('expiresAt', `must be at most ${MAX_TOP_UP_YEARS} years ahead`);
  const fingerprint = requestFingerprint('top_up', { cuMilli: request.cuMilli, expiresAt: expiresAt.toISOString() });
  // A soft cap (two purchases at once may pass it by one): the org item holds every live batch.
  const org = await readOrg(request.orgId, deps);
  const isReplay = org.topUps.some((batch) => batch.purchaseId === request.purchaseId);
  if (!isReplay && liveBatchCount(org.topUps, now) >= MAX_LIVE_TOP_UPS) throw topUpLimitReached(MAX_LIVE_TOP_UPS);
  const batch: TopUpBatch = { purchaseId: request.purchaseId, source: 'purchase', cuMilli: request.cuMilli, usedMilli: 0, purchasedAt: now.toISOString(), expiresAt: expiresAt.toISOString() };
  const entry = {
    orgId: request.orgId,
    entryId: deps.ids.eventId(),
    createdAt: now.toISOString(),
    actor: request.actor ?? SERVICE_ACTOR,
    kind: 'top_up_purchased' as const,
    purchaseId: request.purchaseId,
    source: 'purchase' as const,
    cuMilli: request.cuMilli,
    expiresAt: batch.expiresAt,
    fingerprint,
  };
  const outcome = await withStoreRetries(() => deps.store.addTopUp({ orgId: request.orgId, batch, entry }, now.toISOString()));
  if (outcome.status === 'org_missing') throw orgNotFound(request.orgId);
  if (outcome.status === 'added') return { batch, replayed: false };
  const existing = outcome.existing;
  if (existing.kind !== 'top_up_purchased' || existing.fingerprint !== fingerprint) throw idempotencyKeyReused('purchaseId');
  return {
    batch: { purchaseId: existing.purchaseId, source: existing.source, cuMilli: existing.cuMilli, usedMilli: 0, purchasedAt: existing.createdAt, expiresAt: existing.expiresAt },
    replayed: true,
  };
}

/** Sets the org's auto-refill settings; the rules on their values are checked here, their shape at the edge. */
export async function setAutoRefill(orgId: string, settings: AutoRefillSettings, deps: BillingDependencies): Promise<OrgRecord> {
  if (settings.enabled && settings.maxPerPeriod === 0) throw invalidField('maxPerPeriod', 'must be at least 1 while auto-refill is enabled');
  const org = await withStoreRetries(() => deps.store.setAutoRefill(orgId, settings, deps.clock.now().toISOString()));
  if (!org) throw orgNotFound(orgId);
  return org;
}
