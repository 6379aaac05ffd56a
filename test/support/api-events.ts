// API Gateway events as a Lambda receives them, for tests and benchmarks (no vitest imports here): HTTP API (v2)
// events for the service's routes, REST API (v1) events for the readers' (analytics) routes.

import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';

/** The event API Gateway hands a Lambda for a service-principal call (IAM already verified). */
export function serviceEvent(
  routeKey: string,
  options: {
    body?: unknown;
    rawBody?: string;
    pathParameters?: Record<string, string>;
    query?: Record<string, string>;
    headers?: Record<string, string>;
    principal?: boolean;
    /** The IAM identity the gateway verified: an STS assumed-role ARN on AWS. */
    callerArn?: string;
  } = {},
): APIGatewayProxyEventV2 {
  const [method, path] = routeKey.split(' ') as [string, string];
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'test',
      domainPrefix: 'test',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      ...(options.principal === false ? {} : { authorizer: { iam: { userArn: options.callerArn ?? 'arn:aws:iam::000000000000:role/platform-backend' } } }),
    },
  } as APIGatewayProxyEventV2;
}

/** Who reads through the analytics routes: a signed-in person of an org, or the org's analytics key. */
export type Reader = { readonly orgId: string; readonly userId: string } | { readonly orgId: string; readonly keyId: string };

/**
 * The event the REST API hands a Lambda for a reader's call (payload v1), once its authorizer verified the caller:
 * `routeKey` is `METHOD /resource`; a query parameter given as a list repeats (`?projectId=a&projectId=b`), in
 * `multiValueQueryStringParameters` as API Gateway lists it (and its last value in `queryStringParameters`).
 */
export function readerEvent(
  routeKey: string,
  reader: Reader,
  options: { query?: Record<string, string | readonly string[] | undefined>; pathParameters?: Record<string, string>; body?: unknown } = {},
): APIGatewayProxyEvent {
  const [method, resource] = routeKey.split(' ') as [string, string];
  const path = Object.entries(options.pathParameters ?? {}).reduce((built, [name, value]) => built.replace(`{${name}}`, encodeURIComponent(value)), resource);
  const given = Object.entries(options.query ?? {}).filter((entry): entry is [string, string | readonly string[]] => entry[1] !== undefined);
  const lists = Object.fromEntries(given.map(([name, value]) => [name, typeof value === 'string' ? [value] : [...value]]));
  const hasQuery = Object.keys(lists).length > 0;
  const authorizer = 'userId' in reader
    ? { principalKind: 'person', orgId: reader.orgId, userId: reader.userId, principalId: reader.userId }
    : { orgId: reader.orgId, keyId: reader.keyId, principalId: reader.keyId };
  return {
    resource,
    path,
    httpMethod: method,
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: hasQuery ? Object.fromEntries(Object.entries(lists).map(([name, values]) => [name, values.at(-1) ?? ''])) : null,
    multiValueQueryStringParameters: hasQuery ? lists : null,
    pathParameters: options.pathParameters ?? null,
    stageVariables: null,
    body: options.body === undefined ? null : JSON.stringify(options.body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      authorizer,
      httpMethod: method,
      identity: { userArn: null, sourceIp: '127.0.0.1', userAgent: 'vitest' },
      path,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'test',
      resourcePath: resource,
      stage: 'v1',
    },
  } as unknown as APIGatewayProxyEvent;
}

export function parseBody(result: { body?: string }): any {
  return JSON.parse(result.body ?? 'null');
}

/** A Lambda context whose function times out `budgetMs` from now. */
export function contextWithBudget(budgetMs: number): Context {
  const deadline = Date.now() + budgetMs;
  return { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) } as Context;
}

/** What the Analytics API's REQUEST authorizer gets for `GET /v1/usage` with this Authorization header (or none). */
export function authorizerEvent(authorization: string | undefined, options: { methodArn: string; headerName?: string }): APIGatewayRequestAuthorizerEvent {
  const headerName = options.headerName ?? 'Authorization';
  return {
    type: 'REQUEST',
    methodArn: options.methodArn,
    resource: '/v1/usage',
    path: '/v1/usage',
    httpMethod: 'GET',
    headers: authorization === undefined ? {} : { [headerName]: authorization },
    multiValueHeaders: authorization === undefined ? {} : { [headerName]: [authorization] },
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
  } as unknown as APIGatewayRequestAuthorizerEvent;
}
