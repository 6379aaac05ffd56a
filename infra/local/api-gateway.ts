// A local stand-in for API Gateway: matches the route, authenticates the caller, turns the request into the event
// Lambda would get, and the handler's result back into a response. Two gateways of AWS in one:
// - service areas, as the HTTP API (payload v2): the bearer SERVICE_TOKEN stands for IAM SigV4;
// - analytics areas, as the Analytics REST API (payload v1): the same authorizer handler as on AWS is called with a
//   REQUEST authorizer event for every request (no cache), and its refusals get the REST API's gateway responses;
//   an analytics area the service calls too (`serviceToo`) is served as the HTTP API when the service token comes,
//   as the credential picks the API behind the one custom domain on AWS.
// Routes that exist only here, not on API Gateway: `GET /health`, the public documents (the dev issuer's JWKS) and
// the public pages (the dev issuer's OIDC endpoints, see dev-oidc-provider.ts), all without a token, and the runner's own /local routes (see local-routes.ts), behind the service token.

import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type {
  APIGatewayEventIdentity,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import * as z from 'zod/mini';
import { ANALYTICS_GATEWAY_ANSWERS, type GatewayAnswer } from '../analytics-gateway-responses';
import type { ApiArea, LambdaHttpHandler, LambdaRequestAuthorizer, LambdaRestHandler } from '../api-routes';
import type { ResponseSink, StreamingHandler } from '../../shared/http/streaming';
import { UNAUTHORIZED } from '../../functions/auth/analytics-authorizer.handler';
import { decodeBasicCredentials, keyCredentialsOf } from '../../shared/domain/analytics-keys';

/** API Gateway's own payload limit is 10 MB; the handlers enforce their much smaller limits themselves. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const LOCAL_ACCOUNT = '000000000000';
/** The Analytics API's stage on AWS (infra/constructs/analytics-api.ts); it appears in method ARNs and paths. */
const ANALYTICS_STAGE = 'api';

/** How a route is served: as the HTTP API serves service routes, or as the Analytics REST API serves its routes. */
type RouteTarget =
  | { readonly kind: 'http'; readonly handler: LambdaHttpHandler }
  | { readonly kind: 'rest'; readonly handler: LambdaRestHandler }
  | { readonly kind: 'rest-stream'; readonly handler: StreamingHandler<APIGatewayProxyEvent> };

function targetOf(area: ApiArea): RouteTarget {
  if (area.auth !== 'analytics') return { kind: 'http', handler: area.handler };
  return area.streaming ? { kind: 'rest-stream', handler: area.handler } : { kind: 'rest', handler: area.handler };
}

/** The HTTP API's side of an analytics area the service calls too (`serviceToo`): the same handler, for the service. */
function serviceTargetOf(area: ApiArea): LambdaHttpHandler | undefined {
  return area.auth === 'analytics' && 'serviceToo' in area && area.serviceToo === true ? area.handler : undefined;
}

/**
 * Whether an Authorization header carries an Analytics API credential: a JWT (three dot-separated parts), or an
 * analytics key (`Basic` of `key:secret`, or `Bearer key:secret`). On a service route such a caller is someone, just
 * not the service: 403, as the HTTP API's IAM authorization answers on AWS (it never checks those credentials).
 */
function carriesAnalyticsCredential(authorization: string): boolean {
  const parts = /^(\S+) +(\S+)\s*$/.exec(authorization);
  const scheme = parts?.[1]?.toLowerCase();
  const value = parts?.[2] ?? '';
  if (scheme === 'basic') return keyCredentialsOf(decodeBasicCredentials(value) ?? '') !== undefined;
  if (scheme !== 'bearer') return false;
  return keyCredentialsOf(value) !== undefined || /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value);
}

interface CompiledRoute {
  readonly routeKey: string;
  readonly method: string;
  /** The route's path template, `resource` in a REST event. */
  readonly template: string;
  readonly pattern: RegExp;
  readonly parameterNames: readonly string[];
  readonly target: RouteTarget;
  /** An analytics route the service calls too: served as the HTTP API serves it when the service token comes. */
  readonly serviceTarget?: LambdaHttpHandler | undefined;
  readonly functionName: string;
  /** A `public` area's route: served without credentials, and the event carries no authorizer, as on API Gateway. */
  readonly isPublic: boolean;
}

