// The org's members, projects and API keys with their usage bars for the current period (seed 001), for people on
// the Analytics API: the same rows as the service's admin listing, paged as it pages. An org admin sees every row; a
// project admin the projects they administer and those projects' keys (members: 403); anyone else: 403.

import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import type { LedgerDependencies } from '../../shared/composition';
import type { ReadScope } from '../../shared/domain/permissions';
import { jsonResponse } from '../../shared/http/error-response';
import type { Routes } from '../../shared/http/routes';
import { pageOf, pageQuery } from '../../shared/http/schemas';
import { scopeAnswer, scopeRow } from '../../shared/http/scope-rows';
import type { ScopeKind } from '../../shared/ports/ledger-records';
import { listReadableScopes } from '../../shared/use-cases/usage-views';
import { orgPath } from '../org-admin-access';
import { orgReaderRoute } from './reader-route';
import { readQuery } from './usage-query';

/** Each listing's path under `/v1/orgs/{orgId}/usage/` (its CSV download adds `.csv`), and what it lists. */
export const ORG_LISTINGS: readonly { readonly path: string; readonly kind: ScopeKind; readonly what: string }[] = [
  { path: 'members', kind: 'member', what: "The org's members (org admins only)" },
  { path: 'projects', kind: 'project', what: "The org's projects (a project admin: theirs)" },
  { path: 'api-keys', kind: 'api_key', what: "The org's API keys (a project admin: their projects' keys)" },
];

function listingRoute(kind: ScopeKind) {
  return async (event: APIGatewayProxyEvent, deps: LedgerDependencies, reader: ReadScope) => {
    const page = readQuery(event, pageQuery);
    const result = await listReadableScopes(reader, kind, { limit: page.limit, cursor: page.cursor ?? null }, deps);
    return jsonResponse(200, { items: result.items.map(scopeRow), nextCursor: result.nextCursor });
  };
}

export const orgListingRoutes: Routes<LedgerDependencies, APIGatewayProxyEvent> = Object.fromEntries(
  ORG_LISTINGS.map(({ path, kind, what }) => [
    `GET /v1/orgs/{orgId}/usage/${path}`,
    orgReaderRoute(listingRoute(kind), {
      summary: `${what} with their usage bars this period: used / cap CU, amber from 80 %, red at 100 %; a page may hold fewer rows than limit`,
      path: orgPath,
      query: pageQuery,
      response: pageOf(scopeAnswer),
    }),
  ]),
);
