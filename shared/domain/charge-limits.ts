// The limits that govern one actor charging in one project, for one billing period, named: the team pool, the
// actor's cap (member or API key) and the project's cap. Pure: worked out from records already read.

import type { BillingTerms, Period } from './billing-terms';
import type { MilliCu } from './compute-units';
import { capFor, type EffectiveCap, type LimitUsage, type ScopeKind } from './limits';
import { poolRemaining, poolSources, type PoolSource, type TopUpBatch } from './pool';

/** Usage per billing period, keyed by the period's id (its first instant). A period nobody charged in: zero. */
export type PeriodUsage = Readonly<Record<string, MilliCu>>;

export interface CapHolder {
  readonly kind: ScopeKind;
  readonly capMilli: MilliCu | null;
  readonly usage: PeriodUsage;
}

export interface ChargeLimits {
  /** The team pool: capMilli and usedMilli are the allowance's; the headroom counts the live top-ups too. */
  readonly team: LimitUsage;
  /** The pool's sources in draw order, for the charge's draw plan. */
  readonly pool: readonly PoolSource[];
  readonly actor: LimitUsage;
  readonly project: LimitUsage;
  /** The order a refusal is reported in: team, then the actor, then the project. */
  readonly inReportingOrder: readonly LimitUsage[];
  readonly actorCap: EffectiveCap;
  readonly projectCap: EffectiveCap;
}

export function usedIn(record: { readonly usage: PeriodUsage }, period: Period): MilliCu {
  return record.usage[period.id] ?? 0;
}

export interface PoolHolder {
  readonly defaultCapMilli: MilliCu | null;
  readonly usage: PeriodUsage;
  readonly topUps: readonly TopUpBatch[];
}

/** The pool at `at` under `terms`: the period's allowance and the live batches, in draw order. */
export function poolAt(terms: BillingTerms, org: PoolHolder, at: Date): PoolSource[] {
  return poolSources({ capMilli: terms.allowanceMilli, usedMilli: usedIn(org, terms.period) }, terms.period, org.topUps, at);
}

export function chargeLimits(terms: BillingTerms, org: PoolHolder, project: CapHolder, actor: CapHolder, at: Date): ChargeLimits {
  const actorCap = capFor(actor, org);
  const projectCap = capFor(project, org);
  const pool = poolAt(terms, org, at);
  const team: LimitUsage = { level: 'team', capMilli: terms.allowanceMilli, usedMilli: usedIn(org, terms.period), headroomMilli: poolRemaining(pool) };
  const actorLimit: LimitUsage = { level: actor.kind === 'api_key' ? 'api_key' : 'member', capMilli: actorCap.capMilli, usedMilli: usedIn(actor, terms.period) };
  const projectLimit: LimitUsage = { level: 'project', capMilli: projectCap.capMilli, usedMilli: usedIn(project, terms.period) };
  return { team, pool, actor: actorLimit, project: projectLimit, inReportingOrder: [team, actorLimit, projectLimit], actorCap, projectCap };
}
