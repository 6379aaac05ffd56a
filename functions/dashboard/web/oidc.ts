// Sign-in: the OIDC authorization code flow with PKCE (oauth4webapi), as a public client. The verifier, state and nonce
// wait in sessionStorage while the browser is at the provider; the access token stays in sessionStorage for the tab,
// and is what the Analytics API's authorizer checks.

import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import type { DashboardConfig } from './config';

const PENDING_KEY = 'cu-ledger.sign-in';
const SESSION_KEY = 'cu-ledger.session';

export interface Session {
  readonly accessToken: string;
  readonly expiresAt: number;
  readonly orgId: string;
  readonly userId: string;
}

interface Pending {
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
  /** Where to come back to: the dashboard's path and query when sign-in began. */
  readonly returnTo: string;
}

/** Plain http only for a provider on this machine (the local runner's dev issuer). */
function requestOptions(config: DashboardConfig) {
  const { protocol, hostname } = new URL(config.issuer);
  const local = protocol === 'http:' && (hostname === '127.0.0.1' || hostname === 'localhost');
  return local ? { [oauth.allowInsecureRequests]: true } : {};
}

async function discover(config: DashboardConfig): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(config.issuer);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...requestOptions(config) }));
}

export function redirectUri(config: DashboardConfig): string {
  return `${location.origin}${config.base}/dashboard/callback`;
}

/** Sends the browser to the provider's sign-in. */
export async function signIn(config: DashboardConfig): Promise<void> {
  const as = await discover(config);
  const pending: Pending = {
    verifier: oauth.generateRandomCodeVerifier(),
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    returnTo: location.pathname.endsWith('/callback') ? `${config.base}/dashboard` : `${location.pathname}${location.search}`,
  };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: config.clientId,
    redirect_uri: redirectUri(config),
    response_type: 'code',
    scope: config.scope,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: 'S256',
    ...(config.audience ? { audience: config.audience } : {}),
  }).toString();
  location.assign(url.href);
}

/**
 * On the callback page: the code exchanged for tokens (state, PKCE and the ID token's nonce, issuer and audience
 * checked), the session kept, and the address put back to where sign-in began. A refusal at the provider
 * (`error=access_denied`) or any failed check throws, with the provider's description where it gave one.
 */
export async function completeSignIn(config: DashboardConfig): Promise<Session> {
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as Pending | null;
  sessionStorage.removeItem(PENDING_KEY);
  if (!pending) throw new Error('This sign-in was not started here, or was already used. Sign in again.');
  const as = await discover(config);
  const client: oauth.Client = { client_id: config.clientId };
  const callback = new URL(location.href);
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(as, client, callback, pending.state);
  } catch (error) {
    const description = callback.searchParams.get('error_description') ?? callback.searchParams.get('error');
    throw new Error(description ? `Sign-in was not completed: ${description}` : `Sign-in was not completed: ${(error as Error).message}`);
  }
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(config), pending.verifier, requestOptions(config));
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: pending.nonce, requireIdToken: true });
  const session = sessionFrom(result.access_token, result.expires_in, config);
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  history.replaceState(null, '', pending.returnTo);
  return session;
}

function sessionFrom(accessToken: string, expiresIn: number | undefined, config: DashboardConfig): Session {
  // Read, not verified: the API verifies the token; the page only needs to know whose it is.
  const claims = decodeJwt(accessToken);
  const orgId = claims[config.orgClaim];
  if (typeof orgId !== 'string' || typeof claims.sub !== 'string') throw new Error(`The access token names no org (claim ${config.orgClaim}) or no user.`);
  const expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : Date.now() + (expiresIn ?? 3600) * 1000;
  return { accessToken, expiresAt, orgId, userId: claims.sub };
}

/** The tab's session, unless there is none or it has expired. */
export function currentSession(): Session | undefined {
  const session = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
  return session && session.expiresAt > Date.now() + 10_000 ? session : undefined;
}

export function signOut(): void {
  sessionStorage.removeItem(SESSION_KEY);
}
