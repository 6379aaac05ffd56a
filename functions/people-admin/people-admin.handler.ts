// People's admin writes (issue 13), on the Analytics API that authorizes people (on AWS one route has one authorizer,
// so these are routes of their own beside the platform's provisioning routes on the HTTP API). An org admin sets,
// raises or removes any project's, member's or API key's cap and the org's default limit; a project admin the caps of
// the projects they administer. Each change is in the activity feed with the person who made it.

import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { ledgerDependencies, type LedgerDependencies } from '../../shared/composition';
import { toMilli } from '../../shared/domain/compute-units';
import type { CapTarget } from '../../shared/domain/permissions';
import { jsonResponse } from '../../shared/http/error-response';
import { cuOrNull } from '../../shared/http/log-rows';
import { areaHandler } from '../../shared/http/lambda';
import { parseInput, pathParameters, readJsonBody } from '../../shared/http/request';
import { personAdminRoute, type RouteHandler, type Routes } from '../../shared/http/routes';
import { scopeAnswer, scopeRow } from '../../shared/http/scope-rows';
import { cuLimit, identifier } from '../../shared/http/schemas';
import { setCapAsPerson } from '../../shared/use-cases/people-admin';
import type { ScopeView } from '../../shared/use-cases/usage-views';

const orgPath = z.object({ orgId: identifier });
const capBody = z.strictObject({ capCu: z.nullable(cuLimit) });
const defaultLimitAnswer = z.object({ orgId: z.string(), defaultLimitCu: z.nullable(z.number()) });

/** A cap route: the target from the path, the cap from the body, the change made as the signed-in person. */
function capRoute<Path extends z.ZodMiniObject>(path: Path, targetOf: (params: z.output<Path>) => CapTarget): RouteHandler<LedgerDependencies, APIGatewayProxyEvent> {
  return async (event, deps, principal) => {
    const params = pathParameters(event, path);
    const { capCu } = parseInput(capBody, readJsonBody(event));
    const changed = await setCapAsPerson({ principal: principal!, orgId: params['orgId'] as string, target: targetOf(params), capMilli: capCu === null ? null : toMilli(capCu) }, deps);
    if ('record' in changed) return jsonResponse(200, scopeRow(changed as ScopeView));
    return jsonResponse(200, { orgId: changed.orgId, defaultLimitCu: cuOrNull(changed.defaultCapMilli) });
  };
}

const projectPath = z.extend(orgPath, { projectId: identifier });
const memberPath = z.extend(orgPath, { userId: identifier });
const apiKeyPath = z.extend(orgPath, { keyId: identifier });

export const peopleAdminRoutes: Routes<LedgerDependencies, APIGatewayProxyEvent> = {
  'PUT /v1/orgs/{orgId}/projects/{projectId}/cap': personAdminRoute(
    capRoute(projectPath, ({ projectId }) => ({ kind: 'project', id: projectId })),
    { summary: "Set, raise or remove a project's cap (org admins, and that project's admins)", path: projectPath, body: capBody, response: scopeAnswer },
  ),
  'PUT /v1/orgs/{orgId}/members/{userId}/cap': personAdminRoute(
    capRoute(memberPath, ({ userId }) => ({ kind: 'member', id: userId })),
    { summary: "Set, raise or remove a member's cap (org admins); without one the default limit applies", path: memberPath, body: capBody, response: scopeAnswer },
  ),
  'PUT /v1/orgs/{orgId}/api-keys/{keyId}/cap': personAdminRoute(
    capRoute(apiKeyPath, ({ keyId }) => ({ kind: 'api_key', id: keyId })),
    { summary: "Set, raise or remove an API key's cap (org admins); without one the default limit applies", path: apiKeyPath, body: capBody, response: scopeAnswer },
  ),
  'PUT /v1/orgs/{orgId}/default-limit/cap': personAdminRoute(
    capRoute(orgPath, () => ({ kind: 'default_limit' })),
    { summary: 'Set or remove the org-wide default cap of members and API keys without one (org admins)', path: orgPath, body: capBody, response: defaultLimitAnswer },
  ),
};

export const handler = areaHandler<LedgerDependencies, APIGatewayProxyEvent>(peopleAdminRoutes, (signal) => ledgerDependencies(signal));
