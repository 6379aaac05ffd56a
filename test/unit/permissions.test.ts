import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { API_AREAS, type RouteAuth } from '../../infra/api-routes';
import { adminRoutes } from '../../functions/admin/admin.handler';
import { meterRoutes } from '../../functions/meter/meter.handler';
import { mayAccess, type Principal, type PrincipalKind } from '../../shared/domain/permissions';
import { areaHandler } from '../../shared/http/lambda';
import { requirePrincipal, resolvePrincipal } from '../../shared/http/principal';
import { serviceEvent } from '../support/api-events';

const service: Principal = { kind: 'service', id: 'arn:aws:iam::000000000000:role/platform-backend' };
const person = (role: 'org_admin' | 'project_admin' | 'contributor' | 'viewer', adminOfProjectIds: string[] = []): Principal => ({
  kind: 'person',
  orgId: 'acme',
  userId: 'alice',
  role,
  adminOfProjectIds,
});
const analyticsKey: Principal = { kind: 'analytics_key', orgId: 'acme', keyId: 'ak_1' };

describe('who may reach what (seed 000)', () => {
  // principal, target (org, project, intent), allowed
  it.each([
    ['service, any org', service, { orgId: 'other', intent: 'manage' }, true],
    ['service, a project of any org', service, { orgId: 'other', projectId: 'web', intent: 'manage' }, true],
    ['org admin, reads the org', person('org_admin'), { orgId: 'acme', intent: 'read' }, true],
    ['org admin, manages the org', person('org_admin'), { orgId: 'acme', intent: 'manage' }, true],
    ['org admin, a project of the org', person('org_admin'), { orgId: 'acme', projectId: 'web', intent: 'manage' }, true],
    ['org admin, another org', person('org_admin'), { orgId: 'other', intent: 'read' }, false],
    ['project admin, reads their project', person('project_admin', ['web']), { orgId: 'acme', projectId: 'web', intent: 'read' }, true],
    ['project admin, manages their project', person('project_admin', ['web']), { orgId: 'acme', projectId: 'web', intent: 'manage' }, true],
    ['project admin, another project', person('project_admin', ['web']), { orgId: 'acme', projectId: 'app', intent: 'read' }, false],
    ['project admin, the org as a whole', person('project_admin', ['web']), { orgId: 'acme', intent: 'read' }, false],
    ['project admin, their project id in another org', person('project_admin', ['web']), { orgId: 'other', projectId: 'web', intent: 'read' }, false],
    ['contributor, the org', person('contributor'), { orgId: 'acme', intent: 'read' }, false],
    ['contributor, a project', person('contributor'), { orgId: 'acme', projectId: 'web', intent: 'read' }, false],
    ['viewer, the org', person('viewer'), { orgId: 'acme', intent: 'read' }, false],
    ['analytics key, reads its org', analyticsKey, { orgId: 'acme', intent: 'read' }, true],
    ['analytics key, reads a project of its org', analyticsKey, { orgId: 'acme', projectId: 'web', intent: 'read' }, true],
    ['analytics key, manages its org', analyticsKey, { orgId: 'acme', intent: 'manage' }, false],
    ['analytics key, another org', analyticsKey, { orgId: 'other', intent: 'read' }, false],
  ] as const)('%s: %s', (_name, principal, target, allowed) => {
    expect(mayAccess(principal, target)).toBe(allowed);
  });
});

function v2(authorizer: unknown): APIGatewayProxyEventV2 {
  const event = serviceEvent('GET /v1/x', { principal: false });
  return { ...event, requestContext: { ...event.requestContext, ...(authorizer ? { authorizer } : {}) } } as APIGatewayProxyEventV2;
}

function v1(requestContext: Record<string, unknown>): APIGatewayProxyEvent {
  return { httpMethod: 'GET', resource: '/v1/usage', requestContext: { identity: { userArn: null }, ...requestContext } } as unknown as APIGatewayProxyEvent;
}

