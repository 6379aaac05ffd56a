// API Gateway HTTP API (v2) events as a Lambda receives them, for tests and benchmarks (no vitest imports here).

import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

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
      ...(options.principal === false ? {} : { authorizer: { iam: { userArn: 'arn:aws:iam::000000000000:role/platform-backend' } } }),
    },
  } as APIGatewayProxyEventV2;
}

export function parseBody(result: { body?: string }): any {
  return JSON.parse(result.body ?? 'null');
}

/** A Lambda context whose function times out `budgetMs` from now. */
export function contextWithBudget(budgetMs: number): Context {
  const deadline = Date.now() + budgetMs;
  return { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) } as Context;
}
