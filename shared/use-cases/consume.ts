// Meter a job before it runs: charge its CU against the team pool, the actor's cap and the project's cap in one
// atomic step, or refuse it naming the limit. Idempotent per (org, requestId).

import type { MilliCu } from '../domain/compute-units';
import { chargesOutsideKeyProject } from '../domain/api-key-project';
import { apiKeyProjectMismatch, idempotencyKeyReused, limitReached, orgNotFound } from '../domain/errors';
import { requestFingerprint } from '../domain/fingerprint';
import { termsAt, type Period } from '../domain/billing-terms';
import { chargeLimits } from '../domain/charge-limits';
import { actorKindOf, evaluateCharge, type CapSource, type LimitUsage } from '../domain/limits';
import { planDraws, poolCategoryOf, recordedDraws, type Draw, type PoolCategory } from '../domain/pool';
import { counterName, type CounterRef, type JobDetails, type MeterEventRecord, type OrgRecord, type ScopeRecord, type ScopeRef } from '../ports/ledger-records';
import type { MeterStore } from '../ports/meter-store';
import type { Clock, IdGenerator } from '../ports/runtime';
import type { LimitCache } from './limit-cache';
import { AGAIN, DEFAULT_RETRY_POLICY, retryRounds, withStoreRetries, type RetryPolicy } from './store-retry';

export interface MeterDependencies {
  readonly store: MeterStore;
  readonly cache: LimitCache;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly retry?: RetryPolicy;
}

export interface ConsumeRequest extends JobDetails {
  readonly requestId: string;
  readonly orgId: string;
  readonly projectId: string;
  readonly userId: string;
  readonly cuMilli: MilliCu;
}

export interface ConsumeResult {
  readonly eventId: string;
  readonly requestId: string;
  readonly chargedMilli: MilliCu;
  readonly poolCategory: PoolCategory;
  /** Where the charge came from, in draw order. */
  readonly draws: readonly Draw[];
  /** What the same actor can still spend in the same project this period, as this process knew it. */
  readonly availableMilli: MilliCu | null;
  readonly replayed: boolean;
}

/** Which stored records a limit's verdict rests on: a 402 is only answered once those were read in this request. */
type RecordName = 'org' | 'project' | 'actor';

interface LimitState {
  org: OrgRecord;
  project: ScopeRecord;
  actor: ScopeRecord;
  fresh: Set<RecordName>;
}

/**
 * Steps:
 * 1. Take the org, project and actor limits from the cache, or read them (with any event already under requestId).
 * 2. Refuse an API key charging outside its project. Evaluate every limit for the current billing period (the
 *    team's: the pool of allowance and live top-ups), and plan the draw on the pool, soonest expiry first. A refusal
 *    based on cached state is re-read first.
 * 3. Write event, pool and counters in one transaction, conditioned on the caps, config version, pool state and API
 *    key's project evaluated in step 2.
 * 4. On a stale condition, take the current state the transaction returned and go back to 2; on a conflict or
 *    throttle, back off and retry; on an existing event, answer it again (or 409 when the body differs).
 */
