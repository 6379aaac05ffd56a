// The local stand-in for API Gateway, over HTTP on 127.0.0.1: service areas as the HTTP API serves them (payload v2,
// the service token), analytics areas as the Analytics REST API does (payload v1, the analytics authorizer on every
// request, its gateway responses). The analytics routes here are real reader routes on the in-memory store, checked
// by the real authorizer with a test identity provider's keys.

import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readerRoute } from '../../functions/analytics/reader-route';
import { authorizeAnalyticsRequest } from '../../functions/auth/analytics-authorizer.handler';
import { ANALYTICS_GATEWAY_ANSWERS, BASIC_CHALLENGE } from '../../infra/analytics-gateway-responses';
import { ANALYTICS_AUTHORIZER, API_AREAS, type ApiArea, type LambdaRequestAuthorizer } from '../../infra/api-routes';
import { createLocalApi } from '../../infra/local/api-gateway';
import { jwtPersonTokenVerifier } from '../../shared/adapters/jwt/person-token-verifier';
import { InMemoryLedgerStore } from '../../shared/adapters/memory/in-memory-ledger-store';
import { areaHandler } from '../../shared/http/lambda';
import { serviceRoute } from '../../shared/http/routes';
import { randomIds, systemClock } from '../../shared/ports/runtime';
import { putMember } from '../../shared/use-cases/provisioning';
import { provisionOrg } from '../../shared/use-cases/billing';
import { TEST_AUDIENCE, TEST_ISSUER, testIdentityProvider, type TestIdentityProvider } from '../support/person-tokens';
import { EVERY_KIND } from '../infra/fixtures/registries';

const SERVICE_TOKEN = 'service-token';
const CSV = 'day,cu\n2026-03-01,12.5\n';

/** What an analytics handler was handed, as the echo routes answer it. */
function echo(event: APIGatewayProxyEvent, reader: unknown) {
  return {
    statusCode: 200,
    body: JSON.stringify({
      httpMethod: event.httpMethod,
      resource: event.resource,
      path: event.path,
      pathParameters: event.pathParameters,
      queryStringParameters: event.queryStringParameters,
      multiValueQueryStringParameters: event.multiValueQueryStringParameters,
      trace: event.headers['X-Trace'],
      traces: event.multiValueHeaders['X-Trace'],
      authorizer: event.requestContext.authorizer,
      stage: event.requestContext.stage,
      resourcePath: event.requestContext.resourcePath,
      identityArn: event.requestContext.identity.userArn,
      reader,
    }),
  };
}

function analyticsArea(store: InMemoryLedgerStore): ApiArea {
  const routes = {
    'GET /v1/orgs/{orgId}/echo/{entryId}': readerRoute(async (event, _deps, reader) => echo(event, reader), { summary: 'echo' }),
    'GET /v1/orgs/{orgId}/echo/latest': readerRoute(async (event, _deps, reader) => echo(event, reader), { summary: 'echo' }),
    'GET /v1/usage/export': readerRoute(async () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'attachment; filename="usage.csv"' },
      body: Buffer.from(CSV).toString('base64'),
      isBase64Encoded: true,
    }), { summary: 'csv' }),
  };
  return {
    name: 'analytics',
    entry: 'functions/analytics/analytics.handler.ts',
    handler: areaHandler<{ store: InMemoryLedgerStore }, APIGatewayProxyEvent>(routes, () => ({ store })),
    routeKeys: Object.keys(routes),
    auth: 'analytics',
    needs: { table: [] },
  };
}

const serviceArea: ApiArea = {
  name: 'service-echo',
  entry: 'functions/admin/admin.handler.ts',
  handler: areaHandler({ 'GET /v1/service-echo': serviceRoute(async (event: APIGatewayProxyEventV2) => ({ statusCode: 200, body: JSON.stringify({ version: event.version }) }), { summary: 'echo' }) }, () => ({})),
  routeKeys: ['GET /v1/service-echo'],
  auth: 'service',
  needs: { table: [] },
};

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly body: any;
}

/** One request; `headers` values given as arrays go out as one header line per value. */
function call(url: string, path: string, headers: Record<string, string | string[]> = {}): Promise<Answer> {
  return new Promise((answered, failed) => {
    const outgoing = httpRequest(`${url}${path}`, { method: 'GET' }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        answered({ status: response.statusCode!, headers: response.headers, text, body });
      });
    });
    for (const [name, value] of Object.entries(headers)) outgoing.setHeader(name, value);
    outgoing.on('error', failed);
    outgoing.end();
  });
}

