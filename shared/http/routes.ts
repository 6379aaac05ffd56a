// A route: the principals it accepts, the function that serves it, and what the OpenAPI document says of it. The
// shared handler (lambda.ts) resolves the caller before dispatch and refuses anyone the route does not accept, so no
// route handler checks it by hand.

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod/mini';
import type { Principal, PrincipalKind } from '../domain/permissions';
import { routeNotFound } from '../domain/errors';
import type { ServiceCallers } from '../domain/service-callers';
import { requirePrincipal, type GatewayEvent } from './principal';

/**
 * HTTP API areas get payload v2 events; a REST API area (the Analytics API) gets payload v1 events. A route answers
 * a whole response, or (a streaming area's) one whose body streams (`StreamedAnswer`, shared/http/streaming.ts).
 */
export type RouteHandler<Deps, Event extends GatewayEvent = APIGatewayProxyEventV2, Answer = APIGatewayProxyStructuredResultV2> = (
  event: Event,
  deps: Deps,
  principal?: Principal,
) => Promise<Answer>;

/**
 * What the OpenAPI document says of a route, from the same zod schemas the route validates with (object schemas for
 * `path` and `query`: each property is a parameter). Required on every route, so a route nobody described fails the
 * type-check.
 */
export interface RouteDoc {
  readonly summary: string;
  readonly path?: z.ZodMiniType;
  readonly query?: z.ZodMiniType;
  readonly body?: z.ZodMiniType;
  /** The success answer's shape, where a schema describes it. */
  readonly response?: z.ZodMiniType;
  /** The success statuses, where not just 200 (a top-up: 201 when it adds the batch, 200 on a replay). */
  readonly statuses?: readonly number[];
}

/** `anyone`: a route that holds no data and asks for no credentials (the OpenAPI document); otherwise the principals let in. */
export type RouteAccess = readonly PrincipalKind[] | 'anyone';

export interface Route<Deps, Event extends GatewayEvent = APIGatewayProxyEventV2, Answer = APIGatewayProxyStructuredResultV2> {
  readonly accepts: RouteAccess;
  readonly handle: RouteHandler<Deps, Event, Answer>;
  readonly doc: RouteDoc;
}

export type Routes<Deps, Event extends GatewayEvent = APIGatewayProxyEventV2, Answer = APIGatewayProxyStructuredResultV2> = Readonly<Record<string, Route<Deps, Event, Answer>>>;

/** A route only the platform's backend may call. Routes for people and analytics keys resolve what the caller may read (`readerRoute`). */
export function serviceRoute<Deps>(handle: RouteHandler<Deps>, doc: RouteDoc): Route<Deps> {
  return { accepts: ['service'], handle, doc };
}

/**
 * A route for the service and for people (org admins on the Analytics API): the route checks the person's role
 * itself; analytics keys get 403.
 */
export function serviceOrPersonRoute<Deps, Event extends GatewayEvent>(handle: RouteHandler<Deps, Event>, doc: RouteDoc): Route<Deps, Event> {
  return { accepts: ['service', 'person'], handle, doc };
}

/**
 * A people's admin write on the Analytics API: signed-in people only, and the route's rule decides from the person's
 * member record. Analytics keys only read: the authorizer's key policy keeps them off it, and it refuses one anyway.
 */
export function personAdminRoute<Deps, Event extends GatewayEvent>(handle: RouteHandler<Deps, Event>, doc: RouteDoc): Route<Deps, Event> {
  return { accepts: ['person'], handle, doc };
}

/** A route anyone may call, without credentials: only for what holds no data. */
export function publicRoute<Deps>(handle: RouteHandler<Deps>, doc: RouteDoc): Route<Deps> {
  return { accepts: 'anyone', handle, doc };
}

/**
 * The route the event is for and its verified caller: 404 for a route not declared, 401 for a caller it does not
 * accept, 403 for an IAM caller not among `serviceCallers`.
 */
export function dispatch<Deps, Event extends GatewayEvent, Answer>(
  routes: Routes<Deps, Event, Answer>,
  event: Event,
  serviceCallers: ServiceCallers,
): { route: Route<Deps, Event, Answer>; principal: Principal | undefined } {
  const route = routes[routeKeyOf(event)];
  if (!route) throw routeNotFound(routeKeyOf(event));
  return { route, principal: route.accepts === 'anyone' ? undefined : requirePrincipal(event, route.accepts, serviceCallers) };
}

/** The key a route is declared under: the HTTP API's `routeKey`, or `METHOD /resource` for a REST API event. */
export function routeKeyOf(event: GatewayEvent): string {
  return 'routeKey' in event ? event.routeKey : `${event.httpMethod} ${event.resource}`;
}
