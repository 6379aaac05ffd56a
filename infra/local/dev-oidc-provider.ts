// The dev issuer as an OIDC provider, for the usage dashboard's sign-in on this machine only: discovery, the
// authorization code flow with PKCE (S256) for one public client, and a sign-in screen that lets you pick a member of
// an org. LOCAL ONLY: on AWS the configured identity provider does all of this.
//
//   GET  /local/issuer/.well-known/openid-configuration  -> the discovery document (issuer: <runner>/local/issuer)
//   GET  /local/issuer/authorize   -> the sign-in screen: an org to enter, then its members to pick from
//   POST /local/issuer/authorize   <- the screen's form  -> 302 to redirect_uri?code=...&state=...
//   POST /local/issuer/token       <- grant_type=authorization_code, code, redirect_uri, client_id, code_verifier
//                                  -> { access_token, id_token, token_type: 'Bearer', expires_in }
//
// The ID token's `iss` is the issuer URL (what OIDC clients check against discovery); the access token is the very
// person token `npm run token` prints (iss cu-ledger-local, aud cu-ledger, the org claim), so the analytics authorizer
// keeps its one configuration.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { NotFoundError } from '../../shared/domain/errors';
import { ledgerDependencies } from '../../shared/composition';
import { identifier } from '../../shared/http/schemas';
import { listScopes } from '../../shared/use-cases/usage-views';
import type { DevIssuer } from './dev-issuer';

export const DEV_OIDC_BASE_PATH = '/local/issuer';
export const DEV_OIDC_DISCOVERY_PATH = `${DEV_OIDC_BASE_PATH}/.well-known/openid-configuration`;
export const DEV_OIDC_AUTHORIZE_PATH = `${DEV_OIDC_BASE_PATH}/authorize`;
export const DEV_OIDC_TOKEN_PATH = `${DEV_OIDC_BASE_PATH}/token`;
/** The one registered client: the usage dashboard, a public client (no secret; PKCE instead). */
export const DASHBOARD_CLIENT_ID = 'cu-ledger-dashboard';
/** Where the dashboard may be sent back to, on the runner's own origin. */
export const DASHBOARD_REDIRECT_PATHS: readonly string[] = ['/dashboard/callback'];
/** How long an authorization code may wait for its exchange. */
export const CODE_TTL_MS = 60_000;
/** How many codes wait at most; the oldest go first when more are issued. */
export const MAX_PENDING_CODES = 1_000;
/** How long the access and ID tokens live. */
const TOKEN_TTL_SECONDS = 3_600;
/** How many of an org's members the screen lists. */
const MEMBERS_LISTED = 100;

// ---------------------------------------------------------------------------------------------------------------
// PKCE and the codes
// ---------------------------------------------------------------------------------------------------------------

/** RFC 7636: a verifier is 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** Whether base64url(sha256(verifier)) is the challenge (S256, the only method offered). */
export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

/** What a code stands for: who signed in, for which client, and what the exchange must present. */
export interface AuthorizationGrant {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly nonce: string | undefined;
  readonly orgId: string;
  readonly userId: string;
}

export interface AuthorizationCodes {
  issue(grant: AuthorizationGrant): string;
  /** The grant of a code issued and not yet redeemed nor expired; a code is gone after its first redemption. */
  redeem(code: string): AuthorizationGrant | undefined;
  readonly size: number;
}