interface RouteMatch {
  readonly route: CompiledRoute;
  readonly pathParameters: Record<string, string>;
}

export interface LocalApiOptions {
  readonly areas: readonly ApiArea[];
  /** The bearer token that stands for the service principal's IAM identity. */
  readonly serviceToken: string;
  /** The Analytics API's authorizer, as deployed; required once an area has `analytics` auth. */
  readonly analyticsAuthorizer?: LambdaRequestAuthorizer;
  /** Whether the store answers: `GET /health` (local only, no auth) says 200 or 503, and the runner's pid. */
  readonly health?: () => Promise<boolean>;
  /** The runner's own routes (local only), served with the service token like the areas' routes. */
  readonly localRoutes?: LocalOnlyRoutes;
  /** JSON documents served on GET without a token, by path (local only): the dev issuer's JWKS. */
  readonly publicDocuments?: Readonly<Record<string, unknown>>;
  /** Endpoints served without a token on their own terms: the dev issuer's OIDC sign-in (local only), the dashboard's files. */
  readonly publicPages?: readonly PublicPages[];
}

/** Paths served as they are, with their own status, headers and body: no gateway, no authorizer. */
export interface PublicPages {
  readonly paths: readonly string[];
  serve(request: { readonly method: string; readonly url: URL; readonly body: string }): Promise<{
    readonly statusCode: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
  }>;
}

/** Routes of the local runner itself, and the one handler that serves them. */
export interface LocalOnlyRoutes {
  readonly routeKeys: readonly string[];
  readonly handler: LambdaHttpHandler;
}

/** The local runner's readiness route; API Gateway has no such route on AWS. */
export const HEALTH_PATH = '/health';

export function createLocalApi(options: LocalApiOptions): Server {
  // People's JWTs on the HTTP API have no stand-in yet; serving those routes with the service token would hide that.
  const unsupported = options.areas.filter((area) => area.auth === 'human');
  if (unsupported.length > 0) {
    throw new Error(`The local gateway has no stand-in for ${unsupported.map((area) => `${area.auth} auth (${area.name})`).join(', ')} yet.`);
  }
  const authorizer = options.analyticsAuthorizer;
  if (!authorizer && options.areas.some((area) => area.auth === 'analytics')) {
    throw new Error('Analytics areas need the analytics authorizer (analyticsAuthorizer), as the Analytics API has it on AWS.');
  }
  const routes = bySpecificity([
    ...options.areas.flatMap((area) =>
      area.routeKeys.map((routeKey) =>
        compileRoute(routeKey, targetOf(area), `cu-ledger-${area.name}`, area.auth === 'public', serviceTargetOf(area)),
      ),
    ),
    ...(options.localRoutes?.routeKeys ?? []).map((routeKey) => compileRoute(routeKey, { kind: 'http', handler: options.localRoutes!.handler }, 'cu-ledger-local', false)),
  ]);
  const expectedToken = Buffer.from(`Bearer ${options.serviceToken}`);
  return createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      console.error(JSON.stringify({ level: 'error', message: 'local gateway failure', errorName: (error as Error).name }));
      if (!response.headersSent) send(response, 500, { error: { code: 'internal_error', message: 'The local gateway failed.' } });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    if (method === 'GET' && url.pathname === HEALTH_PATH && options.health) {
      const healthy = await options.health();
      return send(response, healthy ? 200 : 503, { status: healthy ? 'ok' : 'unavailable', dynamoDb: healthy ? 'ok' : 'unreachable', pid: process.pid });
    }
    if (method === 'GET' && options.publicDocuments && Object.hasOwn(options.publicDocuments, url.pathname)) {
      return send(response, 200, options.publicDocuments[url.pathname]);
    }
    const pages = options.publicPages?.find((one) => one.paths.includes(url.pathname));
    if (pages) {
      const body = await readBody(request);
      if (body === undefined) return send(response, 413, { error: { code: 'payload_too_large', message: 'The request is too large.', field: 'body' } });
      const page = await pages.serve({ method, url, body });
      response.writeHead(page.statusCode, { ...page.headers });
      return void response.end(page.body);
    }
    const match = matchRoute(routes, method, url.pathname);
    if (!match) return send(response, 404, { error: { code: 'route_not_found', message: `No route ${method} ${url.pathname}.` } });
    const authorization = Buffer.from(request.headers.authorization ?? '');
    const isService = authorization.length === expectedToken.length && timingSafeEqual(authorization, expectedToken);
    const { target, serviceTarget } = match.route;
    // An analytics route: the Analytics API with its authorizer, unless the service calls one it may (the HTTP API).
    if (target.kind !== 'http' && !(serviceTarget && isService)) return serveRest(request, response, url, match, target, authorizer!);
    if (!match.route.isPublic && !isService) {
      if (carriesAnalyticsCredential(request.headers.authorization ?? '')) {
        return send(response, 403, { error: { code: 'forbidden', message: 'This route is for the service principal (IAM on AWS, SERVICE_TOKEN here). Analytics keys read GET /v1/usage* and GET /v1/activity on the Analytics API.' } });
      }
      return send(response, 401, { error: { code: 'unauthorized', message: 'Send Authorization: Bearer <SERVICE_TOKEN>.' } });
    }
    const body = await readBody(request);
    if (body === undefined) return send(response, 413, { error: { code: 'payload_too_large', message: 'The request is too large.', field: 'body' } });
    const event = toHttpEvent(request, url, match, body);
    const handler = target.kind === 'http' ? target.handler : serviceTarget!;
    writeResult(response, await handler(event, lambdaContext(match.route.functionName, event.requestContext.requestId)));
  }
}

