// The middy stack every area Lambda shares: resolve the caller and dispatch on the API Gateway route key, map
// errors once, and answer before Lambda's own timeout would.

import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { StoreUnavailableError, routeNotFound } from '../domain/errors';
import { errorResponse } from './error-response';
import { requirePrincipal, type GatewayEvent } from './principal';
import { routeKeyOf, type Routes } from './routes';

export type { RouteHandler, Routes } from './routes';

/**
 * How long before the function's timeout a request still in progress is answered with 503 store_unavailable.
 * Only waiting on DynamoDB (retries against a hung or throttled store) takes that long, and a timed-out Lambda
 * would reach the caller as a bare 500 instead.
 */
export const ANSWER_BEFORE_TIMEOUT_MS = 500;

/**
 * Wraps an area's routes as one Lambda handler. `deps` is called per request with middy's abort signal, which
 * fires when the request is answered early: the store calls still in flight for it end there.
 */
export function areaHandler<Deps, Event extends GatewayEvent = APIGatewayProxyEventV2>(routes: Routes<Deps, Event>, deps: (signal: AbortSignal) => Deps) {
  return middy<Event, APIGatewayProxyStructuredResultV2>({
    timeoutEarlyInMillis: ANSWER_BEFORE_TIMEOUT_MS,
    timeoutEarlyResponse: () => {
      throw new StoreUnavailableError('The ledger did not answer in time. Retry; a consume or refund retried with the same requestId is charged at most once.');
    },
  })
    .use({ onError: (request) => void (request.response = errorResponse(request.error)) })
    .handler(async (event, _context, { signal }) => {
      const route = routes[routeKeyOf(event)];
      if (!route) throw routeNotFound(routeKeyOf(event));
      const principal = requirePrincipal(event, route.accepts);
      return route.handle(event, deps(signal), principal);
    });
}
