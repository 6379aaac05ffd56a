// People's tokens at the Analytics API's authorizer: a valid token names its org and user and allows the whole API;
// anything else is `Unauthorized` (401), and a key set that cannot be loaded is a failure of ours (500), not a 401.
// Tokens are minted with jose by a test identity provider; the handler's own path fetches a JWKS over HTTP.

import { createLocalJWKSet } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { authorizeAnalyticsRequest, handler } from '../../functions/auth/analytics-authorizer.handler';
import { CLOCK_TOLERANCE_SECONDS, jwtPersonTokenVerifier, type PersonTokenSettings } from '../../shared/adapters/jwt/person-token-verifier';
import type { Clock } from '../../shared/ports/runtime';
import { authorizerEvent } from '../support/api-events';
import { serveJwks, TEST_AUDIENCE, TEST_ISSUER, testIdentityProvider, type TestIdentityProvider } from '../support/person-tokens';

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/api/GET/v1/usage';
const WHOLE_API = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/api/*';
const ISSUED_AT = new Date('2026-03-01T12:00:00.000Z');
const SETTINGS: PersonTokenSettings = { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, orgClaim: 'org_id' };
const alice = { sub: 'alice', org_id: 'acme' };

const at = (iso: string | Date): Clock => ({ now: () => new Date(iso) });
const secondsAfterIssue = (seconds: number) => at(new Date(ISSUED_AT.getTime() + seconds * 1000));


let provider: TestIdentityProvider;
let stranger: TestIdentityProvider;
let impostor: TestIdentityProvider;
beforeAll(async () => {
  provider = await testIdentityProvider();
  // Another provider's key, and a key that claims to be the provider's own (same kid): neither signs for it.
  stranger = await testIdentityProvider();
  impostor = await testIdentityProvider(provider.kid);
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

/** The authorizer with the provider's keys, as of `clock`. */
function authorize(authorization: string | undefined, options: { clock?: Clock; settings?: PersonTokenSettings; headerName?: string } = {}) {
  const people = jwtPersonTokenVerifier(options.settings ?? SETTINGS, createLocalJWKSet(provider.jwks), options.clock ?? secondsAfterIssue(60));
  return authorizeAnalyticsRequest(authorizerEvent(authorization, { methodArn: METHOD_ARN, ...(options.headerName ? { headerName: options.headerName } : {}) }), { people, keys: async () => undefined });
}

