// The local runner's own identity provider, for people's tokens on this machine only: one ES256 key, made on first
// use and kept in a gitignored file, whose public half the runner serves as a JWKS (GET /local/issuer/jwks.json).
// The analytics authorizer fetches that JWKS over HTTP as it fetches the real provider's on AWS; `npm run token`
// signs with the private half. Both find the key the same way (devIssuerKeyFile), so a token outlives restarts.

import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import * as z from 'zod/mini';

/** `iss` and `aud` of the dev issuer's tokens; the runner configures the authorizer with them. */
export const DEV_ISSUER = 'cu-ledger-local';
export const DEV_AUDIENCE = 'cu-ledger';
/** Where the runner serves the public key (local only, no token: a JWKS is public by nature). */
export const DEV_ISSUER_JWKS_PATH = '/local/issuer/jwks.json';
const ALGORITHM = 'ES256';

const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** DEV_ISSUER_KEY_FILE, or `.data/dev-issuer.json` in the repository (beside the local data, never committed). */
export function devIssuerKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.DEV_ISSUER_KEY_FILE ? resolve(env.DEV_ISSUER_KEY_FILE) : join(REPOSITORY_ROOT, '.data', 'dev-issuer.json');
}

const keyFileSchema = z.object({
  privateJwk: z.looseObject({ kty: z.literal('EC'), crv: z.literal('P-256'), x: z.string(), y: z.string(), d: z.string(), kid: z.string() }),
});

/** What a token names: the person's org (under `orgClaim`) and user (`sub`), and how long it lives (`12h`, `30m`, ...). */
export interface DevTokenRequest {
  readonly orgId: string;
  readonly userId: string;
  readonly ttl: string;
  readonly orgClaim: string;
}

/** An OIDC ID token for a client (`aud`), from the issuer URL the runner's discovery document names. */
export interface DevIdTokenRequest {
  readonly issuer: string;
  readonly clientId: string;
  readonly userId: string;
  readonly nonce: string | undefined;
  readonly ttlSeconds: number;
}

export interface DevIssuer {
  /** The public key, as the runner serves it. */
  readonly jwks: JSONWebKeySet;
  sign(request: DevTokenRequest): Promise<string>;
  signIdToken(request: DevIdTokenRequest): Promise<string>;
}

/** The dev issuer of `file`, whose key is made there first if it does not exist yet. */
export async function openDevIssuer(file: string = devIssuerKeyFile()): Promise<DevIssuer> {
  const privateJwk = await loadOrCreateKey(file);
  const { d: _private, ...publicJwk } = privateJwk;
  const signingKey = await importJWK(privateJwk, ALGORITHM);
  const signed = (claims: Record<string, unknown>, issuer: string, audience: string, subject: string, ttl: string | number) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: ALGORITHM, kid: privateJwk.kid!, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime(typeof ttl === 'number' ? Math.floor(Date.now() / 1000) + ttl : ttl)
      .sign(signingKey);
  return {
    jwks: { keys: [{ ...publicJwk, alg: ALGORITHM, use: 'sig' }] },
    sign: (request) => signed({ [request.orgClaim]: request.orgId }, DEV_ISSUER, DEV_AUDIENCE, request.userId, request.ttl),
    signIdToken: (request) =>
      signed(request.nonce === undefined ? {} : { nonce: request.nonce }, request.issuer, request.clientId, request.userId, request.ttlSeconds),
  };
}

async function loadOrCreateKey(file: string): Promise<JWK> {
  const existing = await readKey(file);
  if (existing) return existing;
  await mkdir(dirname(file), { recursive: true });
  const made = await newKey();
  // Written whole under a name of its own, then linked into place: a link never replaces a file, so when two
  // processes race (the runner and `npm run token`) one key wins and the other process reads it; none sees half a file.
  const draft = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    await writeFile(draft, `${JSON.stringify({ privateJwk: made }, null, 2)}\n`, { mode: 0o600 });
    await link(draft, file);
    return made;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return (await readKey(file))!;
  } finally {
    await rm(draft, { force: true });
  }
}

async function readKey(file: string): Promise<JWK | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const key = keyFileSchema.safeParse(parsed);
  if (!key.success) throw new Error(`${file} does not hold a dev issuer key; delete it and a new one is made (tokens signed with the old one stop working).`);
  return key.data.privateJwk as JWK;
}

async function newKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk) };
}
