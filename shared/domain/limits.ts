// The four limits a charge must fit under, per billing period: the team pool, the project cap and the actor's cap
// (a member's or an API key's, falling back to the org's default limit). Caps only restrict; they never grant.

import type { MilliCu } from './compute-units';
import type { LimitCode } from './errors';

export type CapLevel = 'team' | 'project' | 'member' | 'api_key';
export type ActorKind = 'member' | 'api_key';
/** What can carry a cap of its own: a project, or an actor (member or API key). */
export type ScopeKind = 'project' | ActorKind;
export type CapSource = 'individual' | 'default' | 'none';
export type UsageStatus = 'ok' | 'warning' | 'reached';

export const API_KEY_ACTOR_PREFIX = 'apiu_';
export const WARNING_RATIO = 0.8;

/** An actor id that starts with `apiu_` is an API key, anything else a human member. */
export function actorKindOf(actorId: string): ActorKind {
  return actorId.startsWith(API_KEY_ACTOR_PREFIX) ? 'api_key' : 'member';
}

export interface EffectiveCap {
  readonly capMilli: MilliCu | null;
  readonly capSource: CapSource;
}

/**
 * The cap in force for a project, member or API key: its own; for members and API keys without one, the org's
 * default limit (live: changing the default changes all of them); otherwise none. Projects have no default.
 */
export function capFor(scope: { readonly kind: ScopeKind; readonly capMilli: MilliCu | null }, org: { readonly defaultCapMilli: MilliCu | null }): EffectiveCap {
  return effectiveActorCap(scope.capMilli, scope.kind === 'project' ? null : org.defaultCapMilli);
}

/** Own cap first, then the default, then none. */
export function effectiveActorCap(ownCapMilli: MilliCu | null, defaultCapMilli: MilliCu | null): EffectiveCap {
  if (ownCapMilli !== null) return { capMilli: ownCapMilli, capSource: 'individual' };
  if (defaultCapMilli !== null) return { capMilli: defaultCapMilli, capSource: 'default' };
  return { capMilli: null, capSource: 'none' };
}

/** The usage bar: amber from 80 % of the cap, red at 100 %; no cap, no bar. */
export function usageStatus(usedMilli: MilliCu, capMilli: MilliCu | null): UsageStatus {
  if (capMilli === null) return 'ok';
  if (usedMilli >= capMilli) return 'reached';
  if (usedMilli >= capMilli * WARNING_RATIO) return 'warning';
  return 'ok';
}

export interface LimitUsage {
  readonly level: CapLevel;
  /** null: this level sets no limit. */
  readonly capMilli: MilliCu | null;
  readonly usedMilli: MilliCu;
  /** What is left under this limit when it is more than cap minus used: the team pool, with its top-ups. */
  readonly headroomMilli?: MilliCu;
}

/** What a charge may still take under `limit`; null when it sets no limit. */
export function headroomOf(limit: LimitUsage): MilliCu | null {
  if (limit.capMilli === null) return null;
  return limit.headroomMilli ?? Math.max(0, limit.capMilli - limit.usedMilli);
}

export type ChargeDecision =
  | { readonly allowed: true; readonly availableMilli: MilliCu | null }
  | { readonly allowed: false; readonly blockedBy: LimitUsage; readonly availableMilli: MilliCu };

/**
 * Whether `cuMilli` fits under every limit. `limits` is in reporting order (team, member or api_key, project):
 * the first limit that would be passed is the one named. `availableMilli` is the smallest headroom before the
 * charge (null when nothing limits the actor, which cannot happen while the team pool is among the limits).
 */
export function evaluateCharge(limits: readonly LimitUsage[], cuMilli: MilliCu): ChargeDecision {
  let availableMilli: MilliCu | null = null;
  let blockedBy: LimitUsage | undefined;
  for (const limit of limits) {
    const headroom = headroomOf(limit);
    if (headroom === null) continue;
    availableMilli = availableMilli === null ? headroom : Math.min(availableMilli, headroom);
    if (blockedBy === undefined && cuMilli > headroom) blockedBy = limit;
  }
  if (blockedBy) return { allowed: false, blockedBy, availableMilli: availableMilli ?? 0 };
  return { allowed: true, availableMilli };
}

const LIMIT_CODES: Record<CapLevel, LimitCode> = {
  team: 'team_balance_exhausted',
  member: 'member_cap_reached',
  project: 'project_cap_reached',
  api_key: 'api_key_cap_reached',
};

const LIMIT_ADVICE: Record<CapLevel, string> = {
  team: "The team's CU balance for this billing period is used up. A team admin can buy CU or upgrade the plan.",
  member: "This member's usage cap was reached. A team admin can raise or remove it in Members settings.",
  project: "This project's usage cap was reached. A team admin can raise or remove it in Projects settings.",
  api_key: "This API key's usage cap was reached. A team admin can raise or remove it in API keys settings.",
};

export function limitCode(level: CapLevel): LimitCode {
  return LIMIT_CODES[level];
}

export function limitMessage(level: CapLevel): string {
  return LIMIT_ADVICE[level];
}