describe('the analytics authorizer, for people', () => {
  it("allows a valid token on the whole API, naming the person's org and user", async () => {
    const token = await provider.sign(alice, ISSUED_AT);

    const result = await authorize(`Bearer ${token}`);

    expect(result).toEqual({
      principalId: 'alice',
      policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: [WHOLE_API] }] },
      context: { principalKind: 'person', orgId: 'acme', userId: 'alice' },
    });
  });

  it('takes the scheme in any case and the header under any spelling of its name', async () => {
    const token = await provider.sign(alice, ISSUED_AT);

    const result = await authorize(`bearer ${token}`, { headerName: 'authorization' });

    expect(result.context).toEqual({ principalKind: 'person', orgId: 'acme', userId: 'alice' });
  });

  it('ignores a role in the token: the role comes from the member records', async () => {
    const token = await provider.sign({ ...alice, role: 'org_admin' }, ISSUED_AT);

    const result = await authorize(`Bearer ${token}`);

    expect(result.context).toEqual({ principalKind: 'person', orgId: 'acme', userId: 'alice' });
  });

  it('reads the org from the configured claim (ORG_CLAIM), not org_id', async () => {
    const token = await provider.sign({ sub: 'alice', org_id: 'not-this-one', 'https://platform.example.com/org': 'acme' }, ISSUED_AT);

    const result = await authorize(`Bearer ${token}`, { settings: { ...SETTINGS, orgClaim: 'https://platform.example.com/org' } });

    expect(result.context).toEqual({ principalKind: 'person', orgId: 'acme', userId: 'alice' });
  });

  it(`accepts a token up to ${CLOCK_TOLERANCE_SECONDS} s past its expiry (clock skew), and refuses it after`, async () => {
    const token = await provider.sign(alice, ISSUED_AT);

    await expect(authorize(`Bearer ${token}`, { clock: secondsAfterIssue(3600 + CLOCK_TOLERANCE_SECONDS - 1) })).resolves.toMatchObject({ principalId: 'alice' });
    await expect(authorize(`Bearer ${token}`, { clock: secondsAfterIssue(3600 + CLOCK_TOLERANCE_SECONDS + 1) })).rejects.toThrow(/^Unauthorized$/);
  });

  const refusals: [name: string, token: () => Promise<string>, clock?: Clock][] = [
    ['an expired token', () => provider.sign(alice, ISSUED_AT), secondsAfterIssue(2 * 3600)],
    ['a token not valid yet', () => provider.sign({ ...alice, nbf: ISSUED_AT.getTime() / 1000 + 600 }, ISSUED_AT), secondsAfterIssue(60)],
    ['a token from another issuer', () => provider.sign({ ...alice, iss: 'https://evil.example.com/' }, ISSUED_AT), undefined],
    ['a token for another audience', () => provider.sign({ ...alice, aud: 'another-service' }, ISSUED_AT), undefined],
    ['a token signed by a key the provider does not publish', () => stranger.sign(alice, ISSUED_AT), undefined],
    ["a token signed by another key under the provider's key id", () => impostor.sign(alice, ISSUED_AT), undefined],
    ['a token without the org claim', () => provider.sign({ sub: 'alice' }, ISSUED_AT), undefined],
    ['a token whose org is not an id (an object)', () => provider.sign({ sub: 'alice', org_id: { id: 'acme' } }, ISSUED_AT), undefined],
    ['a token without a subject', () => provider.sign({ org_id: 'acme' }, ISSUED_AT), undefined],
    ['a token without an expiry', () => provider.sign({ ...alice, exp: undefined }, ISSUED_AT), undefined],
    ['a token without a signature', async () => (await provider.sign(alice, ISSUED_AT)).split('.').slice(0, 2).join('.') + '.', undefined],
    ['something that is not a token', async () => 'not-a-jwt', undefined],
  ];
  it.each(refusals)('refuses %s with Unauthorized', async (_name, token, clock) => {
    await expect(authorize(`Bearer ${await token()}`, clock ? { clock } : {})).rejects.toThrow(/^Unauthorized$/);
  });

  it.each([
    ['no Authorization header', undefined],
    ['HTTP Basic that is not an analytics key', `Basic ${Buffer.from('ak_1:secret').toString('base64')}`],
    ['another scheme', 'Digest username="alice"'],
    ['Bearer with no token', 'Bearer '],
  ])('refuses %s with Unauthorized', async (_name, authorization) => {
    await expect(authorize(authorization)).rejects.toThrow(/^Unauthorized$/);
  });

  it('fails, rather than refusing, when the key set cannot be loaded (a 500 for the caller to retry, not a 401)', async () => {
    const unreachable = await serveJwks(provider.jwks);
    await unreachable.close();
    vi.stubEnv('JWT_ISSUER', TEST_ISSUER);
    vi.stubEnv('JWT_AUDIENCE', TEST_AUDIENCE);
    vi.stubEnv('JWKS_URL', unreachable.url);

    const failure = await handler(authorizerEvent(`Bearer ${await provider.sign(alice)}`, { methodArn: METHOD_ARN })).then(
      () => undefined,
      (error: Error) => error,
    );

    expect(failure).toBeInstanceOf(Error);
    expect(failure!.message).not.toMatch(/Unauthorized|must be set/);
  });

  it('never writes the token to the log, whatever the outcome', async () => {
    vi.stubEnv('LOG_LEVEL', 'info');
    const lines: string[] = [];
    for (const method of ['log', 'info', 'warn', 'error'] as const) vi.spyOn(console, method).mockImplementation((...parts: unknown[]) => void lines.push(parts.map((part) => JSON.stringify(part)).join(' ')));
    const valid = await provider.sign(alice, ISSUED_AT);
    const expired = await provider.sign({ ...alice, sub: 'bob' }, new Date('2020-01-01T00:00:00.000Z'));
    const forged = await stranger.sign(alice, ISSUED_AT);

    await authorize(`Bearer ${valid}`);
    await authorize(`Bearer ${expired}`).catch(() => undefined);
    await authorize(`Bearer ${forged}`).catch(() => undefined);

    expect(lines.length).toBeGreaterThan(0);
    for (const token of [valid, expired, forged]) {
      for (const part of token.split('.')) for (const line of lines) expect(line).not.toContain(part);
    }
  });
});

describe('the deployed handler', () => {
  it('verifies against the JWKS at JWKS_URL, over HTTP, fetching it once for the process', async () => {
    const jwks = await serveJwks(provider.jwks);
    vi.stubEnv('JWT_ISSUER', TEST_ISSUER);
    vi.stubEnv('JWT_AUDIENCE', TEST_AUDIENCE);
    vi.stubEnv('JWKS_URL', jwks.url);
    vi.stubEnv('ORG_CLAIM', 'tenant');
    try {
      const first = await handler(authorizerEvent(`Bearer ${await provider.sign({ sub: 'alice', tenant: 'acme' })}`, { methodArn: METHOD_ARN }));
      const second = await handler(authorizerEvent(`Bearer ${await provider.sign({ sub: 'bob', tenant: 'acme' })}`, { methodArn: METHOD_ARN }));
      const foreign = handler(authorizerEvent(`Bearer ${await provider.sign({ sub: 'eve', tenant: 'acme', iss: 'https://evil.example.com/' })}`, { methodArn: METHOD_ARN }));

      expect([first.context, second.context]).toEqual([
        { principalKind: 'person', orgId: 'acme', userId: 'alice' },
        { principalKind: 'person', orgId: 'acme', userId: 'bob' },
      ]);
      await expect(foreign).rejects.toThrow(/^Unauthorized$/);
      expect(jwks.fetches()).toBe(1);
    } finally {
      await jwks.close();
    }
  });

  it('fails without its settings, naming them', async () => {
    vi.stubEnv('JWT_ISSUER', '');
    vi.stubEnv('JWKS_URL', '');

    await expect(handler(authorizerEvent('Bearer x.y.z', { methodArn: METHOD_ARN }))).rejects.toThrow(/missing or wrong: JWT_ISSUER, .*JWKS_URL/);
  });
});
