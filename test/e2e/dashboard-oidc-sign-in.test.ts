// End to end: the usage dashboard's sign-in against the local runner's dev issuer, with oauth4webapi as the client
// (authorization code with PKCE S256). The sign-in screen is submitted as a browser would: its forms' fields, by fetch.
// The access token then reads an Analytics API route through the same authorizer as `npm run token`'s tokens.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, runnerForSuite } from '../support/runner-http';

const keyDirectory = mkdtempSync(join(tmpdir(), 'cu-ledger-oidc-e2e-'));
const keyEnvironment = { DEV_ISSUER_KEY_FILE: join(keyDirectory, 'dev-issuer.json') };
afterAll(() => rmSync(keyDirectory, { recursive: true, force: true }));

const CLIENT: oauth.Client = { client_id: 'cu-ledger-dashboard' };
const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** The fields of the page's one form (hidden inputs, text inputs and the checked radio), as a browser submits them. */
function formOf(html: string, choices: Record<string, string>): { method: string; action: string; fields: URLSearchParams } {
  const unescape = (text: string) => text.replace(/&#(\d+);/g, (_match, code: string) => String.fromCharCode(Number(code)));
  const form = /<form method="(\w+)" action="([^"]+)">/.exec(html);
  expect(form, html).not.toBeNull();
  const fields = new URLSearchParams();
  for (const input of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields.set(input[1]!, unescape(input[2]!));
  for (const [name, value] of Object.entries(choices)) fields.set(name, value);
  return { method: form![1]!.toUpperCase(), action: form![2]!, fields };
}

