// Analytics keys without a network: the formats and their checksum, the rotation and revocation rules, the
// authorizer's answer to every kind of Basic header (never anything but 401 or an allow), what a key's policy allows,
// the revocation delay of the record cache, and how often a check writes (lastUsedAt, failure bursts).

import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { authorizeAnalyticsRequest } from '../../functions/auth/analytics-authorizer.handler';
import { API_AREAS } from '../../infra/api-routes';
import { ROUTE_MAPS } from '../../infra/openapi-document';
import { localKeyStore, localPepper } from '../../shared/adapters/local/file-key-store';
import {
  DUMMY_DIGEST,
  KEY_ID_PATTERN,
  KEY_ROUTE_PATTERNS,
  MAX_CREDENTIALS_BYTES,
  SECRET_PATTERN,
  acceptedSecrets,
  decodeBasicCredentials,
  digestsMatch,
  graceEndsAt,
  isWellFormedSecret,
  keyCredentialsOf,
  keyMayCall,
  newKeyId,
  newKeyRecord,
  newSecret,
  revokedRecord,
  rotatedRecord,
  secretDigest,
  type StoredSecret,
} from '../../shared/domain/analytics-keys';
import { UnauthorizedError } from '../../shared/domain/errors';
import type { AnalyticsKeyFailureEntry, AnalyticsKeyLedger } from '../../shared/ports/analytics-keys';
import type { KeyVault } from '../../shared/use-cases/analytics-keys';
import { CACHE_RECHECK_MS, KeyCheckMemory, verifyAnalyticsKey } from '../../shared/use-cases/analytics-key-auth';
import { authorizerEvent } from '../support/api-events';
import { manualClock } from '../support/ledger-fixture';

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/api/GET/v1/usage';
const STAGE = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/api';
const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

