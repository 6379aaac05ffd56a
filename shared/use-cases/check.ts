// A dry run of a consume: would this actor's job of `cu` fit right now, and is it "High cost"? Changes nothing.

import { toCu, type MilliCu } from '../domain/compute-units';
import { termsAt } from '../domain/billing-terms';
import { chargeLimits } from '../domain/charge-limits';
import { actorKindOf, evaluateCharge, limitCode, type CapLevel } from '../domain/limits';
import type { MeterStore } from '../ports/meter-store';
import type { Clock } from '../ports/runtime';
import { chargesOutsideKeyProject } from '../domain/api-key-project';
import { apiKeyProjectMismatch, orgNotFound } from '../domain/errors';
import { withStoreRetries } from './store-retry';

export interface CheckRequest {
  readonly orgId: string;
  readonly projectId: string;
  readonly userId: string;
  readonly cuMilli: MilliCu;
}

export interface CheckResult {
  readonly allowed: boolean;
  readonly blockedBy?: { code: string; level: CapLevel; capCu: number; usedCu: number };
  readonly availableMilli: MilliCu | null;
  readonly highCost: boolean;
}

/**
 * Steps:
 * 1. Read the org, project and actor records (strongly consistent: a check must not answer from a stale cache).
 * 2. Refuse an API key outside its project with the 403 a consume would answer, before any limit.
 * 3. Evaluate the limits for the current period exactly as a consume would, and compare with the high-cost threshold.
 */
export async function check(request: CheckRequest, deps: { store: MeterStore; clock: Clock }): Promise<CheckResult> {
  const actor = { kind: actorKindOf(request.userId), id: request.userId };
  const snapshot = await withStoreRetries(() => deps.store.loadSnapshot(request.orgId, request.projectId, actor, null));
  if (!snapshot.org) throw orgNotFound(request.orgId);
  if (chargesOutsideKeyProject(snapshot.actor, request.projectId)) throw apiKeyProjectMismatch(request.userId, snapshot.actor.projectId);
  const terms = termsAt(snapshot.org, deps.clock.now());
  const { inReportingOrder } = chargeLimits(terms, snapshot.org, snapshot.project, snapshot.actor, deps.clock.now());
  const decision = evaluateCharge(inReportingOrder, request.cuMilli);
  const highCost = request.cuMilli >= terms.highCostMilli;
  if (decision.allowed) return { allowed: true, availableMilli: decision.availableMilli, highCost };
  const { level, capMilli, usedMilli } = decision.blockedBy;
  return {
    allowed: false,
    blockedBy: { code: limitCode(level), level, capCu: toCu(capMilli ?? 0), usedCu: toCu(usedMilli) },
    availableMilli: decision.availableMilli,
    highCost,
  };
}
