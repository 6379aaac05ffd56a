// People's tokens for tests: a test identity provider with its own ES256 key (jose), its JWKS, and tokens it signs
// with any claims, so a test can make the tokens a real provider would and the ones it never would.

import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet } from 'jose';

export const TEST_ISSUER = 'https://login.example.com/';
export const TEST_AUDIENCE = 'cu-ledger-dashboard';
/** An hour: the usual lifetime of an access token. */
const LIFETIME_SECONDS = 3600;

export interface TestIdentityProvider {
  readonly kid: string;
  readonly jwks: JSONWebKeySet;
  /**
   * A token with `iss`, `aud`, `iat` (`issuedAt`, now by default) and `exp` (an hour later), then `claims` over them:
   * a claim given as undefined is left out.
   */
  sign(claims: Record<string, unknown>, issuedAt?: Date): Promise<string>;
}

/** A provider with a key of its own; give another provider's `kid` to forge a token that names a key it does not hold. */
export async function testIdentityProvider(kid: string = `test-${randomUUID()}`): Promise<TestIdentityProvider> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks: JSONWebKeySet = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  return {
    kid,
    jwks,
    async sign(claims, issuedAt = new Date()) {
      const iat = Math.floor(issuedAt.getTime() / 1000);
      const payload = Object.fromEntries(
        Object.entries({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat, exp: iat + LIFETIME_SECONDS, ...claims }).filter(([, value]) => value !== undefined),
      );
      return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).sign(privateKey);
    },
  };
}

export interface JwksServer {
  readonly url: string;
  /** How many times the key set was fetched. */
  fetches(): number;
  close(): Promise<void>;
}

/** A key set served over HTTP on 127.0.0.1, as an identity provider publishes it. */
export async function serveJwks(jwks: JSONWebKeySet): Promise<JwksServer> {
  let fetched = 0;
  const server: Server = createServer((_request, response) => {
    fetched += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(jwks));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', () => listening()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    fetches: () => fetched,
    close: () => new Promise((closed) => server.close(() => closed())),
  };
}
