// The limits that govern one actor charging in one project, for one billing period, named: the team pool, the
// actor's cap (member or API key) and the project's cap. Pure: worked out from records already read.

import type { BillingTerms, Period } from './billing-terms';
import type { MilliCu } from './compute-units';
import { capFor, type EffectiveCap, type LimitUsage, type ScopeKind } from './limits';

/** Usage per billing period, keyed by the period's id (its first instant). A period nobody charged in: zero. */
export type PeriodUsage = Readonly<Record<string, MilliCu>>;

export interface CapHolder {
  readonly kind: ScopeKind;
  readonly capMilli: MilliCu | null;
  readonly usage: PeriodUsage;
}

export interface ChargeLimits {
  readonly team: LimitUsage;
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

export function chargeLimits(
  terms: BillingTerms,
  org: { readonly defaultCapMilli: MilliCu | null; readonly usage: PeriodUsage },
  project: CapHolder,
  actor: CapHolder,
): ChargeLimits {
  const actorCap = capFor(actor, org);
  const projectCap = capFor(project, org);
  const team: LimitUsage = { level: 'team', capMilli: terms.allowanceMilli, usedMilli: usedIn(org, terms.period) };
  const actorLimit: LimitUsage = { level: actor.kind === 'api_key' ? 'api_key' : 'member', capMilli: actorCap.capMilli, usedMilli: usedIn(actor, terms.period) };
  const projectLimit: LimitUsage = { level: 'project', capMilli: projectCap.capMilli, usedMilli: usedIn(project, terms.period) };
  return { team, actor: actorLimit, project: projectLimit, inReportingOrder: [team, actorLimit, projectLimit], actorCap, projectCap };
}