export async function consume(request: ConsumeRequest, deps: MeterDependencies): Promise<ConsumeResult> {
  const policy = deps.retry ?? DEFAULT_RETRY_POLICY;
  const fingerprint = requestFingerprint('consume', { ...request });
  const attemptId = deps.ids.attemptId();
  const actorKind = actorKindOf(request.userId);
  const actorRef: ScopeRef = { kind: actorKind, id: request.userId };
  let state = cachedState(deps.cache, request.orgId, request.projectId, actorRef);

  return retryRounds(async () => {
    if (!state) {
      const snapshot = await withStoreRetries(
        () => deps.store.loadSnapshot(request.orgId, request.projectId, actorRef, request.requestId),
        policy,
      );
      if (snapshot.existingEvent) return replay(snapshot.existingEvent, fingerprint, attemptId);
      if (!snapshot.org) throw orgNotFound(request.orgId);
      state = { org: snapshot.org, project: snapshot.project, actor: snapshot.actor, fresh: new Set(['org', 'project', 'actor']) };
      remember(deps.cache, state);
    }

    if (chargesOutsideKeyProject(state.actor, request.projectId)) {
      if (state.fresh.has('actor')) throw apiKeyProjectMismatch(request.userId, state.actor.projectId);
      state = undefined;
      return AGAIN;
    }
    const now = deps.clock.now();
    const terms = termsAt(state.org, now);
    const limits = chargeLimits(terms, state.org, state.project, state.actor, now);
    const decision = evaluateCharge(limits.inReportingOrder, request.cuMilli);
    if (!decision.allowed) {
      if (recordsBehind(decision.blockedBy, limits.actorCap.capSource).every((name) => state!.fresh.has(name))) {
        throw limitReached(decision.blockedBy, request.cuMilli);
      }
      state = undefined;
      return AGAIN;
    }

    // The pool had room (the team limit's headroom is the pool's), so there is a plan.
    const draws = planDraws(limits.pool, request.cuMilli)!;
    const counters: CounterRef[] = [{ kind: 'team', id: '' }, { kind: 'project', id: request.projectId }, actorRef];
    const availableAfterMilli = decision.availableMilli === null ? null : Math.max(0, decision.availableMilli - request.cuMilli);
    const facts = { eventId: deps.ids.eventId(), now, period: terms.period, counters, draws: recordedDraws(draws), fingerprint, attemptId, availableAfterMilli };
    const event = consumeEvent(request, facts);
    const maxUsedBefore = (limit: LimitUsage) => (limit.capMilli === null ? null : limit.capMilli - request.cuMilli);
    const outcome = await deps.store.commitCharge({
      event,
      expectedConfigVersion: state.org.configVersion,
      expectedProjectCapMilli: limits.projectCap.capMilli,
      expectedActorCapMilli: state.actor.capMilli,
      draws,
      maxUsedBefore: { actor: maxUsedBefore(limits.actor), project: maxUsedBefore(limits.project) },
    });

    switch (outcome.status) {
      case 'charged':
        deps.cache.addCharge(request.orgId, counters, terms.period.id, request.cuMilli, event.draws);
        return answer(event, false);
      case 'duplicate':
        return replay(outcome.existing, fingerprint, attemptId);
      case 'rejected': {
        if (outcome.orgMissing) {
          deps.cache.forgetOrg(request.orgId);
          throw orgNotFound(request.orgId);
        }
        const fresh = new Set<RecordName>();
        if (outcome.org) fresh.add('org');
        if (outcome.project) fresh.add('project');
        if (outcome.actor) fresh.add('actor');
        state = {
          org: outcome.org ?? state.org,
          project: outcome.project ?? state.project,
          actor: outcome.actor ?? state.actor,
          fresh,
        };
        remember(deps.cache, state);
        return AGAIN;
      }
    }
  }, policy);
}

function cachedState(cache: LimitCache, orgId: string, projectId: string, actor: ScopeRef): LimitState | undefined {
  const org = cache.org(orgId);
  const project = cache.scope(orgId, 'project', projectId);
  const actorRecord = cache.scope(orgId, actor.kind, actor.id);
  if (!org || !project || !actorRecord) return undefined;
  return { org, project, actor: actorRecord, fresh: new Set() };
}

function remember(cache: LimitCache, state: LimitState): void {
  cache.rememberOrg(state.org);
  cache.rememberScope(state.org.orgId, state.project);
  cache.rememberScope(state.org.orgId, state.actor);
}

function recordsBehind(limit: LimitUsage, actorCapSource: CapSource): RecordName[] {
  if (limit.level === 'team') return ['org'];
  if (limit.level === 'project') return ['project'];
  return actorCapSource === 'default' ? ['actor', 'org'] : ['actor'];
}

interface EventFacts {
  readonly eventId: string;
  readonly now: Date;
  readonly period: Period;
  readonly counters: readonly CounterRef[];
  readonly draws: readonly Draw[];
  readonly fingerprint: string;
  readonly attemptId: string;
  readonly availableAfterMilli: MilliCu | null;
}

/** The consume's line in the activity log: the request's job, and the period and counters it moves. */
function consumeEvent(request: ConsumeRequest, facts: EventFacts): MeterEventRecord {
  return {
    kind: 'consume',
    orgId: request.orgId,
    requestId: request.requestId,
    eventId: facts.eventId,
    createdAt: facts.now.toISOString(),
    periodId: facts.period.id,
    projectId: request.projectId,
    userId: request.userId,
    actorKind: actorKindOf(request.userId),
    jobType: request.jobType,
    modelId: request.modelId,
    modelName: request.modelName,
    assetKind: request.assetKind,
    assetCount: request.assetCount,
    resourceType: request.resourceType,
    ioType: request.ioType,
    endpoint: request.endpoint,
    cuMilli: request.cuMilli,
    poolCategory: poolCategoryOf(facts.draws),
    draws: facts.draws,
    counters: facts.counters.map(counterName),
    fingerprint: facts.fingerprint,
    attemptId: facts.attemptId,
    availableAfterMilli: facts.availableAfterMilli,
  };
}

function answer(event: MeterEventRecord, replayed: boolean): ConsumeResult {
  return {
    eventId: event.eventId,
    requestId: event.requestId,
    chargedMilli: event.cuMilli,
    poolCategory: event.poolCategory,
    draws: event.draws,
    availableMilli: event.availableAfterMilli ?? null,
    replayed,
  };
}

/** The answer to a request id already stored: the first answer again, unless the body differs. */
function replay(existing: MeterEventRecord, fingerprint: string, attemptId: string): ConsumeResult {
  if (existing.kind !== 'consume' || existing.fingerprint !== fingerprint) throw idempotencyKeyReused();
  // Our own write whose response was lost and retried is the first answer, not a replay.
  return answer(existing, existing.attemptId !== attemptId);
}
