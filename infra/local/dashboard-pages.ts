// The usage dashboard on the local runner: the same page and assets the dashboard Lambda serves on AWS, signed in
// against the dev issuer's OIDC endpoints (the runner's own origin, so the page needs no CORS).

import { DASHBOARD_PATHS, servePage, type DashboardAssets } from '../../functions/dashboard/dashboard-page';
import type { PublicPages } from './api-gateway';
import { DASHBOARD_CLIENT_ID, DEV_OIDC_BASE_PATH } from './dev-oidc-provider';

export const DASHBOARD_PATH = '/dashboard';

export function dashboardPages(options: { readonly assets: DashboardAssets; readonly origin: () => string; readonly orgClaim: string }): PublicPages {
  return {
    paths: DASHBOARD_PATHS,
    async serve({ method, url }) {
      const settings = { issuer: `${options.origin()}${DEV_OIDC_BASE_PATH}`, clientId: DASHBOARD_CLIENT_ID, scope: 'openid', audience: '', orgClaim: options.orgClaim };
      const answer = servePage({ method, path: url.pathname, base: '' }, options.assets, settings);
      return method === 'HEAD' ? { ...answer, body: '' } : answer;
    },
  };
}
