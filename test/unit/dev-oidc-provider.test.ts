// The dev issuer's OIDC endpoints without a server: PKCE S256, codes that are single use, short-lived and bound to
// their client and redirect, and authorization requests refused without a redirect when the redirect_uri is unknown.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_AUDIENCE, DEV_ISSUER, openDevIssuer, type DevIssuer } from '../../infra/local/dev-issuer';
import {
  authorizationCodes,
  checkAuthorizationRequest,
  DASHBOARD_CLIENT_ID,
  devOidcProvider,
  pkceMatches,
  type AuthorizationGrant,
  type PageResponse,
} from '../../infra/local/dev-oidc-provider';

const ORIGIN = 'http://127.0.0.1:8787';
const REDIRECT = `${ORIGIN}/dashboard/callback`;
const verifierOf = () => randomBytes(32).toString('base64url');
const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

const directory = mkdtempSync(join(tmpdir(), 'cu-ledger-oidc-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function grantFor(verifier: string, overrides: Partial<AuthorizationGrant> = {}): AuthorizationGrant {
  return { clientId: DASHBOARD_CLIENT_ID, redirectUri: REDIRECT, codeChallenge: challengeOf(verifier), nonce: 'n-1', orgId: 'acme', userId: 'olga', ...overrides };
}

function authorizationParameters(overrides: Record<string, string | null> = {}): URLSearchParams {
  const values: Record<string, string | null> = {
    response_type: 'code',
    client_id: DASHBOARD_CLIENT_ID,
    redirect_uri: REDIRECT,
    scope: 'openid',
    state: 's-1',
    nonce: 'n-1',
    code_challenge: challengeOf(verifierOf()),
    code_challenge_method: 'S256',
    ...overrides,
  };
  return new URLSearchParams(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== null));
}

describe('PKCE S256', () => {
  it('accepts the verifier whose SHA-256, base64url, is the challenge, and refuses any other', () => {
    const verifier = verifierOf();

    expect(pkceMatches(verifier, challengeOf(verifier))).toBe(true);
    expect(pkceMatches(verifierOf(), challengeOf(verifier))).toBe(false);
    expect(pkceMatches(verifier, verifier)).toBe(false);
  });

  it('refuses a verifier shorter than 43 characters or with characters outside the unreserved set', () => {
    for (const verifier of ['short', `${'a'.repeat(42)}`, `${'a'.repeat(42)}+`]) expect(pkceMatches(verifier, challengeOf(verifier))).toBe(false);
  });
});

describe('authorization codes', () => {
  it('redeem a code once: the second redemption finds nothing', () => {
    const codes = authorizationCodes();
    const grant = grantFor(verifierOf());
    const code = codes.issue(grant);

    expect(codes.redeem(code)).toEqual(grant);
    expect(codes.redeem(code)).toBeUndefined();
  });

  it('expire after their time to live', () => {
    let now = 1_000_000;
    const codes = authorizationCodes(() => now, 60_000);
    const early = codes.issue(grantFor(verifierOf()));
    const late = codes.issue(grantFor(verifierOf()));

    now += 59_999;
    expect(codes.redeem(early)).toBeDefined();
    now += 1;
    expect(codes.redeem(late)).toBeUndefined();
  });

  it('are random and keep at most their capacity, dropping the oldest and the expired', () => {
    let now = 0;
    const codes = authorizationCodes(() => now, 60_000, 3);
    const issued = Array.from({ length: 4 }, () => codes.issue(grantFor(verifierOf())));

    expect(new Set(issued).size).toBe(4);
    expect(codes.size).toBe(3);
    expect(codes.redeem(issued[0]!)).toBeUndefined();
    now = 60_000;
    codes.issue(grantFor(verifierOf()));
    expect(codes.size).toBe(1);
  });
});

