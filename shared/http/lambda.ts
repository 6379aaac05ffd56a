// The middy stack every area Lambda shares: dispatch on the API Gateway route key, map errors once.

import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { RouteNotFoundError } from '../domain/errors';
import { errorResponse } from './error-response';

export type RouteHandler<Deps> = (event: APIGatewayProxyEventV2, deps: Deps) => Promise<APIGatewayProxyStructuredResultV2>;
export type Routes<Deps> = Readonly<Record<string, RouteHandler<Deps>>>;

/** Wraps an area's routes as one Lambda handler; `deps` is built once per process, on first use. */
export function areaHandler<Deps>(routes: Routes<Deps>, deps: () => Deps) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use({ onError: (request) => void (request.response = errorResponse(request.error)) })
    .handler(async (event) => {
      const route = routes[event.routeKey];
      if (!route) throw new RouteNotFoundError(`No route ${event.routeKey}.`);
      return route(event, deps());
    });
}