/** A local API on a free port for the suite, closed after it. */
function localApiForSuite(options: () => Promise<Parameters<typeof createLocalApi>[0]>): () => string {
  let url = '';
  let close: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    const server = createLocalApi(await options());
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', () => listening()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((closed) => server.close(() => closed()));
  });
  afterAll(() => close());
  return () => url;
}

describe('local gateway: which areas it serves', () => {
  it('serves the areas of today, with the analytics authorizer as deployed', () => {
    expect(() => createLocalApi({ areas: API_AREAS, serviceToken: 'token', analyticsAuthorizer: ANALYTICS_AUTHORIZER.handler })).not.toThrow();
  });

  it('refuses analytics areas without their authorizer, instead of serving them unchecked', () => {
    expect(() => createLocalApi({ areas: API_AREAS, serviceToken: 'token' })).toThrow(/analytics authorizer/);
  });

  it('refuses routes for people on the HTTP API, which it cannot stand in for yet', () => {
    expect(() => createLocalApi({ areas: EVERY_KIND.areas, serviceToken: 'token', analyticsAuthorizer: ANALYTICS_AUTHORIZER.handler })).toThrow(
      /no stand-in for human auth \(usage\)/,
    );
  });
});

describe('local gateway: analytics areas, as the Analytics REST API', () => {
  let provider: TestIdentityProvider;
  let stranger: TestIdentityProvider;
  const store = new InMemoryLedgerStore();
  const url = localApiForSuite(async () => {
    provider = await testIdentityProvider();
    stranger = await testIdentityProvider();
    await provisionOrg({ orgId: 'acme', planName: 'Pro', allowanceMilli: 0, billingAnchor: '2026-01-01' }, { store, clock: systemClock, ids: randomIds });
    for (const [id, role, projects] of [['olga', 'org_admin', []], ['pat', 'project_admin', ['web', 'app']], ['cora', 'contributor', []]] as const) {
      await putMember({ orgId: 'acme', id, role, adminOfProjectIds: projects }, { store, clock: systemClock, ids: randomIds });
    }
    const people = jwtPersonTokenVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, orgClaim: 'org_id' }, createLocalJWKSet(provider.jwks));
    return {
      areas: [serviceArea, analyticsArea(store)],
      serviceToken: SERVICE_TOKEN,
      analyticsAuthorizer: (event: APIGatewayRequestAuthorizerEvent) => authorizeAnalyticsRequest(event, { people, keys: async () => undefined }),
    };
  });
  const bearer = async (userId: string, signer = provider) => ({ authorization: `Bearer ${await signer.sign({ sub: userId, org_id: 'acme' })}` });

  it("hands the handler a payload v1 event: the route's resource, path parameters, every value of a repeated query parameter and header, and the authorizer's context", async () => {
    const answer = await call(url(), '/v1/orgs/acme/echo/e%201?projectId=web&projectId=app&limit=5', { ...(await bearer('olga')), 'X-Trace': ['first', 'second'] });

    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toEqual({
      httpMethod: 'GET',
      resource: '/v1/orgs/{orgId}/echo/{entryId}',
      path: '/v1/orgs/acme/echo/e%201',
      pathParameters: { orgId: 'acme', entryId: 'e 1' },
      queryStringParameters: { projectId: 'app', limit: '5' },
      multiValueQueryStringParameters: { projectId: ['web', 'app'], limit: ['5'] },
      trace: 'second',
      traces: ['first', 'second'],
      authorizer: { principalKind: 'person', orgId: 'acme', userId: 'olga', principalId: 'olga', integrationLatency: 0 },
      stage: 'api',
      resourcePath: '/v1/orgs/{orgId}/echo/{entryId}',
      identityArn: null,
      reader: { orgId: 'acme', projects: 'all' },
    });
  });

  it('has no query maps without a query string, and prefers a literal segment to a path parameter in the same place', async () => {
    const answer = await call(url(), '/v1/orgs/acme/echo/latest', await bearer('olga'));

    expect(answer.body).toMatchObject({ resource: '/v1/orgs/{orgId}/echo/latest', pathParameters: { orgId: 'acme' }, queryStringParameters: null, multiValueQueryStringParameters: null });
  });

  it("reads the role from the member record: a project admin reads their projects, a contributor gets the route's 403", async () => {
    const projectAdmin = await call(url(), '/v1/orgs/acme/echo/latest', await bearer('pat'));
    const contributor = await call(url(), '/v1/orgs/acme/echo/latest', await bearer('cora'));

    expect(projectAdmin.body.reader).toEqual({ orgId: 'acme', projects: ['app', 'web'] });
    expect([contributor.status, contributor.body.error.code]).toEqual([403, 'forbidden']);
  });

  it.each([
    ['no Authorization header', async () => ({})],
    ['a token signed by another key', async () => bearer('olga', stranger)],
    ['HTTP Basic (no analytics key exists yet)', async () => ({ authorization: `Basic ${Buffer.from('ak_1:secret').toString('base64')}` })],
    ['the service token', async () => ({ authorization: `Bearer ${SERVICE_TOKEN}` })],
  ])("answers %s with 401, the Basic challenge and the Analytics API's body", async (_name, headers) => {
    const answer = await call(url(), '/v1/orgs/acme/echo/latest', await headers());

    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe(BASIC_CHALLENGE);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.body).toEqual(JSON.parse(ANALYTICS_GATEWAY_ANSWERS.unauthorized.body));
    expect(answer.body.error.message).toContain('Bearer');
  });

  it("passes the handler's status, headers and body through, decoding a base64 body", async () => {
    const answer = await call(url(), '/v1/usage/export', await bearer('olga'));

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(answer.headers['content-disposition']).toBe('attachment; filename="usage.csv"');
    expect(answer.text).toBe(CSV);
  });

  it('checks each of many requests at once on its own: every caller gets their own principal and scope', async () => {
    const callers = Array.from({ length: 24 }, (_, index) => ['olga', 'pat', 'cora'][index % 3]!);

    const answers = await Promise.all(callers.map(async (userId) => call(url(), '/v1/orgs/acme/echo/latest', await bearer(userId))));

    answers.forEach((answer, index) => {
      const userId = callers[index]!;
      if (userId === 'cora') return expect(answer.status).toBe(403);
      expect(answer.body.authorizer.userId).toBe(userId);
      expect(answer.body.reader.projects).toEqual(userId === 'olga' ? 'all' : ['app', 'web']);
    });
  });

  it('keeps service routes on the HTTP API: payload v2 with the service token; a person is someone, but not the service (403)', async () => {
    const service = await call(url(), '/v1/service-echo', { authorization: `Bearer ${SERVICE_TOKEN}` });
    const person = await call(url(), '/v1/service-echo', await bearer('olga'));
    const nobody = await call(url(), '/v1/service-echo', { authorization: 'Bearer not-a-token' });

    expect([service.status, service.body]).toEqual([200, { version: '2.0' }]);
    expect([person.status, person.body.error.code]).toEqual([403, 'forbidden']);
    expect([nobody.status, nobody.body.error.code]).toEqual([401, 'unauthorized']);
  });
});