/** An analytics route as the REST API serves it: the authorizer first, then the handler with its verdict. */
async function serveRest(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  match: RouteMatch,
  target: Exclude<RouteTarget, { kind: 'http' }>,
  authorizer: LambdaRequestAuthorizer,
): Promise<void> {
  // The identity source is the Authorization header: without it API Gateway answers 401 and never asks the authorizer.
  if (!request.headers.authorization) return sendAnswer(response, ANALYTICS_GATEWAY_ANSWERS.unauthorized);
  const body = await readBody(request);
  if (body === undefined) return send(response, 413, { error: { code: 'payload_too_large', message: 'The request is too large.', field: 'body' } });
  const event = toRestEvent(request, url, match, body);
  const methodArn = `arn:aws:execute-api:local:${LOCAL_ACCOUNT}:${event.requestContext.apiId}/${ANALYTICS_STAGE}/${event.httpMethod}${url.pathname}`;
  let verdict: Verdict;
  try {
    verdict = decide(await authorizer(toAuthorizerEvent(event, methodArn)), methodArn);
  } catch (error) {
    if ((error as Error | undefined)?.message === UNAUTHORIZED) return sendAnswer(response, ANALYTICS_GATEWAY_ANSWERS.unauthorized);
    console.error(JSON.stringify({ level: 'error', message: 'local gateway: the analytics authorizer failed', errorName: (error as Error | undefined)?.name }));
    return sendAnswer(response, ANALYTICS_GATEWAY_ANSWERS.authorizerFailure);
  }
  if (verdict.effect !== 'allow') {
    return sendAnswer(response, verdict.effect === 'deny' ? ANALYTICS_GATEWAY_ANSWERS.accessDenied : ANALYTICS_GATEWAY_ANSWERS.authorizerFailure);
  }
  // API Gateway hands the context on as strings, with the principal id (and the authorizer's latency) beside it.
  event.requestContext.authorizer = { ...verdict.context, principalId: verdict.principalId, integrationLatency: 0 };
  const context = lambdaContext(match.route.functionName, event.requestContext.requestId);
  if (target.kind === 'rest') return writeResult(response, await target.handler(event, context));
  await target.handler(event, responseSink(response), context);
}

