// A local stand-in for API Gateway (HTTP API, payload v2): matches the route, authenticates the caller, turns the
// request into the event Lambda would get, and the handler's result back into a response.
// Two kinds of route exist only here, not on API Gateway: `GET /health` (no auth), and the runner's own /local routes
// (clock, manual job runs, published events; see local-routes.ts), behind the service token like every other route.

import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { ApiArea, LambdaHttpHandler } from '../api-routes';

/** API Gateway's own payload limit is 10 MB; the handlers enforce their much smaller limits themselves. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

interface CompiledRoute {
  readonly routeKey: string;
  readonly method: string;
  readonly pattern: RegExp;
  readonly parameterNames: readonly string[];
  readonly handler: LambdaHttpHandler;
  readonly functionName: string;
  /** A `public` area's route: served without credentials, and the event carries no authorizer, as on API Gateway. */
  readonly isPublic: boolean;
}

export interface LocalApiOptions {
  readonly areas: readonly ApiArea[];
  /** The bearer token that stands for the service principal's IAM identity. */
  readonly serviceToken: string;
  /** Whether the store answers: `GET /health` (local only, no auth) says 200 or 503, and the runner's pid. */
  readonly health?: () => Promise<boolean>;
  /** The runner's own routes (local only), served with the service token like the areas' routes. */
  readonly localRoutes?: LocalOnlyRoutes;
}

/** Routes of the local runner itself, and the one handler that serves them. */
export interface LocalOnlyRoutes {
  readonly routeKeys: readonly string[];
  readonly handler: LambdaHttpHandler;
}

/** The local runner's readiness route; API Gateway has no such route on AWS. */
export const HEALTH_PATH = '/health';

export function createLocalApi(options: LocalApiOptions): Server {
  // Only the service principal has a local stand-in so far; serving other routes with its token would hide that.
  const unsupported = options.areas.filter((area) => area.auth !== 'service' && area.auth !== 'public');
  if (unsupported.length > 0) {
    throw new Error(`The local gateway has no stand-in for ${unsupported.map((area) => `${area.auth} auth (${area.name})`).join(', ')} yet.`);
  }
  const servedAreas = options.areas.filter((area): area is ApiArea & { auth: 'service' | 'public' } => area.auth === 'service' || area.auth === 'public');
  const routes = [
    ...servedAreas.flatMap((area) => area.routeKeys.map((routeKey) => compileRoute(routeKey, area.handler, `cu-ledger-${area.name}`, area.auth === 'public'))),
    ...(options.localRoutes?.routeKeys ?? []).map((routeKey) => compileRoute(routeKey, options.localRoutes!.handler, 'cu-ledger-local', false)),
  ];
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
    const match = matchRoute(routes, method, url.pathname);
    if (!match) return send(response, 404, { error: { code: 'route_not_found', message: `No route ${method} ${url.pathname}.` } });
    const authorization = Buffer.from(request.headers.authorization ?? '');
    if (!match.route.isPublic && (authorization.length !== expectedToken.length || !timingSafeEqual(authorization, expectedToken))) {
      return send(response, 401, { error: { code: 'unauthorized', message: 'Send Authorization: Bearer <SERVICE_TOKEN>.' } });
    }
    const body = await readBody(request);
    if (body === undefined) return send(response, 413, { error: { code: 'payload_too_large', message: 'The request is too large.', field: 'body' } });
    const event = toEvent(request, url, match, body);
    const result = await match.route.handler(event, lambdaContext(match.route.functionName, event.requestContext.requestId));
    response.writeHead(result.statusCode ?? 200, { 'content-type': 'application/json', ...stringHeaders(result.headers) });
    response.end(result.body ?? '');
  }
}

function compileRoute(routeKey: string, handler: LambdaHttpHandler, functionName: string, isPublic: boolean): CompiledRoute {
  const [method, path] = routeKey.split(' ') as [string, string];
  const parameterNames: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      const parameter = /^\{(\w+)\}$/.exec(segment);
      if (!parameter) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      parameterNames.push(parameter[1]!);
      return '([^/]+)';
    })
    .join('/');
  return { routeKey, method, pattern: new RegExp(`^${source}$`), parameterNames, handler, functionName, isPublic };
}

function matchRoute(routes: readonly CompiledRoute[], method: string, path: string) {
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

function toEvent(
  request: IncomingMessage,
  url: URL,
  match: { route: CompiledRoute; pathParameters: Record<string, string> },
  body: string,
): APIGatewayProxyEventV2 {
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
      accountId: '000000000000',
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
    authorizer: { iam: { accessKey: 'local', accountId: '000000000000', callerId: 'local', principalOrgId: null, userArn: 'arn:aws:iam::000000000000:user/local-service', userId: 'local-service' } },
  });
  return event;
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

function stringHeaders(headers: Record<string, boolean | number | string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]));
}

function send(response: ServerResponse, statusCode: number, body: unknown): void {
  response.writeHead(statusCode, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