describe("local gateway: the authorizer's verdict, judged as API Gateway judges it", () => {
  const policy = (effect: 'Allow' | 'Deny', resource: string) => ({ Version: '2012-10-17', Statement: [{ Effect: effect, Action: 'execute-api:Invoke', Resource: resource }] });
  const verdicts: Record<string, LambdaRequestAuthorizer> = {
    deny: async (event) => ({ principalId: 'olga', policyDocument: policy('Deny', event.methodArn) }),
    'allow-elsewhere': async (event) => ({ principalId: 'olga', policyDocument: policy('Allow', event.methodArn.replace(/\/GET\/.*$/, '/POST/*')) }),
    'allow-nested-context': async (event) => ({ principalId: 'olga', policyDocument: policy('Allow', event.methodArn), context: { nested: { no: 1 } } as never }),
    fail: async () => {
      throw new Error('the key set did not load');
    },
  };
  const url = localApiForSuite(async () => ({
    areas: [analyticsArea(new InMemoryLedgerStore())],
    serviceToken: SERVICE_TOKEN,
    analyticsAuthorizer: (event) => verdicts[event.headers!.Authorization!.replace('Bearer ', '')]!(event),
  }));

  it.each([
    ['a Deny', 'deny', ANALYTICS_GATEWAY_ANSWERS.accessDenied],
    ['an Allow for other methods only', 'allow-elsewhere', ANALYTICS_GATEWAY_ANSWERS.accessDenied],
    ['a context that is not flat', 'allow-nested-context', ANALYTICS_GATEWAY_ANSWERS.authorizerFailure],
    ['a failing authorizer', 'fail', ANALYTICS_GATEWAY_ANSWERS.authorizerFailure],
  ] as const)("answers %s with the gateway's own answer, in the API's error shape", async (_name, verdict, expected) => {
    const answer = await call(url(), '/v1/orgs/acme/echo/latest', { Authorization: `Bearer ${verdict}` });

    expect(answer.status).toBe(expected.statusCode);
    expect(answer.body).toEqual(JSON.parse(expected.body));
  });
});