/** A streamed answer as a chunked HTTP response; a broken-off one is a destroyed socket, as the client would see it on AWS. */
function responseSink(response: ServerResponse): ResponseSink {
  return {
    start: (statusCode, headers) => void response.writeHead(statusCode, { ...headers }),
    write: (chunk) => new Promise((resolve) => (response.write(chunk) ? resolve() : response.once('drain', () => resolve()))),
    end: () => void response.end(),
    abort: () => void response.destroy(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The authorizer's answer, judged as API Gateway judges it
// ---------------------------------------------------------------------------------------------------------------

const oneOrMany = z.union([z.string(), z.array(z.string())]);
const authorizerResult = z.looseObject({
  principalId: z.string(),
  policyDocument: z.looseObject({
    Statement: z.array(z.looseObject({ Effect: z.enum(['Allow', 'Deny']), Action: oneOrMany, Resource: oneOrMany })),
  }),
  // Only flat values: API Gateway fails the request for an object or array in the context.
  context: z.optional(z.nullable(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])))),
});

type Verdict =
  | { readonly effect: 'allow'; readonly principalId: string; readonly context: Record<string, string> }
  | { readonly effect: 'deny' | 'invalid' };

/** Allowed when an Allow statement covers the method and no Deny does; a malformed answer is the authorizer's failure. */
function decide(answer: unknown, methodArn: string): Verdict {
  const parsed = authorizerResult.safeParse(answer);
  if (!parsed.success) return { effect: 'invalid' };
  const covering = parsed.data.policyDocument.Statement.filter(
    (statement) => [statement.Action].flat().some((action) => wildcard(action).test('execute-api:Invoke')) && [statement.Resource].flat().some((resource) => wildcard(resource).test(methodArn)),
  );
  if (covering.some((statement) => statement.Effect === 'Deny') || !covering.some((statement) => statement.Effect === 'Allow')) return { effect: 'deny' };
  const context = Object.fromEntries(Object.entries(parsed.data.context ?? {}).map(([name, value]) => [name, String(value)]));
  return { effect: 'allow', principalId: parsed.data.principalId, context };
}

