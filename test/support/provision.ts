// Provisioning shortcuts for tests, through the same use cases the admin routes call.

import { toMilli } from '../../shared/domain/compute-units';
import type { LedgerDependencies } from '../../shared/composition';
import { putApiKey, putMember, putOrg, putProject, setDefaultLimit } from '../../shared/use-cases/provisioning';
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
  await putOrg({ orgId, planName: 'pro', allowanceMilli: toMilli(setup.allowanceCu), billingAnchor: setup.billingAnchor ?? '2026-01-15' }, deps);
  if (setup.defaultCapCu !== undefined) await setDefaultLimit(orgId, toMilli(setup.defaultCapCu), deps);
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

/** Consume, answering the error's code instead of throwing. */
export async function tryConsume(deps: LedgerDependencies, request: ConsumeRequest) {
  try {
    return { ok: true as const, result: await consume(request, deps) };
  } catch (error) {
    return { ok: false as const, code: (error as { code?: string }).code ?? 'unknown', error };
  }
}
