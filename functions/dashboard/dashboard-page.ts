// The usage dashboard's files: one HTML page (for `/dashboard` and its OIDC callback) that names its script, its
// stylesheet and its deployment's OIDC settings, and those two assets. No data: the page reads the Analytics API with
// the person's token, as a BI tool does. Served by the dashboard Lambda on the Analytics API and by the local runner.

/** The built script and stylesheet (infra/dashboard-assets.ts builds them with esbuild). */
export interface DashboardAssets {
  readonly 'app.js': string;
  readonly 'app.css': string;
}

/** The OIDC client the page signs in with, from the stack's context (or the dev issuer locally). */
export interface DashboardSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly scope: string;
  /** For providers that issue a JWT access token only for a named audience (`audience` on the authorize request). */
  readonly audience: string;
  readonly orgClaim: string;
}

export interface PageRequest {
  readonly method: string;
  /** The path after the API's base: `/dashboard`, `/dashboard/app.js`, … */
  readonly path: string;
  /** The path the API is served under: `/api` on the Analytics API's execute-api stage, `''` locally or on a domain. */
  readonly base: string;
}

export interface PageAnswer {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The first segment of every dashboard path: a custom domain routes it to the Analytics API. */
export const DASHBOARD_BASE_PATH = 'dashboard';
export const DASHBOARD_PATHS = ['/dashboard', '/dashboard/callback', '/dashboard/app.js', '/dashboard/app.css'] as const;

const CONTENT_TYPES: Record<keyof DashboardAssets, string> = { 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' };

/**
 * Scripts and styles from this origin only (no inline script or style element; uPlot and Preact set styles through
 * the CSSOM, which CSP allows), API calls to this origin and the identity provider's (discovery and token endpoints),
 * no framing, no base or form targets.
 */
export function contentSecurityPolicy(settings: Pick<DashboardSettings, 'issuer'>): string {
  const issuerOrigin = new URL(settings.issuer).origin;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ${issuerOrigin}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function securityHeaders(settings: DashboardSettings): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(settings),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'strict-transport-security': 'max-age=31536000',
  };
}

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The page: the settings as data attributes (read by the script; nothing inline runs). */
export function dashboardHtml(base: string, settings: DashboardSettings): string {
  const data = { base, issuer: settings.issuer, 'client-id': settings.clientId, scope: settings.scope, audience: settings.audience, 'org-claim': settings.orgClaim };
  const attributes = Object.entries(data)
    .map(([name, value]) => ` data-${name}="${escapeAttribute(value)}"`)
    .join('');
  return `<!doctype html>
<html lang="en"${attributes}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Usage dashboard · CU Ledger</title>
<link rel="stylesheet" href="${escapeAttribute(base)}/dashboard/app.css">
<script defer src="${escapeAttribute(base)}/dashboard/app.js"></script>
</head>
<body>
<div id="app"><main class="centered"><p>Loading the dashboard…</p></main></div>
<noscript><p>The dashboard needs JavaScript.</p></noscript>
</body>
</html>
`;
}

export function servePage(request: PageRequest, assets: DashboardAssets, settings: DashboardSettings): PageAnswer {
  const headers = securityHeaders(settings);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return { statusCode: 405, headers: { ...headers, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: 'Method not allowed.' };
  }
  if (request.path === '/dashboard' || request.path === '/dashboard/callback') {
    return { statusCode: 200, headers: { ...headers, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body: dashboardHtml(request.base, settings) };
  }
  const file = request.path.slice('/dashboard/'.length) as keyof DashboardAssets;
  if (request.path.startsWith('/dashboard/') && Object.hasOwn(CONTENT_TYPES, file)) {
    // Short-lived: a new deployment's script reaches people within minutes, and the page itself is never cached.
    return { statusCode: 200, headers: { ...headers, 'content-type': CONTENT_TYPES[file], 'cache-control': 'public, max-age=300' }, body: assets[file] };
  }
  return { statusCode: 404, headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found.' };
}

/** The settings from the environment the stack gives the dashboard function. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): DashboardSettings {
  const issuer = env.DASHBOARD_OIDC_ISSUER;
  const clientId = env.DASHBOARD_OIDC_CLIENT_ID;
  if (!issuer || !clientId) throw new Error('DASHBOARD_OIDC_ISSUER and DASHBOARD_OIDC_CLIENT_ID must be set.');
  return { issuer, clientId, scope: env.DASHBOARD_OIDC_SCOPE || 'openid', audience: env.DASHBOARD_OIDC_AUDIENCE ?? '', orgClaim: env.ORG_CLAIM || 'org_id' };
}