describe('an authorization request', () => {
  it('checks out with the registered client, its redirect_uri, scope openid and an S256 challenge', () => {
    const check = checkAuthorizationRequest(authorizationParameters(), ORIGIN);

    expect(check).toMatchObject({ outcome: 'valid', request: { clientId: DASHBOARD_CLIENT_ID, redirectUri: REDIRECT, state: 's-1', nonce: 'n-1' } });
  });

  it('is refused without a redirect when the client or the redirect_uri is not registered', () => {
    const cases: Record<string, string | null>[] = [
      { client_id: 'someone-else' },
      { redirect_uri: 'https://evil.example/callback' },
      { redirect_uri: `${ORIGIN}/dashboard/callback/../elsewhere` },
      { redirect_uri: 'http://127.0.0.1:9999/dashboard/callback' },
      { redirect_uri: null },
    ];
    for (const overrides of cases) {
      expect(checkAuthorizationRequest(authorizationParameters(overrides), ORIGIN).outcome, JSON.stringify(overrides)).toBe('refused');
    }
  });

  it('sends any other fault back to the redirect_uri with the error and the state', () => {
    const cases: [Record<string, string | null>, string][] = [
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ scope: 'profile' }, 'invalid_scope'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge: null }, 'invalid_request'],
    ];
    for (const [overrides, error] of cases) {
      const check = checkAuthorizationRequest(authorizationParameters(overrides), ORIGIN);

      expect(check.outcome).toBe('redirect');
      const location = new URL((check as { location: string }).location);
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
      expect(location.searchParams.get('error')).toBe(error);
      expect(location.searchParams.get('state')).toBe('s-1');
    }
  });
});

describe('the token endpoint', () => {
  let issuer: DevIssuer;
  beforeAll(async () => {
    issuer = await openDevIssuer(join(directory, 'dev-issuer.json'));
  });

  const provider = () =>
    devOidcProvider({ issuer, origin: () => ORIGIN, members: async () => [{ userId: 'olga', role: 'org_admin' }], orgClaim: 'org_id', codes: sharedCodes });
  const sharedCodes = authorizationCodes();
  const exchange = (form: Record<string, string>) =>
    provider().serve({ method: 'POST', url: new URL(`${ORIGIN}/local/issuer/token`), body: new URLSearchParams(form).toString() });
  const errorOf = (response: PageResponse) => JSON.parse(response.body).error;

  it('answers an access token the authorizer accepts and an ID token for the client, once', async () => {
    const verifier = verifierOf();
    const code = sharedCodes.issue(grantFor(verifier));
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: DASHBOARD_CLIENT_ID, code_verifier: verifier };

    const response = await exchange(form);

    expect(response.statusCode, response.body).toBe(200);
    const answer = JSON.parse(response.body);
    expect(answer).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const keys = createLocalJWKSet(issuer.jwks);
    const access = await jwtVerify(answer.access_token, keys, { issuer: DEV_ISSUER, audience: DEV_AUDIENCE });
    expect(access.payload).toMatchObject({ sub: 'olga', org_id: 'acme' });
    const id = await jwtVerify(answer.id_token, keys, { issuer: `${ORIGIN}/local/issuer`, audience: DASHBOARD_CLIENT_ID });
    expect(id.payload).toMatchObject({ sub: 'olga', nonce: 'n-1' });
    expect(id.payload.exp! - id.payload.iat!).toBe(3600);
    expect(errorOf(await exchange(form))).toBe('invalid_grant');
  });

  it('refuses a wrong verifier, another redirect_uri or another client, and the code is spent after', async () => {
    const verifier = verifierOf();
    const base = { grant_type: 'authorization_code', redirect_uri: REDIRECT, client_id: DASHBOARD_CLIENT_ID, code_verifier: verifier };
    const wrongVerifier = sharedCodes.issue(grantFor(verifier));
    const otherRedirect = sharedCodes.issue(grantFor(verifier, { redirectUri: `${ORIGIN}/elsewhere` }));
    const otherClient = sharedCodes.issue(grantFor(verifier, { clientId: 'someone-else' }));

    const refusals = [
      await exchange({ ...base, code: wrongVerifier, code_verifier: verifierOf() }),
      await exchange({ ...base, code: otherRedirect }),
      await exchange({ ...base, code: otherClient }),
    ];

    for (const response of refusals) {
      expect(response.statusCode).toBe(400);
      expect(errorOf(response)).toBe('invalid_grant');
    }
    expect(errorOf(await exchange({ ...base, code: wrongVerifier }))).toBe('invalid_grant');
  });

  it('refuses another grant type, an unknown client and a missing verifier with their RFC 6749 errors', async () => {
    const code = sharedCodes.issue(grantFor(verifierOf()));
    const base = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: DASHBOARD_CLIENT_ID };

    expect(errorOf(await exchange({ ...base, grant_type: 'password' }))).toBe('unsupported_grant_type');
    const unknownClient = await exchange({ ...base, client_id: 'someone-else', code_verifier: verifierOf() });
    expect([unknownClient.statusCode, errorOf(unknownClient)]).toEqual([401, 'invalid_client']);
    expect(errorOf(await exchange(base))).toBe('invalid_request');
  });
});