/** Codes in memory, random and short-lived, at most `capacity` of them. */
export function authorizationCodes(now: () => number = Date.now, ttlMs = CODE_TTL_MS, capacity = MAX_PENDING_CODES): AuthorizationCodes {
  const pending = new Map<string, { grant: AuthorizationGrant; expiresAt: number }>();
  return {
    issue(grant) {
      for (const [code, entry] of pending) if (entry.expiresAt <= now()) pending.delete(code);
      // A Map keeps insertion order: the first key is the oldest code.
      while (pending.size >= capacity) pending.delete(pending.keys().next().value!);
      const code = randomBytes(32).toString('base64url');
      pending.set(code, { grant, expiresAt: now() + ttlMs });
      return code;
    },
    redeem(code) {
      const entry = pending.get(code);
      pending.delete(code);
      return entry && entry.expiresAt > now() ? entry.grant : undefined;
    },
    get size() {
      return pending.size;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The authorization request
// ---------------------------------------------------------------------------------------------------------------

/** An authorization request that checked out. */
export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly codeChallenge: string;
}

export type AuthorizationCheck =
  | { readonly outcome: 'valid'; readonly request: AuthorizationRequest }
  /** The client or redirect_uri is not known: a page says so, and nobody is redirected (RFC 6749 4.1.2.1). */
  | { readonly outcome: 'refused'; readonly message: string }
  /** Anything else: back to the client with `error` (and the state). */
  | { readonly outcome: 'redirect'; readonly location: string };

/** The redirect URIs the dashboard client may use on a runner at `origin`. */
export function allowedRedirectUris(origin: string): readonly string[] {
  return DASHBOARD_REDIRECT_PATHS.map((path) => `${origin}${path}`);
}

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Checks the parameters of an authorization request (the query of the GET, the form of the POST). */
export function checkAuthorizationRequest(parameters: URLSearchParams, origin: string): AuthorizationCheck {
  const clientId = parameters.get('client_id');
  const redirectUri = parameters.get('redirect_uri');
  if (clientId !== DASHBOARD_CLIENT_ID) return { outcome: 'refused', message: `Unknown client_id: this issuer knows only ${DASHBOARD_CLIENT_ID}.` };
  if (redirectUri === null || !allowedRedirectUris(origin).includes(redirectUri)) {
    return { outcome: 'refused', message: `redirect_uri is not one registered for ${DASHBOARD_CLIENT_ID}: ${allowedRedirectUris(origin).join(', ')}.` };
  }
  const state = parameters.get('state') ?? undefined;
  const fail = (error: string, description: string): AuthorizationCheck => ({ outcome: 'redirect', location: errorRedirect(redirectUri, error, description, state) });
  if (parameters.get('response_type') !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported.');
  const scope = parameters.get('scope') ?? '';
  if (!scope.split(' ').includes('openid')) return fail('invalid_scope', 'The scope must include openid.');
  const codeChallenge = parameters.get('code_challenge');
  if (parameters.get('code_challenge_method') !== 'S256' || codeChallenge === null || !CHALLENGE.test(codeChallenge)) {
    return fail('invalid_request', 'PKCE is required: code_challenge with code_challenge_method=S256.');
  }
  return { outcome: 'valid', request: { clientId, redirectUri, scope, state, nonce: parameters.get('nonce') ?? undefined, codeChallenge } };
}

function errorRedirect(redirectUri: string, error: string, description: string, state: string | undefined): string {
  const location = new URL(redirectUri);
  location.searchParams.set('error', error);
  location.searchParams.set('error_description', description);
  if (state !== undefined) location.searchParams.set('state', state);
  return location.href;
}

// ---------------------------------------------------------------------------------------------------------------
// The provider's pages and endpoints
// ---------------------------------------------------------------------------------------------------------------

export interface PageRequest {
  readonly method: string;
  readonly url: URL;
  readonly body: string;
}

export interface PageResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** An org's member, as the screen lists it. */
export interface OrgMember {
  readonly userId: string;
  readonly role: string | null;
}

export interface DevOidcProviderOptions {
  readonly issuer: DevIssuer;
  /** The runner's origin (`http://127.0.0.1:8787`), known once it listens. */
  readonly origin: () => string;
  /** The org's members, or undefined when the org is not provisioned. */
  readonly members: (orgId: string) => Promise<readonly OrgMember[] | undefined>;
  /** The claim the authorizer reads the org from (ORG_CLAIM). */
  readonly orgClaim: string;
  readonly codes?: AuthorizationCodes;
}

export interface DevOidcProvider {
  readonly paths: readonly string[];
  serve(request: PageRequest): Promise<PageResponse>;
}

export function devOidcProvider(options: DevOidcProviderOptions): DevOidcProvider {
  const codes = options.codes ?? authorizationCodes();
  const issuerUrl = () => `${options.origin()}${DEV_OIDC_BASE_PATH}`;
  const routes: Record<string, (request: PageRequest) => Promise<PageResponse>> = {
    [`GET ${DEV_OIDC_DISCOVERY_PATH}`]: async () => json(200, discoveryDocument(issuerUrl())),
    [`GET ${DEV_OIDC_AUTHORIZE_PATH}`]: (request) => authorize(request.url.searchParams, false),
    [`POST ${DEV_OIDC_AUTHORIZE_PATH}`]: (request) => authorize(new URLSearchParams(request.body), true),
    [`POST ${DEV_OIDC_TOKEN_PATH}`]: (request) => exchange(new URLSearchParams(request.body)),
  };

  /** The screen (GET), or the code for the member picked on it (POST). */
  async function authorize(parameters: URLSearchParams, submitted: boolean): Promise<PageResponse> {
    const check = checkAuthorizationRequest(parameters, options.origin());
    if (check.outcome === 'refused') return html(400, page('Sign-in refused', `<p>${escapeHtml(check.message)}</p>`));
    if (check.outcome === 'redirect') return redirect(check.location);
    const { request } = check;
    if (submitted && parameters.get('decision') === 'cancel') {
      return redirect(errorRedirect(request.redirectUri, 'access_denied', 'The sign-in was cancelled.', request.state));
    }
    const orgInput = parameters.get('org');
    if (orgInput === null || orgInput === '') return html(200, orgForm(parameters));
    const orgId = identifier.safeParse(orgInput);
    const members = orgId.success ? await options.members(orgId.data) : undefined;
    if (!orgId.success || members === undefined) return html(404, orgForm(parameters, `No org ${orgInput} is provisioned.`));
    if (!submitted) return html(200, memberForm(parameters, orgId.data, members));
    const member = members.find((candidate) => candidate.userId === parameters.get('user'));
    if (!member) return html(400, memberForm(parameters, orgId.data, members, 'Pick one of the members.'));
    const { clientId, redirectUri, codeChallenge, nonce } = request;
    const code = codes.issue({ clientId, redirectUri, codeChallenge, nonce, orgId: orgId.data, userId: member.userId });
    const location = new URL(request.redirectUri);
    location.searchParams.set('code', code);
    if (request.state !== undefined) location.searchParams.set('state', request.state);
    location.searchParams.set('iss', issuerUrl());
    return redirect(location.href);
  }

  /** The token endpoint: the code, once, for the client and redirect it was issued to, with the PKCE verifier. */
  async function exchange(form: URLSearchParams): Promise<PageResponse> {
    if (form.get('grant_type') !== 'authorization_code') return tokenError(400, 'unsupported_grant_type', 'Only grant_type=authorization_code is supported.');
    const clientId = form.get('client_id');
    if (clientId !== DASHBOARD_CLIENT_ID) return tokenError(401, 'invalid_client', `Unknown client_id: this issuer knows only ${DASHBOARD_CLIENT_ID}.`);
    const code = form.get('code');
    const redirectUri = form.get('redirect_uri');
    const verifier = form.get('code_verifier');
    if (!code || !redirectUri || !verifier) return tokenError(400, 'invalid_request', 'code, redirect_uri and code_verifier are required.');
    const grant = codes.redeem(code);
    if (!grant) return tokenError(400, 'invalid_grant', 'The code is unknown, expired or already used.');
    if (grant.clientId !== clientId || grant.redirectUri !== redirectUri) return tokenError(400, 'invalid_grant', 'The code was issued to another client or redirect_uri.');
    if (!pkceMatches(verifier, grant.codeChallenge)) return tokenError(400, 'invalid_grant', 'The code_verifier does not match the code_challenge.');
    const [accessToken, idToken] = await Promise.all([
      options.issuer.sign({ orgId: grant.orgId, userId: grant.userId, ttl: `${TOKEN_TTL_SECONDS}s`, orgClaim: options.orgClaim }),
      options.issuer.signIdToken({ issuer: issuerUrl(), clientId, userId: grant.userId, nonce: grant.nonce, ttlSeconds: TOKEN_TTL_SECONDS }),
    ]);
    return json(200, { access_token: accessToken, id_token: idToken, token_type: 'Bearer', expires_in: TOKEN_TTL_SECONDS });
  }

  return {
    paths: [...new Set(Object.keys(routes).map((routeKey) => routeKey.split(' ')[1]!))],
    async serve(request) {
      const route = routes[`${request.method} ${request.url.pathname}`];
      return route ? route(request) : json(405, { error: 'invalid_request', error_description: `${request.method} is not allowed here.` });
    },
  };
}

export function discoveryDocument(issuer: string) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks.json`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code'],
    code_challenge_methods_supported: ['S256'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
    scopes_supported: ['openid'],
    token_endpoint_auth_methods_supported: ['none'],
    authorization_response_iss_parameter_supported: true,
  };
}

/** The members of a provisioned org, read with the admin use case that lists an org's members. */
export async function ledgerMembers(orgId: string): Promise<readonly OrgMember[] | undefined> {
  try {
    const page = await listScopes(orgId, 'member', { limit: MEMBERS_LISTED, cursor: null }, ledgerDependencies(AbortSignal.timeout(10_000)));
    return page.items.filter((view) => view.record.exists).map((view) => ({ userId: view.record.id, role: view.record.role }));
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------------------------

/** The authorization request's own parameters, carried by the screen's forms from step to step. */
const CARRIED = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method'];

function hiddenFields(parameters: URLSearchParams): string {
  return CARRIED.filter((name) => parameters.has(name))
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(parameters.get(name)!)}">`)
    .join('\n');
}

function orgForm(parameters: URLSearchParams, problem?: string): string {
  return page(
    'Sign in to CU Ledger (local)',
    `${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="get" action="${DEV_OIDC_AUTHORIZE_PATH}">
${hiddenFields(parameters)}
<label>Org id <input name="org" required value="${escapeHtml(parameters.get('org') ?? '')}"></label>
<button type="submit">Show its members</button>
</form>`,
  );
}

function memberForm(parameters: URLSearchParams, orgId: string, members: readonly OrgMember[], problem?: string): string {
  const choices = members
    .map((member, index) => `<li><label><input type="radio" name="user" value="${escapeHtml(member.userId)}"${index === 0 ? ' checked' : ''}> ${escapeHtml(member.userId)} (${escapeHtml(member.role ?? 'member')})</label></li>`)
    .join('\n');
  return page(
    `Sign in to ${orgId} (local)`,
    `${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="${DEV_OIDC_AUTHORIZE_PATH}">
${hiddenFields(parameters)}
<input type="hidden" name="org" value="${escapeHtml(orgId)}">
${members.length ? `<ul>${choices}</ul>` : '<p>This org has no members yet: add one with PUT /v1/orgs/{orgId}/members/{userId}.</p>'}
<button type="submit" name="decision" value="sign-in"${members.length ? '' : ' disabled'}>Sign in</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</form>`,
  );
}

function page(title: string, content: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1>
<p>The local runner's dev issuer: anyone on this machine may sign in as any member. Never on AWS.</p>
${content}
</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** Pages allow no script at all, no framing, and forms to this origin only. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

function html(statusCode: number, body: string): PageResponse {
  return { statusCode, headers: PAGE_HEADERS, body };
}

function redirect(location: string): PageResponse {
  return { statusCode: 302, headers: { location, 'cache-control': 'no-store' }, body: '' };
}

function json(statusCode: number, body: unknown): PageResponse {
  return { statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}

function tokenError(statusCode: number, error: string, description: string): PageResponse {
  return json(statusCode, { error, error_description: description });
}