describe("the dashboard's OIDC sign-in against the local runner", () => {
  const runner = runnerForSuite({ inMemory: true, env: keyEnvironment });
  const call = client(runner);
  let as: oauth.AuthorizationServer;
  const redirectUri = () => `${runner().url}/dashboard/callback`;

  beforeAll(async () => {
    for (const [path, body] of [
      ['/v1/orgs/acme', { name: 'Acme', plan: { name: 'pro', allowanceCu: 100 }, billingAnchor: '2026-01-15' }],
      ['/v1/orgs/acme/members/olga', { role: 'org_admin' }],
      ['/v1/orgs/acme/members/cora', { role: 'contributor' }],
    ] as const) {
      const reply = await call('PUT', path, { body });
      expect(reply.status, reply.text).toBe(200);
    }
    const issuer = new URL(`${runner().url}/local/issuer`);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
  }, 60_000);

  /** The authorization URL with a fresh verifier, state and nonce. */
  async function start(overrides: Record<string, string> = {}) {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint!);
    const parameters = {
      client_id: CLIENT.client_id,
      redirect_uri: redirectUri(),
      response_type: 'code',
      scope: 'openid',
      state,
      nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...overrides,
    };
    for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
    return { url, verifier, state, nonce };
  }

  /** Through the screen as a browser: enter the org, pick the member, and take the redirect's Location. */
  async function signIn(url: URL, orgId: string, userId: string): Promise<URL> {
    const first = await fetch(url, { redirect: 'manual' });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-security-policy')).toContain("default-src 'none'");
    const orgStep = formOf(await first.text(), { org: orgId });
    const members = await fetch(new URL(`${orgStep.action}?${orgStep.fields}`, runner().url), { redirect: 'manual' });
    const membersPage = await members.text();
    expect(members.status, membersPage).toBe(200);
    expect(membersPage).toContain(`value="${userId}"`);
    expect(membersPage).not.toMatch(/<script/i);
    const memberStep = formOf(membersPage, { user: userId, decision: 'sign-in' });
    expect(memberStep.method).toBe('POST');
    const answer = await fetch(new URL(memberStep.action, runner().url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: memberStep.fields,
      redirect: 'manual',
    });
    expect(answer.status, await answer.clone().text()).toBe(302);
    return new URL(answer.headers.get('location')!);
  }

  const exchange = (callback: URL, state: string, verifier: string) =>
    oauth.authorizationCodeGrantRequest(as, CLIENT, oauth.None(), oauth.validateAuthResponse(as, CLIENT, callback, state), redirectUri(), verifier, insecure);

  it('publishes discovery at the issuer URL, naming the endpoints, S256 and ES256', () => {
    expect(as).toMatchObject({
      issuer: `${runner().url}/local/issuer`,
      authorization_endpoint: `${runner().url}/local/issuer/authorize`,
      token_endpoint: `${runner().url}/local/issuer/token`,
      jwks_uri: `${runner().url}/local/issuer/jwks.json`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: ['ES256'],
    });
  });

  it('signs an org admin in: a valid ID token, and an access token that reads GET /v1/usage with 200', async () => {
    const { url, verifier, state, nonce } = await start();

    const callback = await signIn(url, 'acme', 'olga');
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri());
    const result = await oauth.processAuthorizationCodeResponse(as, CLIENT, await exchange(callback, state, verifier), { expectedNonce: nonce, requireIdToken: true });

    const claims = oauth.getValidatedIdTokenClaims(result)!;
    expect(claims).toMatchObject({ iss: as.issuer, aud: CLIENT.client_id, sub: 'olga', nonce });
    await jwtVerify(result.id_token!, createRemoteJWKSet(new URL(as.jwks_uri!)), { issuer: as.issuer, audience: CLIENT.client_id });
    expect(result.token_type).toBe('bearer');
    const usage = await call('GET', '/v1/usage', { authorization: `Bearer ${result.access_token}` });
    expect(usage.status, usage.text).toBe(200);
  });

  it('signs a contributor in whom the analytics routes then refuse with 403', async () => {
    const { url, verifier, state, nonce } = await start();

    const callback = await signIn(url, 'acme', 'cora');
    const result = await oauth.processAuthorizationCodeResponse(as, CLIENT, await exchange(callback, state, verifier), { expectedNonce: nonce });

    expect((await call('GET', '/v1/usage', { authorization: `Bearer ${result.access_token}` })).status).toBe(403);
  });

  it('refuses a wrong code_verifier, and a code used twice, with invalid_grant', async () => {
    const wrong = await start();
    const wrongCallback = await signIn(wrong.url, 'acme', 'olga');
    await expect(
      oauth.processAuthorizationCodeResponse(as, CLIENT, await exchange(wrongCallback, wrong.state, oauth.generateRandomCodeVerifier())),
    ).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });

    const reused = await start();
    const reusedCallback = await signIn(reused.url, 'acme', 'olga');
    await oauth.processAuthorizationCodeResponse(as, CLIENT, await exchange(reusedCallback, reused.state, reused.verifier), { expectedNonce: reused.nonce });
    await expect(
      oauth.processAuthorizationCodeResponse(as, CLIENT, await exchange(reusedCallback, reused.state, reused.verifier), { expectedNonce: reused.nonce }),
    ).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
  });

  it('answers an unknown redirect_uri with a 400 page and never redirects there', async () => {
    const { url } = await start({ redirect_uri: 'https://evil.example/callback' });

    const response = await fetch(url, { redirect: 'manual' });

    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('redirect_uri is not one registered');
  });

  it('sends other faults back to the client: a missing PKCE challenge, a cancelled sign-in', async () => {
    const { url } = await start({ code_challenge_method: 'plain' });
    const refused = await fetch(url, { redirect: 'manual' });
    expect(refused.status).toBe(302);
    expect(new URL(refused.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');

    const cancelled = await start();
    const page = await fetch(new URL(`${cancelled.url}&org=acme`), { redirect: 'manual' });
    const form = formOf(await page.text(), { decision: 'cancel' });
    const answer = await fetch(new URL(form.action, runner().url), { method: 'POST', body: form.fields, redirect: 'manual' });
    const location = new URL(answer.headers.get('location')!);
    expect([answer.status, location.searchParams.get('error'), location.searchParams.get('state')]).toEqual([302, 'access_denied', cancelled.state]);
  });
});
