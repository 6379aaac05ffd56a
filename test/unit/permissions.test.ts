import { keyMayCall } from '../../shared/domain/analytics-keys';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { API_AREAS, type RouteAuth } from '../../infra/api-routes';
import { ROUTE_MAPS } from '../../infra/openapi-document';
import { readScopeOf, scopeIncludes, type MemberRole, type Principal } from '../../shared/domain/permissions';
import { InMemoryLedgerStore } from '../../shared/adapters/memory/in-memory-ledger-store';
import { readerRoute } from '../../functions/analytics/reader-route';
import { provisionOrg } from '../../shared/use-cases/billing';
import { putMember } from '../../shared/use-cases/provisioning';
import { randomIds, systemClock } from '../../shared/ports/runtime';
import { areaHandler } from '../../shared/http/lambda';
import type { RouteAccess } from '../../shared/http/routes';
import { requirePrincipal, resolvePrincipal } from '../../shared/http/principal';
import { serviceEvent } from '../support/api-events';

const service: Principal = { kind: 'service', id: 'arn:aws:iam::000000000000:role/platform-backend' };
const alice: Principal = { kind: 'person', orgId: 'acme', userId: 'alice' };
const analyticsKey: Principal = { kind: 'analytics_key', orgId: 'acme', keyId: 'ak_1' };
const member = (role: MemberRole, adminOfProjectIds: string[] = []) => ({ role, adminOfProjectIds });

