// Analytics keys (seed 003): an org-level, read-only credential for BI tools. Their formats, how a presented secret is
// checked against the stored digest, how a key's record changes on rotation and revocation, and what a key may call.
//
// Formats, for secret scanners (both documented in the README with these expressions):
// - key id `cuak_` + 16 base62 characters (an identifier, not a secret: it may appear in logs and the activity feed);
// - secret `cuas_` + 22 random base62 characters (131 bits) + a 6-character base62 CRC-32 of prefix and body, so a
//   mistyped or truncated secret is refused before any lookup.
// `key:secret` is 55 bytes: under the 57 that fit one line of `base64` (76 characters) in the seed's header form.

import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const KEY_ID_PREFIX = 'cuak_';
export const SECRET_PREFIX = 'cuas_';
const KEY_ID_BODY = 16;
const SECRET_BODY = 22;
const CHECKSUM_LENGTH = 6;
export const KEY_ID_PATTERN = /^cuak_[0-9A-Za-z]{16}$/;
export const SECRET_PATTERN = /^cuas_[0-9A-Za-z]{28}$/;
/** The longest `key:secret` the seed's `printf … | base64` keeps on one line (76 base64 characters). */
export const MAX_CREDENTIALS_BYTES = 57;

/** The longest grace an old secret may get on rotation: 7 days. */
export const MAX_GRACE_SECONDS = 7 * 24 * 60 * 60;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function randomBase62(length: number): string {
  let text = '';
  // randomInt draws without modulo bias.
  for (let index = 0; index < length; index++) text += BASE62[randomInt(62)];
  return text;
}

function checksumOf(prefixAndBody: string): string {
  let value = crc32(prefixAndBody);
  let text = '';
  for (let index = 0; index < CHECKSUM_LENGTH; index++) {
    text = BASE62[value % 62] + text;
    value = Math.floor(value / 62);
  }
  return text;
}

export function newKeyId(): string {
  return `${KEY_ID_PREFIX}${randomBase62(KEY_ID_BODY)}`;
}

export function newSecret(): string {
  const prefixAndBody = `${SECRET_PREFIX}${randomBase62(SECRET_BODY)}`;
  return `${prefixAndBody}${checksumOf(prefixAndBody)}`;
}

/** Whether `secret` has the secret's shape and its checksum holds: the check made before any lookup. */
export function isWellFormedSecret(secret: string): boolean {
  if (!SECRET_PATTERN.test(secret)) return false;
  const split = secret.length - CHECKSUM_LENGTH;
  return checksumOf(secret.slice(0, split)) === secret.slice(split);
}

/** How much of a secret the list shows, to tell one secret from the next: the prefix and 4 random characters. */
export function secretHint(secret: string): string {
  return secret.slice(0, SECRET_PREFIX.length + 4);
}

/** A key id and secret, as presented. */
export interface KeyCredentials {
  readonly keyId: string;
  readonly secret: string;
}

/**
 * The key id and secret of `key:secret`, or undefined when the text is not an analytics key's credentials (a person's
 * JWT has no colon). The key id must have its shape and the secret its shape and checksum.
 */
export function keyCredentialsOf(text: string): KeyCredentials | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const keyId = text.slice(0, colon);
  const secret = text.slice(colon + 1);
  if (!KEY_ID_PATTERN.test(keyId) || !isWellFormedSecret(secret)) return undefined;
  return { keyId, secret };
}

/** Whether a bearer token is meant as `key:secret` (and so never as a JWT, which has no colon). */
export function looksLikeKeyCredentials(token: string): boolean {
  return token.startsWith(KEY_ID_PREFIX) && token.includes(':');
}

/**
 * The text of HTTP Basic credentials (`base64(user:password)`), or undefined when they are not valid base64 of a
 * reasonable length. Strict: Buffer.from would decode garbage into something.
 */
