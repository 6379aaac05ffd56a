// Provisioning shortcuts for tests, through the same use cases the admin routes call.

import { toMilli } from '../../shared/domain/compute-units';
import { LimitReachedError, StoreUnavailableError } from '../../shared/domain/errors';
import type { LedgerDependencies } from '../../shared/composition';
import { provisionOrg as createOrg } from '../../shared/use-cases/billing';
import { putApiKey, putMember, putProject, setDefaultLimit } from '../../shared/use-cases/provisioning';
import { consume, type ConsumeRequest } from '../../shared/use-cases/consume';

export async function provisionOrg(
  deps: LedgerDependencies,
  orgId: string,
  setup: {
    allowanceCu: number;
    billingAnchor?: string;
    defaultCapCu?: number;
    projects?: Record<string, number | null>;
    members?: Record<string, number | null>;
    apiKeys?: Record<string, { projectId: string; capCu: number | null }>;
  },
): Promise<void> {
  await createOrg({ orgId, planName: 'pro', allowanceMilli: toMilli(setup.allowanceCu), billingAnchor: setup.billingAnchor ?? '2026-01-15' }, deps);
  if (setup.defaultCapCu !== undefined) await setDefaultLimit({ orgId, capMilli: toMilli(setup.defaultCapCu) }, deps);
  for (const [id, cap] of Object.entries(setup.projects ?? {})) {
    await putProject({ orgId, id, capMilli: cap === null ? null : toMilli(cap) }, deps);
  }
  for (const [id, cap] of Object.entries(setup.members ?? {})) {
    await putMember({ orgId, id, role: 'contributor', capMilli: cap === null ? null : toMilli(cap) }, deps);
  }
  for (const [id, key] of Object.entries(setup.apiKeys ?? {})) {
    await putApiKey({ orgId, id, projectId: key.projectId, capMilli: key.capCu === null ? null : toMilli(key.capCu) }, deps);
  }
}

let sequence = 0;

/** A consume request with a fresh requestId unless one is given. */
export function consumeRequest(orgId: string, fields: Partial<ConsumeRequest> & { userId: string; projectId: string; cu: number }): ConsumeRequest {
  const { cu, ...rest } = fields;
  return { requestId: `req-${process.pid}-${++sequence}`, orgId, jobType: 'image_generation', cuMilli: toMilli(cu), ...rest };
}

/** How often a caller asks again, with the same requestId, before the test gives up on learning an outcome. */
const MAX_OUTCOME_RETRIES = 50;

/**
 * Runs a consume or refund until its outcome is known, as a well-behaved caller does: a 503 store_unavailable means
 * the charge may or may not have committed, so the same request (same requestId) is sent again until the ledger
 * answers it. Anything else is the outcome.
 */
export async function settle<T>(send: () => Promise<T>, unknownOutcomes?: { count: number }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || attempt >= MAX_OUTCOME_RETRIES) throw error;
      if (unknownOutcomes) unknownOutcomes.count++;
    }
  }
}

/**
 * Consume until the outcome is known (see settle), answering a limit refusal's code instead of throwing. Anything
 * that is not a limit refusal (a 409, a 404, a bug) is rethrown: it must never pass for a refusal.
 */
export async function tryConsume(deps: LedgerDependencies, request: ConsumeRequest, unknownOutcomes?: { count: number }) {
  try {
    return { ok: true as const, result: await settle(() => consume(request, deps), unknownOutcomes) };
  } catch (error) {
    if (!(error instanceof LimitReachedError)) throw error;
    return { ok: false as const, code: error.code, error };
  }
}