describe('what a reader may see of its org (seed 000)', () => {
  it.each([
    ['org admin: every project', alice, member('org_admin'), { orgId: 'acme', projects: 'all' }],
    ['project admin: the projects they administer, once each, sorted', alice, member('project_admin', ['web', 'app', 'web']), { orgId: 'acme', projects: ['app', 'web'] }],
    ['project admin of nothing: no project', alice, member('project_admin'), { orgId: 'acme', projects: [] }],
    ['contributor: nothing', alice, member('contributor'), undefined],
    ['viewer: nothing', alice, member('viewer'), undefined],
    ['a person the org does not know: nothing', alice, undefined, undefined],
    ['analytics key: every project of its org', analyticsKey, undefined, { orgId: 'acme', projects: 'all' }],
  ] as const)('%s', (_name, principal, membership, expected) => {
    expect(readScopeOf(principal as Exclude<Principal, { kind: 'service' }>, membership)).toEqual(expected);
  });

  it('a project admin reaches their projects only', () => {
    const scope = readScopeOf(alice as Exclude<Principal, { kind: 'service' }>, member('project_admin', ['web']))!;
    expect([scopeIncludes(scope, 'web'), scopeIncludes(scope, 'app')]).toEqual([true, false]);
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
  const claims = { sub: 'alice', org_id: 'acme', role: 'org_admin' };

  it.each([
    ['HTTP API, IAM', v2({ iam: { userArn: service.id } }), service],
    ['HTTP API, JWT (the role claim is ignored: roles come from the member records)', v2({ jwt: { claims } }), alice],
    ['HTTP API, Lambda authorizer, a key', v2({ lambda: { orgId: 'acme', keyId: 'ak_1' } }), analyticsKey],
    ['HTTP API, Lambda authorizer, a person', v2({ lambda: { principalKind: 'person', orgId: 'acme', userId: 'alice' } }), alice],
    ['REST API, IAM', v1({ identity: { userArn: service.id } }), service],
    ['REST API, JWT claims', v1({ authorizer: { claims } }), alice],
    ['REST API, Lambda authorizer, a key', v1({ authorizer: { orgId: 'acme', keyId: 'ak_1', principalId: 'ak_1' } }), analyticsKey],
    ['REST API, Lambda authorizer, a person', v1({ authorizer: { principalKind: 'person', orgId: 'acme', userId: 'alice', principalId: 'alice' } }), alice],
    ['nothing verified', v2(undefined), undefined],
    ['a token without an org', v2({ jwt: { claims: { sub: 'alice' } } }), undefined],
    ['a token without a subject', v2({ jwt: { claims: { org_id: 'acme' } } }), undefined],
  ] as const)('%s', (_name, event, expected) => {
    expect(resolvePrincipal(event)).toEqual(expected);
  });

  it('refuses a verified principal the route does not accept with 403, and no principal with 401, naming what it needs', () => {
    expect(() => requirePrincipal(v2({ jwt: { claims } }), ['service'], 'any')).toThrow(
      expect.objectContaining({ code: 'forbidden', message: 'This route needs the service principal (IAM, or the local SERVICE_TOKEN). You are a signed-in member of the org.' }),
    );
    expect(() => requirePrincipal(v1({ authorizer: { orgId: 'acme', keyId: 'ak_1', principalId: 'ak_1' } }), ['service', 'person'], 'any')).toThrow(expect.objectContaining({ code: 'forbidden' }));
    expect(() => requirePrincipal(v2(undefined), ['service'], 'any')).toThrow(
      expect.objectContaining({ code: 'unauthorized', message: 'This route needs the service principal (IAM, or the local SERVICE_TOKEN).' }),
    );
    expect(requirePrincipal(v2({ jwt: { claims } }), ['service', 'person'], 'any')).toEqual(alice);
  });

  it("declares on every route exactly the principals its area's authorizer lets through", () => {
    // The analytics authorizer verifies people's JWTs and analytics keys, and lets a key reach only the read routes its
    // patterns cover; an area the service calls too takes the service (its HTTP API side) and people, never keys.
    const byAuth: Record<RouteAuth, RouteAccess> = { service: ['service'], human: ['person'], analytics: ['person', 'analytics_key'], public: 'anyone' };
    const routes: Readonly<Record<string, Readonly<Record<string, { accepts: RouteAccess }>>>> = ROUTE_MAPS;
    const analyticsAccess = (routeKey: string): RouteAccess => (keyMayCall(...(routeKey.split(' ') as [string, string])) ? byAuth.analytics : ['person']);
    for (const area of API_AREAS) {
      const expected = (routeKey: string) =>
        area.auth !== 'analytics' ? byAuth[area.auth] : area.serviceToo === true ? ['service', 'person'] : analyticsAccess(routeKey);
      for (const routeKey of area.routeKeys) expect([area.name, routeKey, routes[area.name]![routeKey]!.accepts]).toEqual([area.name, routeKey, expected(routeKey)]);
    }
  });
});

describe('the shared handler', () => {
  const whoAmI = async (_event: unknown, _deps: unknown, principal?: Principal) => ({ statusCode: 200, body: JSON.stringify(principal) });

  it('resolves the principal before dispatch on an HTTP API event, and refuses one the route does not accept', async () => {
    const handler = areaHandler({ 'GET /v1/me': { accepts: ['person'], handle: whoAmI, doc: { summary: 'Who calls' } } }, () => ({}));
    const person = await handler({ ...v2({ jwt: { claims: { sub: 'alice', org_id: 'acme' } } }), routeKey: 'GET /v1/me' }, {} as Context);
    const service = await handler({ ...v2({ iam: { userArn: 'arn:aws:iam::1:role/x' } }), routeKey: 'GET /v1/me' }, {} as Context);

    expect(JSON.parse(person.body!)).toEqual(alice);
    expect([service.statusCode, JSON.parse(service.body!).error.code]).toEqual([403, 'forbidden']);
  });

  it('a reader route reads the role from the member record: admins pass with their scope, everyone else gets 403', async () => {
    const store = new InMemoryLedgerStore();
    const deps = { store, clock: systemClock, ids: randomIds };
    await provisionOrg({ orgId: 'acme', planName: 'Pro', allowanceMilli: 0, billingAnchor: '2026-01-01' }, deps);
    for (const [id, role, projects] of [['olga', 'org_admin', []], ['pat', 'project_admin', ['web']], ['cora', 'contributor', []], ['vic', 'viewer', []]] as const) {
      await putMember({ orgId: 'acme', id, role, adminOfProjectIds: projects }, deps);
    }
    const handler = areaHandler<{ store: InMemoryLedgerStore }, APIGatewayProxyEvent>(
      { 'GET /v1/usage': readerRoute(async (_event, _deps, reader) => ({ statusCode: 200, body: JSON.stringify(reader) }), { summary: 'What the reader may read' }) },
      () => ({ store }),
    );
    const call = async (userId: string) => {
      const answer = await handler(v1({ authorizer: { principalKind: 'person', orgId: 'acme', userId } }), {} as Context);
      return [answer.statusCode, JSON.parse(answer.body!)];
    };

    expect(await call('olga')).toEqual([200, { orgId: 'acme', projects: 'all' }]);
    expect(await call('pat')).toEqual([200, { orgId: 'acme', projects: ['web'] }]);
    for (const refused of ['cora', 'vic', 'stranger']) expect(await call(refused)).toEqual([403, expect.objectContaining({ error: expect.objectContaining({ code: 'forbidden' }) })]);
    const key = await handler(v1({ authorizer: { orgId: 'acme', keyId: 'ak_1' } }), {} as Context);
    expect(JSON.parse(key.body!)).toEqual({ orgId: 'acme', projects: 'all' });
  });

  it('routes a REST API (payload v1) event on its method and resource', async () => {
    const handler = areaHandler<object, APIGatewayProxyEvent>({ 'GET /v1/usage': { accepts: ['analytics_key'], handle: whoAmI, doc: { summary: 'Who calls' } } }, () => ({}));
    const answer = await handler(v1({ authorizer: { orgId: 'acme', keyId: 'ak_1' } }), {} as Context);
    const unknown = await handler({ ...v1({}), resource: '/v1/nowhere' }, {} as Context);

    expect(JSON.parse(answer.body!)).toEqual(analyticsKey);
    expect([unknown.statusCode, JSON.parse(unknown.body!).error.code]).toEqual([404, 'route_not_found']);
  });
});