export function decodeBasicCredentials(encoded: string): string | undefined {
  if (encoded.length > 200 || encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  return Buffer.from(encoded, 'base64').toString('utf8');
}

// ---------------------------------------------------------------------------------------------------------------
// Digests
// ---------------------------------------------------------------------------------------------------------------

/** The stored form of a secret: HMAC-SHA256 under the pepper (base64url), so the key store alone cannot be brute-forced. */
export function secretDigest(pepper: Uint8Array, secret: string): string {
  return createHmac('sha256', pepper).update(secret, 'utf8').digest('base64url');
}

const DIGEST_BYTES = 32;

/** Compares two digests in constant time; any digest of the wrong length compares unequal, still in full. */
export function digestsMatch(presented: string, stored: string): boolean {
  const a = Buffer.from(presented, 'base64url');
  const b = Buffer.from(stored, 'base64url');
  const sameLength = a.length === DIGEST_BYTES && b.length === DIGEST_BYTES;
  return timingSafeEqual(sameLength ? a : Buffer.alloc(DIGEST_BYTES), sameLength ? b : Buffer.alloc(DIGEST_BYTES, 1)) && sameLength;
}

/** What an unknown key's presented secret is compared with: the same work as for a real key, and never a match. */
export const DUMMY_DIGEST = Buffer.alloc(DIGEST_BYTES, 0xa5).toString('base64url');

// ---------------------------------------------------------------------------------------------------------------
// The record
// ---------------------------------------------------------------------------------------------------------------

export type AnalyticsKeyStatus = 'active' | 'revoked';

/** One secret a key accepts: its digest, the pepper version it was made with, and until when it is valid. */
export interface StoredSecret {
  readonly digest: string;
  readonly pepperVersion: string;
  /** A few characters of the secret (`secretHint`), to tell secrets apart in the list; never enough to guess it. */
  readonly hint: string;
  readonly createdAt: string;
  /** null: the current secret; an instant: an old one, valid until then (its rotation's grace). */
  readonly validUntil: string | null;
}

/** What the key store holds for one key: never the secret itself. */
export interface AnalyticsKeyRecord {
  readonly keyId: string;
  readonly orgId: string;
  readonly name: string;
  readonly status: AnalyticsKeyStatus;
  readonly createdAt: string;
  readonly rotatedAt: string | null;
  readonly revokedAt: string | null;
  /** How many changes the record has had (1 once created): the ledger's listing follows the latest. */
  readonly version: number;
  /** The current secret first, then the one before it while its grace lasts. */
  readonly secrets: readonly StoredSecret[];
}

export function newKeyRecord(input: { keyId: string; orgId: string; name: string; secret: StoredSecret }): AnalyticsKeyRecord {
  return { keyId: input.keyId, orgId: input.orgId, name: input.name, status: 'active', createdAt: input.secret.createdAt, rotatedAt: null, revokedAt: null, version: 1, secrets: [input.secret] };
}

/** The secrets a key accepts at `now`: none once revoked; an old one only until its grace ends (exclusive). */
export function acceptedSecrets(record: AnalyticsKeyRecord, now: Date): readonly StoredSecret[] {
  if (record.status !== 'active') return [];
  return record.secrets.filter((secret) => secret.validUntil === null || Date.parse(secret.validUntil) > now.getTime());
}

/**
 * The record once `next` replaces the current secret: the current one stays valid for `graceSeconds` (0: not at all).
 * Only the secret just replaced gets a grace: one still in the grace of an earlier rotation ends now.
 */
export function rotatedRecord(record: AnalyticsKeyRecord, next: StoredSecret, graceSeconds: number): AnalyticsKeyRecord {
  const current = record.secrets.find((secret) => secret.validUntil === null);
  const graceEnds = new Date(Date.parse(next.createdAt) + graceSeconds * 1000).toISOString();
  const kept = current && graceSeconds > 0 ? [{ ...current, validUntil: graceEnds }] : [];
  return { ...record, rotatedAt: next.createdAt, version: record.version + 1, secrets: [next, ...kept] };
}

export function revokedRecord(record: AnalyticsKeyRecord, at: string): AnalyticsKeyRecord {
  return record.status === 'revoked' ? record : { ...record, status: 'revoked', revokedAt: at, version: record.version + 1 };
}

/** When the old secret of the last rotation stops working, if it still works at `now`. */
export function graceEndsAt(record: AnalyticsKeyRecord, now: Date): string | null {
  return acceptedSecrets(record, now).find((secret) => secret.validUntil !== null)?.validUntil ?? null;
}

// ---------------------------------------------------------------------------------------------------------------
// What a key may call
// ---------------------------------------------------------------------------------------------------------------

/**
 * The routes a key may call, as API Gateway method-ARN patterns (`<METHOD>/<path>`): GET on `/v1/usage` and below,
 * and GET on `/v1/activity`. The authorizer's policy allows exactly these; the handlers check `keyMayCall` again.
 */
export const KEY_ROUTE_PATTERNS = ['GET/v1/usage', 'GET/v1/usage/*', 'GET/v1/activity'] as const;

/** Whether an analytics key may call `method path` (a route template or a concrete path). */
export function keyMayCall(method: string, path: string): boolean {
  return method === 'GET' && (path === '/v1/usage' || path.startsWith('/v1/usage/') || path === '/v1/activity');
}