describe('the sign-in screen', () => {
  let issuer: DevIssuer;
  beforeAll(async () => {
    issuer = await openDevIssuer(join(directory, 'screen-issuer.json'));
  });
  const members = async (orgId: string) => (orgId === 'acme' ? [{ userId: 'olga', role: 'org_admin' }, { userId: 'cora', role: 'contributor' }] : undefined);
  const screen = (codes = authorizationCodes()) => devOidcProvider({ issuer, origin: () => ORIGIN, members, orgClaim: 'org_id', codes });
  const get = (parameters: URLSearchParams) => screen().serve({ method: 'GET', url: new URL(`${ORIGIN}/local/issuer/authorize?${parameters}`), body: '' });

  it('asks for the org, then lists its members in a form without script, the request carried along escaped', async () => {
    const parameters = authorizationParameters({ state: '"><script>alert(1)</script>' });

    const orgStep = await get(parameters);
    parameters.set('org', 'acme');
    const memberStep = await get(parameters);

    expect(orgStep.statusCode).toBe(200);
    expect(orgStep.body).toContain('name="org"');
    expect(memberStep.statusCode).toBe(200);
    expect(memberStep.body).toContain('<form method="post" action="/local/issuer/authorize">');
    expect(memberStep.body).toMatch(/value="olga".*org_admin/);
    for (const page of [orgStep, memberStep]) {
      expect(page.body).not.toContain('<script');
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    }
  });

  it('says an org is not provisioned, and refuses to sign in someone who is not its member', async () => {
    const unknown = await get(authorizationParameters({ org: 'nobody' }));
    const stranger = await screen().serve({
      method: 'POST',
      url: new URL(`${ORIGIN}/local/issuer/authorize`),
      body: authorizationParameters({ org: 'acme', user: 'mallory', decision: 'sign-in' }).toString(),
    });

    expect([unknown.statusCode, unknown.body.includes('No org nobody is provisioned')]).toEqual([404, true]);
    expect(stranger.statusCode).toBe(400);
    expect(stranger.headers.location).toBeUndefined();
  });

  it("redirects the member picked with a code bound to the request, the state and the issuer", async () => {
    const codes = authorizationCodes();
    const verifier = verifierOf();

    const answer = await screen(codes).serve({
      method: 'POST',
      url: new URL(`${ORIGIN}/local/issuer/authorize`),
      body: authorizationParameters({ org: 'acme', user: 'cora', decision: 'sign-in', code_challenge: challengeOf(verifier) }).toString(),
    });

    expect(answer.statusCode).toBe(302);
    const location = new URL(answer.headers.location!);
    expect([location.searchParams.get('state'), location.searchParams.get('iss')]).toEqual(['s-1', `${ORIGIN}/local/issuer`]);
    expect(codes.redeem(location.searchParams.get('code')!)).toEqual(grantFor(verifier, { userId: 'cora' }));
  });
});
