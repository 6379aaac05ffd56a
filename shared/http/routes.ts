// A route: the principals it accepts and the function that serves it. The shared handler (lambda.ts) resolves the
// caller before dispatch and refuses anyone the route does not accept, so no route handler checks it by hand.

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Principal, PrincipalKind } from '../domain/permissions';

export type RouteHandler<Deps> = (event: APIGatewayProxyEventV2, deps: Deps, principal?: Principal) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Route<Deps> {
  readonly accepts: readonly PrincipalKind[];
  readonly handle: RouteHandler<Deps>;
}

export type Routes<Deps> = Readonly<Record<string, Route<Deps>>>;

/** A route only the platform's backend may call: every route today. */
export function serviceRoute<Deps>(handle: RouteHandler<Deps>): Route<Deps> {
  return { accepts: ['service'], handle };
}
