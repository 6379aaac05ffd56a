// The usage dashboard on the local runner: the same page and assets the dashboard Lambda serves on AWS, signed in
// against the dev issuer's OIDC endpoints (the runner's own origin, so the page needs no CORS).

import { DASHBOARD_PATHS, servePage, type DashboardAssets } from '../../functions/dashboard/dashboard-page';
import type { PublicPages } from './api-gateway';
import { DASHBOARD_CLIENT_ID, DEV_OIDC_BASE_PATH } from './dev-oidc-provider';

export const DASHBOARD_PATH = '/dashboard';

/** `build` runs once, at the first request for the dashboard (about a second): a runner nobody opens it on never pays. */
export function dashboardPages(options: { readonly build: () => Promise<DashboardAssets>; readonly origin: () => string; readonly orgClaim: string }): PublicPages {
  let built: Promise<DashboardAssets> | undefined;
  return {
    paths: DASHBOARD_PATHS,
    async serve({ method, url }) {
      built ??= options.build().catch((error: unknown) => {
        built = undefined;
        throw error;
      });
      const settings = { issuer: `${options.origin()}${DEV_OIDC_BASE_PATH}`, clientId: DASHBOARD_CLIENT_ID, scope: 'openid', audience: '', orgClaim: options.orgClaim };
      const answer = servePage({ method, path: url.pathname, base: '' }, await built, settings);
      return method === 'HEAD' ? { ...answer, body: '' } : answer;
    },
  };
}