describe('key and secret formats', () => {
  it('makes ids and secrets of the documented shapes, whose key:secret fits one base64 line (57 bytes, 76 characters)', () => {
    for (let index = 0; index < 200; index++) {
      const keyId = newKeyId();
      const secret = newSecret();
      expect(keyId).toMatch(KEY_ID_PATTERN);
      expect(secret).toMatch(SECRET_PATTERN);
      expect(isWellFormedSecret(secret)).toBe(true);
      expect(Buffer.byteLength(`${keyId}:${secret}`)).toBeLessThanOrEqual(MAX_CREDENTIALS_BYTES);
      expect(Buffer.from(`${keyId}:${secret}`).toString('base64').length).toBeLessThanOrEqual(76);
    }
  });

  it('draws 22 random base62 characters per secret: at least 128 bits, and no two alike', () => {
    expect(22 * Math.log2(62)).toBeGreaterThanOrEqual(128);
    const secrets = new Set(Array.from({ length: 2000 }, newSecret));
    expect(secrets.size).toBe(2000);
  });

  it('refuses, by its checksum, a secret with any one character changed, and any secret cut short or grown', () => {
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 32 }), fc.constantFrom(...alphabet), (position, replacement) => {
        const secret = newSecret();
        fc.pre(secret[position] !== replacement);
        const changed = `${secret.slice(0, position)}${replacement}${secret.slice(position + 1)}`;
        expect(isWellFormedSecret(changed)).toBe(false);
        expect(isWellFormedSecret(secret.slice(0, -1))).toBe(false);
        expect(isWellFormedSecret(`${secret}0`)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('reads key:secret only when both parts have their shapes (a JWT has no colon)', () => {
    const keyId = newKeyId();
    const secret = newSecret();
    expect(keyCredentialsOf(`${keyId}:${secret}`)).toEqual({ keyId, secret });
    for (const text of [`${keyId}${secret}`, `${keyId}:`, `:${secret}`, `${keyId}:${secret}:`, `${keyId.toUpperCase()}:${secret}`, `${keyId} :${secret}`, 'eyJ.eyJ.sig']) {
      expect(keyCredentialsOf(text), text).toBeUndefined();
    }
  });

  it('decodes Basic credentials strictly: padding, alphabet and a sane length', () => {
    expect(decodeBasicCredentials(Buffer.from('a:b').toString('base64'))).toBe('a:b');
    for (const encoded of ['YTpi=', 'YTpi!', '%%%%', 'Y', `${'A'.repeat(400)}`, 'YTpi===', '']) expect(decodeBasicCredentials(encoded), encoded).toBeUndefined();
  });
});

describe('digests', () => {
  it('matches a secret only under the same pepper, and never the dummy', () => {
    const pepper = Buffer.from('pepper-one');
    const secret = newSecret();
    const digest = secretDigest(pepper, secret);
    expect(digestsMatch(secretDigest(pepper, secret), digest)).toBe(true);
    expect(digestsMatch(secretDigest(Buffer.from('pepper-two'), secret), digest)).toBe(false);
    expect(digestsMatch(secretDigest(pepper, newSecret()), digest)).toBe(false);
    expect(digestsMatch(digest, DUMMY_DIGEST)).toBe(false);
    expect(digestsMatch(digest, 'short')).toBe(false);
    expect(digestsMatch('short', 'short')).toBe(false);
  });
});

describe('rotation and revocation', () => {
  const at = (iso: string) => new Date(iso);
  const stored = (createdAt: string, digest: string): StoredSecret => ({ digest, pepperVersion: 'v1', hint: 'cuas_abcd', createdAt, validUntil: null });
  const created = newKeyRecord({ keyId: newKeyId(), orgId: 'acme', name: 'bi', secret: stored('2026-05-01T00:00:00.000Z', 'first') });

  it('keeps the old secret for the grace (exclusive at its end), and only the one just replaced', () => {
    const rotated = rotatedRecord(created, stored('2026-05-02T00:00:00.000Z', 'second'), 3600);
    expect(rotated.version).toBe(2);
    expect(acceptedSecrets(rotated, at('2026-05-02T00:59:59.999Z')).map((secret) => secret.digest)).toEqual(['second', 'first']);
    expect(acceptedSecrets(rotated, at('2026-05-02T01:00:00.000Z')).map((secret) => secret.digest)).toEqual(['second']);
    expect(graceEndsAt(rotated, at('2026-05-02T00:30:00.000Z'))).toBe('2026-05-02T01:00:00.000Z');

    const again = rotatedRecord(rotated, stored('2026-05-02T00:10:00.000Z', 'third'), 60);
    expect(acceptedSecrets(again, at('2026-05-02T00:10:30.000Z')).map((secret) => secret.digest)).toEqual(['third', 'second']);
  });

  it('ends the old secret at once with no grace, and accepts nothing once revoked (revoking twice changes nothing)', () => {
    const rotated = rotatedRecord(created, stored('2026-05-02T00:00:00.000Z', 'second'), 0);
    expect(acceptedSecrets(rotated, at('2026-05-02T00:00:00.000Z')).map((secret) => secret.digest)).toEqual(['second']);
    const revoked = revokedRecord(rotated, '2026-05-03T00:00:00.000Z');
    expect(acceptedSecrets(revoked, at('2026-05-03T00:00:00.000Z'))).toEqual([]);
    expect(revokedRecord(revoked, '2026-05-04T00:00:00.000Z')).toBe(revoked);
  });
});

describe('what a key may call', () => {
  it('is exactly the routes of the registry that let analytics keys in: GET /v1/usage* and GET /v1/activity', () => {
    const registry = API_AREAS.flatMap((area) => area.routeKeys.map((routeKey) => ({ routeKey, accepts: ROUTE_MAPS[area.name]![routeKey]!.accepts })));
    const forKeys = registry.filter(({ accepts }) => accepts !== 'anyone' && accepts.includes('analytics_key')).map(({ routeKey }) => routeKey);
    const allowed = registry.filter(({ routeKey }) => keyMayCall(...(routeKey.split(' ') as [string, string]))).map(({ routeKey }) => routeKey);
    expect(forKeys.sort()).toEqual(allowed.sort());
    expect(forKeys).toContain('GET /v1/usage');
    expect(forKeys).toContain('GET /v1/activity');
    // The policy's patterns say the same of every route: a `*` covers one or more path segments.
    for (const { routeKey } of registry) {
      const [method, path] = routeKey.split(' ') as [string, string];
      const covered = KEY_ROUTE_PATTERNS.some((pattern) => new RegExp(`^${pattern.replaceAll('*', '.+')}$`).test(`${method}${path}`));
      expect([routeKey, covered]).toEqual([routeKey, keyMayCall(method, path)]);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The authorizer and the check, on the local (in-memory) key store
// ---------------------------------------------------------------------------------------------------------------

interface LedgerCalls {
  readonly used: { keyId: string; at: string }[];
  readonly failures: { entry: AnalyticsKeyFailureEntry; failures: number }[];
}

function recordingLedger(): Pick<AnalyticsKeyLedger, 'noteKeyUsed' | 'recordAuthFailures'> & LedgerCalls {
  const used: LedgerCalls['used'] = [];
  const failures: LedgerCalls['failures'] = [];
  return {
    used,
    failures,
    noteKeyUsed: async (_orgId, keyId, at) => (used.push({ keyId, at }), at),
    recordAuthFailures: async (entry, count) => void failures.push({ entry, failures: count }),
  };
}


describe('the authorizer, for analytics keys', () => {
  const clock = manualClock('2026-05-01T00:00:00.000Z');
  let vault: KeyVault;
  let ledger: ReturnType<typeof recordingLedger>;
  let memory: KeyCheckMemory;
  let keyId: string;
  let secret: string;

  const authorize = (authorization: string | undefined) =>
    authorizeAnalyticsRequest(authorizerEvent(authorization, { methodArn: METHOD_ARN }), {
      // As the real verifier answers anything that is not a valid JWT.
      people: { verify: async () => Promise.reject(new UnauthorizedError('not a person token')) },
      keys: (credentials) => verifyAnalyticsKey(credentials, { vault, store: ledger, clock, memory }),
    });

  /** Stores a key whose one secret is `secret`, as the create use case does. */
  async function storeKey(orgId = 'acme') {
    const id = newKeyId();
    const plain = newSecret();
    const pepper = await vault.pepper.current();
    const digest = { digest: secretDigest(pepper.value, plain), pepperVersion: pepper.version, hint: plain.slice(0, 9), createdAt: clock.now().toISOString(), validUntil: null };
    await vault.keys.create(newKeyRecord({ keyId: id, orgId, name: 'bi', secret: digest }));
    return { id, plain };
  }

  beforeEach(async () => {
    clock.set('2026-05-01T00:00:00.000Z');
    vault = { keys: localKeyStore(undefined), pepper: localPepper(undefined) };
    ledger = recordingLedger();
    memory = new KeyCheckMemory(0);
    ({ id: keyId, plain: secret } = await storeKey());
  });

  it('allows a valid key, as Basic or as Bearer key:secret, on the read routes only, naming its org and key', async () => {
    for (const authorization of [basic(`${keyId}:${secret}`), `basic ${Buffer.from(`${keyId}:${secret}`).toString('base64')}`, `Bearer ${keyId}:${secret}`]) {
      expect(await authorize(authorization)).toEqual({
        principalId: keyId,
        policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: KEY_ROUTE_PATTERNS.map((route) => `${STAGE}/${route}`) }] },
        context: { principalKind: 'analytics_key', orgId: 'acme', keyId },
      });
    }
  });

  it.each([
    ['no colon', () => basic(`${keyId}${secret}`)],
    ['bad base64', () => 'Basic !!not-base64!!'],
    ['base64 without its padding', () => `Basic ${Buffer.from(`${keyId}:${secret}x`).toString('base64').replace(/=+$/, '')}`],
    ['an empty key', () => basic(`:${secret}`)],
    ['an empty secret', () => basic(`${keyId}:`)],
    ['both parts empty', () => basic(':')],
    ['nothing after the scheme', () => 'Basic '],
    ['10 KB of credentials', () => basic(`${keyId}:${'a'.repeat(10 * 1024)}`)],
    ['a 10 KB header of padding', () => `Basic ${'A'.repeat(10 * 1024)}`],
    ['unicode in the secret', () => basic(`${keyId}:${secret.slice(0, -2)}é€`)],
    ['unicode in the header itself', () => `Basic ${keyId}:sécret`],
    ['spaces inside the credentials', () => `Basic ${Buffer.from(`${keyId}:${secret}`).toString('base64').slice(0, 8)} ${Buffer.from(`${keyId}:${secret}`).toString('base64').slice(8)}`],
    ['a wrong scheme', () => `Digest ${Buffer.from(`${keyId}:${secret}`).toString('base64')}`],
    ['a scheme glued to the value', () => `Basic${Buffer.from(`${keyId}:${secret}`).toString('base64')}`],
    ['the secret with its checksum broken', () => basic(`${keyId}:${secret.slice(0, -1)}${secret.endsWith('0') ? '1' : '0'}`)],
    ['an unknown key with a well-formed secret', () => basic(`${newKeyId()}:${newSecret()}`)],
    ["another key's well-formed secret", () => basic(`${keyId}:${newSecret()}`)],
    ['Bearer key: with no secret', () => `Bearer ${keyId}:`],
  ])('refuses %s with Unauthorized, never another error', async (_name, header) => {
    await expect(authorize(header())).rejects.toThrow(/^Unauthorized$/);
  });

  it('refuses any header fast-check can make that is not the key, with Unauthorized only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.base64String()), fc.constantFrom('Basic ', 'Bearer ', 'basic  ', ''), async (value, scheme) => {
        await expect(authorize(`${scheme}${value}`)).rejects.toThrow(/^Unauthorized$/);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a revoked key and a grace that ended, with the same answer as a wrong secret', async () => {
    const stored = (await vault.keys.get(keyId))!;
    const pepper = await vault.pepper.current();
    const next = newSecret();
    const rotated = rotatedRecord(stored.record, { digest: secretDigest(pepper.value, next), pepperVersion: pepper.version, hint: next.slice(0, 9), createdAt: clock.now().toISOString(), validUntil: null }, 600);
    expect(await vault.keys.replace(rotated, stored.revision)).toBe('done');

    expect((await authorize(basic(`${keyId}:${secret}`))).principalId).toBe(keyId);
    expect((await authorize(basic(`${keyId}:${next}`))).principalId).toBe(keyId);
    clock.set('2026-05-01T00:10:00.000Z');
    await expect(authorize(basic(`${keyId}:${secret}`))).rejects.toThrow(/^Unauthorized$/);
    expect((await authorize(basic(`${keyId}:${next}`))).principalId).toBe(keyId);

    const current = (await vault.keys.get(keyId))!;
    expect(await vault.keys.replace(revokedRecord(current.record, clock.now().toISOString()), current.revision)).toBe('done');
    await expect(authorize(basic(`${keyId}:${next}`))).rejects.toThrow(/^Unauthorized$/);
  });

  it('with a record cache (AWS: as long as the gateway caches), a revoked key works until the cache ends; without one (locally), not at all', async () => {
    memory = new KeyCheckMemory(60_000);
    expect((await authorize(basic(`${keyId}:${secret}`))).principalId).toBe(keyId);
    const stored = (await vault.keys.get(keyId))!;
    await vault.keys.replace(revokedRecord(stored.record, clock.now().toISOString()), stored.revision);

    clock.set('2026-05-01T00:00:59.999Z');
    expect((await authorize(basic(`${keyId}:${secret}`))).principalId).toBe(keyId);
    clock.set('2026-05-01T00:01:00.000Z');
    await expect(authorize(basic(`${keyId}:${secret}`))).rejects.toThrow(/^Unauthorized$/);

    const fresh = await storeKey();
    memory = new KeyCheckMemory(0);
    expect((await authorize(basic(`${fresh.id}:${fresh.plain}`))).principalId).toBe(fresh.id);
    const current = (await vault.keys.get(fresh.id))!;
    await vault.keys.replace(revokedRecord(current.record, clock.now().toISOString()), current.revision);
    await expect(authorize(basic(`${fresh.id}:${fresh.plain}`))).rejects.toThrow(/^Unauthorized$/);
  });

  it('writes lastUsedAt once a minute per key, not once a call', async () => {
    for (let second = 0; second < 120; second++) {
      clock.set(new Date(Date.parse('2026-05-01T00:00:00.000Z') + second * 1000).toISOString());
      await authorize(basic(`${keyId}:${secret}`));
    }
    expect(ledger.used).toEqual([
      { keyId, at: '2026-05-01T00:00:00.000Z' },
      { keyId, at: '2026-05-01T00:01:00.000Z' },
    ]);
  });

  it('records a burst of wrong secrets against a known key as one count per minute, written at the 1st, 2nd, 4th, ... failure', async () => {
    for (let attempt = 0; attempt < 100; attempt++) await expect(authorize(basic(`${keyId}:${newSecret()}`))).rejects.toThrow(/^Unauthorized$/);
    // Counted after the answers, off their path.
    await memory.settled();
    expect(ledger.failures.map((call) => call.failures)).toEqual([1, 1, 2, 4, 8, 16, 32]);
    expect(ledger.failures.reduce((sum, call) => sum + call.failures, 0)).toBe(64);
    expect(new Set(ledger.failures.map((call) => call.entry.windowStart))).toEqual(new Set(['2026-05-01T00:00:00.000Z']));
    expect(ledger.failures[0]!.entry).toMatchObject({ kind: 'analytics_key_auth_failed', orgId: 'acme', keyId, actor: { kind: 'analytics_key', id: keyId } });

    // The next minute's first failure writes what the last one counted beyond its last write (100 - 64), then starts
    // its own count; unknown keys and malformed secrets are never recorded (no org to tell).
    clock.set('2026-05-01T00:01:00.000Z');
    await expect(authorize(basic(`${keyId}:${newSecret()}`))).rejects.toThrow(/^Unauthorized$/);
    await expect(authorize(basic(`${newKeyId()}:${newSecret()}`))).rejects.toThrow(/^Unauthorized$/);
    await expect(authorize(basic(`${keyId}:not-a-secret`))).rejects.toThrow(/^Unauthorized$/);
    await memory.settled();
    expect(ledger.failures.slice(7).map((call) => [call.entry.windowStart, call.failures])).toEqual([
      ['2026-05-01T00:00:00.000Z', 36],
      ['2026-05-01T00:01:00.000Z', 1],
    ]);
    expect(ledger.used).toEqual([]);
  });

  it('counts two keys attacked in turn apart: a few writes per key and minute, not one per attempt', async () => {
    const other = await storeKey();
    for (let attempt = 0; attempt < 100; attempt++) {
      const target = attempt % 2 === 0 ? keyId : other.id;
      await expect(authorize(basic(`${target}:${newSecret()}`))).rejects.toThrow(/^Unauthorized$/);
    }
    await memory.settled();
    for (const id of [keyId, other.id]) {
      expect(ledger.failures.filter((call) => call.entry.keyId === id).map((call) => call.failures)).toEqual([1, 1, 2, 4, 8, 16]);
    }
  });

  it('with a warm cache, accepts a secret rotated in since the record was read, once the cached record is a few seconds old', async () => {
    memory = new KeyCheckMemory(60_000);
    expect((await authorize(basic(`${keyId}:${secret}`))).principalId).toBe(keyId);
    const stored = (await vault.keys.get(keyId))!;
    const pepper = await vault.pepper.current();
    const next = newSecret();
    const rotated = rotatedRecord(stored.record, { digest: secretDigest(pepper.value, next), pepperVersion: pepper.version, hint: next.slice(0, 9), createdAt: clock.now().toISOString(), validUntil: null }, 0);
    await vault.keys.replace(rotated, stored.revision);

    clock.set(new Date(Date.parse('2026-05-01T00:00:00.000Z') + CACHE_RECHECK_MS).toISOString());
    expect((await authorize(basic(`${keyId}:${next}`))).principalId).toBe(keyId);
    // The record read again is the rotated one: the old secret is refused at once, not a minute later.
    await expect(authorize(basic(`${keyId}:${secret}`))).rejects.toThrow(/^Unauthorized$/);
  });

  it('never puts the secret into the answer, the context or the ledger calls', async () => {
    const allowed = await authorize(basic(`${keyId}:${secret}`));
    for (let attempt = 0; attempt < 3; attempt++) await authorize(basic(`${keyId}:${newSecret()}`)).catch(() => undefined);
    await memory.settled();
    expect(ledger.failures).not.toHaveLength(0);
    expect(JSON.stringify([allowed, ledger.used, ledger.failures])).not.toContain(secret.slice(5));
  });
});
