// What the page that loaded this script says of its deployment: the OIDC settings and the path the API lives under
// (the stage's on AWS, none locally). The server writes them as data attributes of <html>; no inline script.

export interface DashboardConfig {
  /** The path before `/v1` and `/dashboard` (`/api` on the Analytics API's stage, `''` locally or on a custom domain). */
  readonly base: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly scope: string;
  /** Sent as `audience` on the authorization request, for providers that need it to issue a JWT access token. */
  readonly audience: string;
  /** The access token's claim that names the person's org. */
  readonly orgClaim: string;
}

export function readConfig(root: HTMLElement): DashboardConfig {
  const data = root.dataset;
  return {
    base: data.base ?? '',
    issuer: data.issuer ?? '',
    clientId: data.clientId ?? '',
    scope: data.scope || 'openid',
    audience: data.audience ?? '',
    orgClaim: data.orgClaim || 'org_id',
  };
}