/** An IAM pattern: `*` any run of characters, `?` any one. */
function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`);
}

// ---------------------------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------------------------

function compileRoute(routeKey: string, target: RouteTarget, functionName: string, isPublic: boolean, serviceTarget?: LambdaHttpHandler): CompiledRoute {
  const [method, template] = routeKey.split(' ') as [string, string];
  const parameterNames: string[] = [];
  const source = template
    .split('/')
    .map((segment) => {
      const parameter = /^\{(\w+)\}$/.exec(segment);
      if (!parameter) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      parameterNames.push(parameter[1]!);
      return '([^/]+)';
    })
    .join('/');
  return { routeKey, method, template, pattern: new RegExp(`^${source}$`), parameterNames, target, serviceTarget, functionName, isPublic };
}

/** As API Gateway picks: a literal segment wins over a path parameter at the same place (`/usage/daily` over `/usage/{id}`). */
function bySpecificity(routes: CompiledRoute[]): CompiledRoute[] {
  const shape = (route: CompiledRoute) => route.template.split('/').map((segment) => (segment.startsWith('{') ? '1' : '0')).join('');
  return routes.sort((a, b) => shape(a).localeCompare(shape(b)));
}

function matchRoute(routes: readonly CompiledRoute[], method: string, path: string): RouteMatch | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const found = route.pattern.exec(path);
    if (!found) continue;
    const pathParameters: Record<string, string> = {};
    route.parameterNames.forEach((name, index) => (pathParameters[name] = decodePathSegment(found[index + 1]!)));
    return { route, pathParameters };
  }
  return undefined;
}

/** Like API Gateway, a segment that is not valid percent-encoding is passed on as it came; the handler refuses it. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------------------------

/** The HTTP API's payload v2, with what its IAM authorization adds once the SigV4 signature checked out. */
function toHttpEvent(request: IncomingMessage, url: URL, match: RouteMatch, body: string): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    queryStringParameters[name] = name in queryStringParameters ? `${queryStringParameters[name]},${value}` : value;
  }
  const now = new Date();
  const requestId = randomUUID();
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: match.route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search ? { queryStringParameters } : {}),
    ...(match.route.parameterNames.length ? { pathParameters: match.pathParameters } : {}),
    ...(body ? { body } : {}),
    isBase64Encoded: false,
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: match.route.routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
  if (match.route.isPublic) return event;
  // What API Gateway's IAM authorization hands the Lambda once the SigV4 signature checked out.
  Object.assign(event.requestContext, {
    authorizer: { iam: { accessKey: 'local', accountId: LOCAL_ACCOUNT, callerId: 'local', principalOrgId: null, userArn: 'arn:aws:iam::000000000000:user/local-service', userId: 'local-service' } },
  });
  return event;
}

/**
 * The REST API's payload v1, before the authorizer's verdict is added: every value of a repeated header or query
 * parameter in the `multiValue…` maps, the last one in the single-value maps, header names as the client sent them.
 */
function toRestEvent(request: IncomingMessage, url: URL, match: RouteMatch, body: string): APIGatewayProxyEvent {
  const multiValueHeaders: Record<string, string[]> = {};
  const headerNames = new Map<string, string>();
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    const sent = request.rawHeaders[index]!;
    const name = headerNames.get(sent.toLowerCase()) ?? sent;
    headerNames.set(sent.toLowerCase(), name);
    (multiValueHeaders[name] ??= []).push(request.rawHeaders[index + 1]!);
  }
  const multiValueQueryStringParameters: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) (multiValueQueryStringParameters[name] ??= []).push(value);
  const lastOf = (values: Record<string, string[]>) => Object.fromEntries(Object.entries(values).map(([name, list]) => [name, list.at(-1)!]));
  const hasQuery = Object.keys(multiValueQueryStringParameters).length > 0;
  const headers = lastOf(multiValueHeaders);
  const method = request.method ?? 'GET';
  const now = new Date();
  const requestId = randomUUID();
  const identity: APIGatewayEventIdentity = {
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
    user: null,
    userAgent: request.headers['user-agent'] ?? null,
    userArn: null,
  };
  return {
    resource: match.route.template,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? lastOf(multiValueQueryStringParameters) : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQueryStringParameters : null,
    pathParameters: match.route.parameterNames.length ? match.pathParameters : null,
    stageVariables: null,
    body: body || null,
    isBase64Encoded: false,
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: 'local',
      authorizer: undefined,
      domainName: request.headers.host ?? 'localhost',
      domainPrefix: 'local',
      extendedRequestId: requestId,
      httpMethod: method,
      identity,
      path: `/${ANALYTICS_STAGE}${url.pathname}`,
      protocol: `HTTP/${request.httpVersion}`,
      requestId,
      requestTime: restRequestTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: 'local',
      resourcePath: match.route.template,
      stage: ANALYTICS_STAGE,
    },
  };
}

/** What a REQUEST authorizer gets: the request as the handler will see it, without its body. */
function toAuthorizerEvent(event: APIGatewayProxyEvent, methodArn: string): APIGatewayRequestAuthorizerEvent {
  const { body: _body, isBase64Encoded: _isBase64Encoded, requestContext, ...request } = event;
  return { ...request, type: 'REQUEST', methodArn, requestContext: { ...requestContext, authorizer: undefined } };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestTime` as the REST API writes it: `09/Apr/2026:12:34:56 +0000`. */
function restRequestTime(at: Date): string {
  const two = (value: number) => String(value).padStart(2, '0');
  return `${two(at.getUTCDate())}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()}:${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())} +0000`;
}

/** The context a Lambda invocation gets; enough for middy and the handlers. */
export function lambdaContext(functionName = 'cu-ledger-local', awsRequestId: string = randomUUID()): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------------

/**
 * A handler's result as API Gateway sends it: its status, its headers (JSON unless it names another type; a REST
 * result's multi-value headers take the place of single ones of the same name) and its body, decoded when base64.
 */
function writeResult(response: ServerResponse, result: APIGatewayProxyResult | APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  const multiValueHeaders = 'multiValueHeaders' in result ? (result.multiValueHeaders ?? {}) : {};
  for (const [name, values] of Object.entries(multiValueHeaders)) headers[name.toLowerCase()] = values.map(String);
  const body = result.body ?? '';
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}

function sendAnswer(response: ServerResponse, answer: GatewayAnswer): void {
  response.writeHead(answer.statusCode, { 'content-type': 'application/json', ...answer.headers });
  response.end(answer.body);
}

function send(response: ServerResponse, statusCode: number, body: unknown): void {
  response.writeHead(statusCode, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
