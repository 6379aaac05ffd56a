// Routes that people and analytics keys read through: the caller is resolved to what it may read of its org (a
// read scope) before the route runs, so no route handler decides access by hand.

import type { APIGatewayProxyEvent, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { keyMayCall } from '../../shared/domain/analytics-keys';
import { forbidden } from '../../shared/domain/errors';
import type { ReadScope } from '../../shared/domain/permissions';
import type { Route, RouteDoc } from '../../shared/http/routes';
import type { AdminStore } from '../../shared/ports/admin-store';
import { resolveReader } from '../../shared/use-cases/reader-access';
import { pathParameters } from '../../shared/http/request';
import { orgPath } from '../org-admin-access';

export type ReaderRouteHandler<Deps, Answer = APIGatewayProxyStructuredResultV2> = (event: APIGatewayProxyEvent, deps: Deps, reader: ReadScope) => Promise<Answer>;

/** A read-only route for an org's admins (by their member record) and its analytics keys; everyone else gets 403. */
export function readerRoute<Deps extends { readonly store: Pick<AdminStore, 'getScope'> }, Answer = APIGatewayProxyStructuredResultV2>(
  handle: ReaderRouteHandler<Deps, Answer>,
  doc: RouteDoc,
): Route<Deps, APIGatewayProxyEvent, Answer> {
  return {
    accepts: ['person', 'analytics_key'],
    handle: async (event, deps, principal) => {
      // The authorizer's policy lets a key reach the read routes only; checked here again, from the same rule.
      if (principal?.kind === 'analytics_key' && !keyMayCall(event.httpMethod, event.resource)) throw forbidden();
      return handle(event, deps, await resolveReader(principal!, deps));
    },
    doc,
  };
}

/**
 * A read route under `/v1/orgs/{orgId}` for people: a reader route whose path must name the person's own org (another
 * org: 403). Analytics keys read the usage routes only; no key pattern covers these paths.
 */
export function orgReaderRoute<Deps extends { readonly store: Pick<AdminStore, 'getScope'> }, Answer = APIGatewayProxyStructuredResultV2>(
  handle: ReaderRouteHandler<Deps, Answer>,
  doc: RouteDoc,
): Route<Deps, APIGatewayProxyEvent, Answer> {
  const route = readerRoute<Deps, Answer>(async (event, deps, reader) => {
    const { orgId } = pathParameters(event, orgPath);
    if (orgId !== reader.orgId) throw forbidden();
    return handle(event, deps, reader);
  }, doc);
  return { ...route, accepts: ['person'] };
}
