// The analytics Lambda: what an org's admins (with a person's JWT) and its analytics keys read, on the REST API
// behind the analytics authorizer: usage totals, series, breakdowns, the events table, the activity feed, and the org's
// members, projects and API keys with their usage bars.

import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ledgerDependencies, type LedgerDependencies } from '../../shared/composition';
import { areaHandler, type Routes } from '../../shared/http/lambda';
import { activityRoutes } from './activity-routes';
import { orgListingRoutes } from './org-listing-routes';
import { usageRoutes } from './usage-routes';

export const analyticsRoutes: Routes<LedgerDependencies, APIGatewayProxyEvent> = {
  ...usageRoutes,
  ...activityRoutes,
  ...orgListingRoutes,
};

export const handler = areaHandler(analyticsRoutes, ledgerDependencies);
