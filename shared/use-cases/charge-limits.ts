// The limits that govern one actor charging in one project, built from stored records for one billing period.

import type { MilliCu } from '../domain/compute-units';
import { effectiveActorCap, projectCap, type EffectiveCap, type LimitUsage } from '../domain/limits';
import type { OrgRecord, ScopeRecord } from '../ports/ledger-store';

export interface ChargeLimits {
  /** In reporting order: team, then the actor (member or API key), then the project. */
  readonly limits: readonly LimitUsage[];
  readonly actorCap: EffectiveCap;
  readonly projectCap: EffectiveCap;
}

export function usedIn(record: { usage: Readonly<Record<string, MilliCu>> }, periodStart: string): MilliCu {
  return record.usage[periodStart] ?? 0;
}

export function chargeLimits(org: OrgRecord, project: ScopeRecord, actor: ScopeRecord, periodStart: string): ChargeLimits {
  const actorCap = effectiveActorCap(actor.capMilli, org.defaultCapMilli);
  const projectLimit = projectCap(project.capMilli);
  const actorLevel = actor.kind === 'api_key' ? 'api_key' : 'member';
  return {
    actorCap,
    projectCap: projectLimit,
    limits: [
      { level: 'team', capMilli: org.allowanceMilli, usedMilli: usedIn(org, periodStart) },
      { level: actorLevel, capMilli: actorCap.capMilli, usedMilli: usedIn(actor, periodStart) },
      { level: 'project', capMilli: projectLimit.capMilli, usedMilli: usedIn(project, periodStart) },
    ],
  };
}