describe('the principal, from what the gateway verified', () => {
  const claims = { sub: 'alice', org_id: 'acme', role: 'project_admin', admin_of_projects: 'web app' };
  const alice = { kind: 'person', orgId: 'acme', userId: 'alice', role: 'project_admin', adminOfProjectIds: ['web', 'app'] };

  it.each([
    ['HTTP API, IAM', v2({ iam: { userArn: service.id } }), service],
    ['HTTP API, JWT', v2({ jwt: { claims } }), alice],
    ['HTTP API, Lambda authorizer', v2({ lambda: { orgId: 'acme', keyId: 'ak_1' } }), analyticsKey],
    ['REST API, IAM', v1({ identity: { userArn: service.id } }), service],
    ['REST API, JWT claims', v1({ authorizer: { claims } }), alice],
    ['REST API, Lambda authorizer', v1({ authorizer: { orgId: 'acme', keyId: 'ak_1', principalId: 'ak_1' } }), analyticsKey],
    ['nothing verified', v2(undefined), undefined],
    ['a token without an org', v2({ jwt: { claims: { sub: 'alice', role: 'org_admin' } } }), undefined],
    ['a token with an unknown role', v2({ jwt: { claims: { ...claims, role: 'owner' } } }), undefined],
  ] as const)('%s', (_name, event, expected) => {
    expect(resolvePrincipal(event)).toEqual(expected);
  });

  it('refuses a principal the route does not accept with 401, naming what it needs', () => {
    expect(() => requirePrincipal(v2({ jwt: { claims } }), ['service'])).toThrow(
      expect.objectContaining({ code: 'unauthorized', message: 'This route needs the service principal (IAM, or the local SERVICE_TOKEN).' }),
    );
    expect(requirePrincipal(v2({ jwt: { claims } }), ['service', 'person'])).toEqual(alice);
  });

  it("declares on every route exactly the principal its area's authorizer lets through", () => {
    const byAuth: Record<RouteAuth, PrincipalKind> = { service: 'service', human: 'person', analytics: 'analytics_key' };
    const routes: Record<string, Record<string, { accepts: readonly PrincipalKind[] }>> = { meter: meterRoutes, admin: adminRoutes };
    for (const area of API_AREAS) {
      for (const routeKey of area.routeKeys) expect([area.name, routeKey, routes[area.name]![routeKey]!.accepts]).toEqual([area.name, routeKey, [byAuth[area.auth]]]);
    }
  });
});

describe('the shared handler', () => {
  const whoAmI = async (_event: unknown, _deps: unknown, principal?: Principal) => ({ statusCode: 200, body: JSON.stringify(principal) });

  it('resolves the principal before dispatch on an HTTP API event, and refuses one the route does not accept', async () => {
    const handler = areaHandler({ 'GET /v1/me': { accepts: ['person'], handle: whoAmI, target: () => ({ orgId: 'acme', intent: 'read' as const }) } }, () => ({}));
    const claims = { sub: 'alice', org_id: 'acme', role: 'org_admin' };
    const person = await handler({ ...v2({ jwt: { claims } }), routeKey: 'GET /v1/me' }, {} as Context);
    const service = await handler({ ...v2({ iam: { userArn: 'arn:aws:iam::1:role/x' } }), routeKey: 'GET /v1/me' }, {} as Context);

    expect(JSON.parse(person.body!)).toEqual({ kind: 'person', orgId: 'acme', userId: 'alice', role: 'org_admin', adminOfProjectIds: [] });
    expect([service.statusCode, JSON.parse(service.body!).error.code]).toEqual([401, 'unauthorized']);
  });

  it('checks what a person reaches before dispatch, and refuses a route that does not say (deny by default)', async () => {
    const orgOf = (event: APIGatewayProxyEventV2) => ({ orgId: event.pathParameters!.orgId!, intent: 'read' as const });
    const handler = areaHandler(
      {
        'GET /v1/orgs/{orgId}/usage': { accepts: ['person'], handle: whoAmI, target: orgOf },
        'GET /v1/orgs/{orgId}/secret': { accepts: ['person'], handle: whoAmI },
      },
      () => ({}),
    );
    const call = (routeKey: string, orgId: string, role: string) =>
      handler({ ...v2({ jwt: { claims: { sub: 'alice', org_id: 'acme', role } } }), routeKey, pathParameters: { orgId } }, {} as Context);

    const admin = await call('GET /v1/orgs/{orgId}/usage', 'acme', 'org_admin');
    const contributor = await call('GET /v1/orgs/{orgId}/usage', 'acme', 'contributor');
    const otherOrg = await call('GET /v1/orgs/{orgId}/usage', 'globex', 'org_admin');
    const undeclared = await call('GET /v1/orgs/{orgId}/secret', 'acme', 'org_admin');

    expect(admin.statusCode).toBe(200);
    for (const refused of [contributor, otherOrg, undeclared]) expect([refused.statusCode, JSON.parse(refused.body!).error.code]).toEqual([403, 'forbidden']);
  });

  it('routes a REST API (payload v1) event on its method and resource, with the analytics key as principal', async () => {
    const usage = (event: APIGatewayProxyEvent) => ({ orgId: String(event.requestContext.authorizer?.orgId), intent: 'read' as const });
    const handler = areaHandler<object, APIGatewayProxyEvent>({ 'GET /v1/usage': { accepts: ['analytics_key'], handle: whoAmI, target: usage } }, () => ({}));
    const answer = await handler(v1({ authorizer: { orgId: 'acme', keyId: 'ak_1' } }), {} as Context);
    const unknown = await handler({ ...v1({}), resource: '/v1/nowhere' }, {} as Context);

    expect(JSON.parse(answer.body!)).toEqual(analyticsKey);
    expect([unknown.statusCode, JSON.parse(unknown.body!).error.code]).toEqual([404, 'route_not_found']);
  });
});
