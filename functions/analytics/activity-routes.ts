// GET /v1/activity: the org's activity feed (seed 000), the audit trail of every consume and refund, every change to
// plans, caps, projects, members and keys, and the platform's own actions, for the org's admins and analytics keys,
// as far as each may see.

import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import type { LedgerDependencies } from '../../shared/composition';
import type { ReadScope } from '../../shared/domain/permissions';
import { jsonResponse } from '../../shared/http/error-response';
import { feedRow } from '../../shared/http/log-rows';
import type { Routes } from '../../shared/http/routes';
import { readActivityFeed } from '../../shared/use-cases/activity';
import { readerRoute } from './reader-route';
import { filterInput, filterParameters, pageParameters, readQuery } from './usage-query';

const { startDate, endDate, teamId, projectId, userId } = filterParameters;
/** The feed's filters: dates, the org alias, projects and users (repeatable); then the page. */
const activityQuery = z.strictObject({ startDate, endDate, teamId, projectId, userId, ...pageParameters });

export async function activityFeedRoute(event: APIGatewayProxyEvent, deps: LedgerDependencies, reader: ReadScope) {
  const query = readQuery(event, activityQuery);
  const page = await readActivityFeed(reader, { filters: filterInput(query), limit: query.limit, cursor: query.cursor ?? null }, deps);
  return jsonResponse(200, { items: page.items.map(feedRow), nextCursor: page.nextCursor });
}

export const activityRoutes: Routes<LedgerDependencies, APIGatewayProxyEvent> = {
  'GET /v1/activity': readerRoute(activityFeedRoute, {
    summary:
      "The org's activity feed, newest first: consumes, refunds, plan, cap, project, member and key changes with who made them, and the platform's actions; filtered by dates, projects and users, a page at a time (nextCursor)",
    query: activityQuery,
  }),
};
