// The analytics-key Lambda: an org's read-only keys for BI tools (seed 003), managed by its org admins (on the
// Analytics API, with their JWT) and by the platform's backend (on the HTTP API, with IAM). Create answers the secret
// once; list, rotate (a new secret, the old one valid for a grace) and revoke never show a secret or a digest again.

import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod/mini';
import { KEY_ID_PATTERN, MAX_GRACE_SECONDS } from '../../shared/domain/analytics-keys';
import { keyVault, ledgerDependencies, type LedgerDependencies } from '../../shared/composition';
import { jsonResponse } from '../../shared/http/error-response';
import { areaHandler } from '../../shared/http/lambda';
import type { GatewayEvent } from '../../shared/http/principal';
import { serviceOrPersonRoute, type RouteHandler, type Routes } from '../../shared/http/routes';
import { parseInput, pathParameters, readJsonBody, writeActor } from '../../shared/http/request';
import { identifier, integer, label } from '../../shared/http/schemas';
import { createAnalyticsKey, keyAdministrator, listAnalyticsKeys, revokeAnalyticsKey, rotateAnalyticsKey, type KeyVault } from '../../shared/use-cases/analytics-keys';
import type { ActivityActor } from '../../shared/ports/ledger-records';
import type { Principal } from '../../shared/domain/permissions';

export interface AnalyticsKeyDependencies extends LedgerDependencies {
  readonly vault: KeyVault;
}

const orgPath = z.object({ orgId: identifier });
const keyPath = z.extend(orgPath, { keyId: z.string().check(z.regex(KEY_ID_PATTERN, 'must be an analytics key id: cuak_ and 16 letters or digits')) });
const createBody = z.strictObject({ name: label(100) });
const rotateBody = z.strictObject({ graceSeconds: z.optional(integer(0, MAX_GRACE_SECONDS)) });

const createdAnswer = z.object({ keyId: z.string(), name: z.string(), secret: z.string(), createdAt: z.string() });
const rotatedAnswer = z.extend(createdAnswer, { rotatedAt: z.string(), previousSecretValidUntil: z.nullable(z.string()) });
const listedAnswer = z.object({
  keyId: z.string(),
  name: z.string(),
  status: z.enum(['active', 'revoked']),
  secretPrefix: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.nullable(z.string()),
  rotatedAt: z.nullable(z.string()),
  graceEndsAt: z.nullable(z.string()),
  revokedAt: z.nullable(z.string()),
});
const listAnswer = z.object({ items: z.array(listedAnswer) });
const revokedAnswer = z.object({ keyId: z.string(), name: z.string(), status: z.literal('revoked'), revokedAt: z.string() });

/** An answer that carries a secret (or could be mistaken for one) is never stored by a cache on the way. */
function noStore(answer: APIGatewayProxyStructuredResultV2): APIGatewayProxyStructuredResultV2 {
  return { ...answer, headers: { ...answer.headers, 'cache-control': 'no-store' } };
}

/** The org of the path and who acts on its keys: the service, or one of its org admins; anyone else gets 403. */
async function administered(event: GatewayEvent, deps: AnalyticsKeyDependencies, principal: Principal | undefined): Promise<{ orgId: string; actor: ActivityActor }> {
  const { orgId } = pathParameters(event, orgPath);
  // The dispatch let only the service or a person through; the service may name the person it acts for.
  const actor = await keyAdministrator(principal!, orgId, principal!.kind === 'service' ? writeActor(event).actingUserId : undefined, deps);
  return { orgId, actor };
}

const createRoute: RouteHandler<AnalyticsKeyDependencies, GatewayEvent> = async (event, deps, principal) => {
  const { orgId, actor } = await administered(event, deps, principal);
  const { name } = parseInput(createBody, readJsonBody(event));
  const created = await createAnalyticsKey({ orgId, name, actor }, deps);
  return noStore(jsonResponse(201, created satisfies z.output<typeof createdAnswer>));
};

const listRoute: RouteHandler<AnalyticsKeyDependencies, GatewayEvent> = async (event, deps, principal) => {
  const { orgId } = await administered(event, deps, principal);
  const keys = await listAnalyticsKeys(orgId, deps);
  const items = keys.map((key) => ({
    keyId: key.keyId,
    name: key.name,
    status: key.status,
    secretPrefix: key.secretHint,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    rotatedAt: key.rotatedAt,
    graceEndsAt: key.graceEndsAt,
    revokedAt: key.revokedAt,
  }));
  return noStore(jsonResponse(200, { items } satisfies z.output<typeof listAnswer>));
};

const rotateRoute: RouteHandler<AnalyticsKeyDependencies, GatewayEvent> = async (event, deps, principal) => {
  const { actor } = await administered(event, deps, principal);
  const { orgId, keyId } = pathParameters(event, keyPath);
  // The body is optional: no body rotates with no grace.
  const body = event.body ? parseInput(rotateBody, readJsonBody(event)) : {};
  const rotated = await rotateAnalyticsKey({ orgId, keyId, graceSeconds: body.graceSeconds ?? 0, actor }, deps);
  return noStore(jsonResponse(200, rotated satisfies z.output<typeof rotatedAnswer>));
};

const revokeRoute: RouteHandler<AnalyticsKeyDependencies, GatewayEvent> = async (event, deps, principal) => {
  const { actor } = await administered(event, deps, principal);
  const { orgId, keyId } = pathParameters(event, keyPath);
  const revoked = await revokeAnalyticsKey({ orgId, keyId, actor }, deps);
  return noStore(jsonResponse(200, { keyId: revoked.keyId, name: revoked.name, status: 'revoked', revokedAt: revoked.revokedAt! } satisfies z.output<typeof revokedAnswer>));
};

export const analyticsKeyRoutes: Routes<AnalyticsKeyDependencies, GatewayEvent> = {
  'POST /v1/orgs/{orgId}/analytics-keys': serviceOrPersonRoute(createRoute, {
    summary: "Create an org's read-only analytics key for BI tools: the secret is in this answer only (org admins and the service)",
    path: orgPath,
    body: createBody,
    response: createdAnswer,
    statuses: [201],
  }),
  'GET /v1/orgs/{orgId}/analytics-keys': serviceOrPersonRoute(listRoute, { summary: "The org's analytics keys: name, secret prefix, status, lastUsedAt (never a secret)", path: orgPath, response: listAnswer }),
  'POST /v1/orgs/{orgId}/analytics-keys/{keyId}/rotate': serviceOrPersonRoute(rotateRoute, {
    summary: 'Issue a new secret; the old one keeps working for graceSeconds (default 0, at most 7 days)',
    path: keyPath,
    body: rotateBody,
    response: rotatedAnswer,
  }),
  'DELETE /v1/orgs/{orgId}/analytics-keys/{keyId}': serviceOrPersonRoute(revokeRoute, { summary: 'Revoke a key at once (idempotent)', path: keyPath, response: revokedAnswer }),
};

export const handler = areaHandler<AnalyticsKeyDependencies, GatewayEvent>(analyticsKeyRoutes, (signal) => ({ ...ledgerDependencies(signal), vault: keyVault() }));
