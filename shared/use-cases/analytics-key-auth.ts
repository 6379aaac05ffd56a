// Checking an analytics key's credentials (the Analytics API's authorizer): the same work and the same answer for an
// unknown key, a wrong secret, a revoked key and a grace that ended, so neither the answer nor its time tells them
// apart. A success notes the key's use (at most once a minute per key and process); failures against a known key go
// into its org's activity feed as one entry per key and minute.

import { DUMMY_DIGEST, acceptedSecrets, digestsMatch, secretDigest, type AnalyticsKeyRecord, type KeyCredentials } from '../domain/analytics-keys';
import type { AnalyticsKeyLedger, Pepper } from '../ports/analytics-keys';
import type { Clock } from '../ports/runtime';
import { log } from '../http/log';
import type { KeyVault } from './analytics-keys';

/** How often a key's lastUsedAt is written at most: the list may lag by this much. */
export const LAST_USED_RESOLUTION_MS = 60_000;
/** Every check compares this many digests, a key's current and previous secret or the dummy in their place. */
const COMPARISONS = 2;

/**
 * Keys' records as read, for up to `ttlMs` (0: not at all): on AWS as long as the gateway caches the authorizer's
 * answer, so a revocation takes effect within that one delay; locally 0, so it takes effect at once.
 */
export class KeyRecordCache {
  private readonly entries = new Map<string, { record: AnalyticsKeyRecord | undefined; until: number }>();
  constructor(private readonly ttlMs: number) {}

  async read(keyId: string, load: () => Promise<AnalyticsKeyRecord | undefined>, nowMs: number): Promise<AnalyticsKeyRecord | undefined> {
    const cached = this.entries.get(keyId);
    if (cached && cached.until > nowMs) return cached.record;
    const record = await load();
    if (this.ttlMs > 0 && record) {
      // Bounded: a flood of distinct ids (each one unknown, so never cached) cannot grow it; real keys are few.
      if (this.entries.size > 10_000) this.entries.clear();
      this.entries.set(keyId, { record, until: nowMs + this.ttlMs });
    }
    return record;
  }
}

/** What one process remembers between checks: records (for the cache's time), last uses noted, failures counted. */
export class KeyCheckMemory {
  readonly records: KeyRecordCache;
  readonly lastNoted = new Map<string, number>();
  /** Per key and minute: failures counted, and how many of them the ledger has. */
  readonly failures = new Map<string, { counted: number; recorded: number }>();
  constructor(recordTtlMs: number) {
    this.records = new KeyRecordCache(recordTtlMs);
  }
}

export interface KeyCheckDependencies {
  readonly vault: KeyVault;
  readonly store: Pick<AnalyticsKeyLedger, 'noteKeyUsed' | 'recordAuthFailures'>;
  readonly clock: Clock;
  readonly memory: KeyCheckMemory;
}

export interface VerifiedKey {
  readonly orgId: string;
  readonly keyId: string;
}

/** The digest of `secret` under the pepper a stored secret names, compared in constant time; false without that pepper. */
async function matches(secret: string, stored: { digest: string; pepperVersion: string } | undefined, deps: Pick<KeyCheckDependencies, 'vault'>, current: Pepper): Promise<boolean> {
  const pepper = stored ? ((await deps.vault.pepper.byVersion(stored.pepperVersion)) ?? current) : current;
  const digest = secretDigest(pepper.value, secret);
  return digestsMatch(digest, stored?.digest ?? DUMMY_DIGEST) && stored !== undefined && pepper.version === stored.pepperVersion;
}

/**
 * The key the credentials prove, or undefined. Steps: read the record (through the cache); compare the secret with
 * each secret the key accepts now, always two comparisons (the dummy digest standing in for a missing one); on
 * success note the use, on failure of a known key count it.
 */
export async function verifyAnalyticsKey(credentials: KeyCredentials, deps: KeyCheckDependencies): Promise<VerifiedKey | undefined> {
  const now = deps.clock.now();
  const [current, record] = await Promise.all([
    deps.vault.pepper.current(),
    deps.memory.records.read(credentials.keyId, async () => (await deps.vault.keys.get(credentials.keyId))?.record, now.getTime()),
  ]);
  const accepted = record ? acceptedSecrets(record, now) : [];
  let proven = false;
  for (let index = 0; index < COMPARISONS; index++) {
    // `||` after the call: every comparison runs, matched or not.
    proven = (await matches(credentials.secret, accepted[index], deps, current)) || proven;
  }
  if (!record) return undefined;
  if (!proven) {
    await countFailure(record, deps, now);
    return undefined;
  }
  await noteUse(record, deps, now);
  return { orgId: record.orgId, keyId: record.keyId };
}

/** Writes lastUsedAt when this process has not for a minute; a failure to write it never fails the check. */
async function noteUse(record: AnalyticsKeyRecord, deps: KeyCheckDependencies, now: Date): Promise<void> {
  const last = deps.memory.lastNoted.get(record.keyId);
  if (last !== undefined && now.getTime() - last < LAST_USED_RESOLUTION_MS) return;
  deps.memory.lastNoted.set(record.keyId, now.getTime());
  const staleBefore = new Date(now.getTime() - LAST_USED_RESOLUTION_MS).toISOString();
  try {
    const noted = await deps.store.noteKeyUsed(record.orgId, record.keyId, now.toISOString(), staleBefore);
    // Another process noted a use within the minute: this one writes again a minute after that, not after its own try.
    if (noted !== undefined && Date.parse(noted) < now.getTime()) deps.memory.lastNoted.set(record.keyId, Date.parse(noted));
  } catch (error) {
    log('warn', 'analytics key: lastUsedAt not written', { keyId: record.keyId, errorName: (error as Error | undefined)?.name ?? typeof error });
  }
}

/**
 * Counts a failed check of a known key in its minute, and writes the count to the minute's feed entry at the 1st,
 * 2nd, 4th, 8th, ... failure: a burst of n attempts costs about log2(n) writes per process, not n.
 */
async function countFailure(record: AnalyticsKeyRecord, deps: KeyCheckDependencies, now: Date): Promise<void> {
  const windowStart = new Date(Math.floor(now.getTime() / 60_000) * 60_000).toISOString();
  const slot = `${record.keyId}@${windowStart}`;
  const counts = deps.memory.failures.get(slot) ?? { counted: 0, recorded: 0 };
  if (!deps.memory.failures.has(slot)) {
    // Only this minute's counts matter: earlier minutes' slots go.
    for (const old of deps.memory.failures.keys()) if (!old.endsWith(`@${windowStart}`)) deps.memory.failures.delete(old);
    deps.memory.failures.set(slot, counts);
  }
  counts.counted += 1;
  if ((counts.counted & (counts.counted - 1)) !== 0) return;
  const failures = counts.counted - counts.recorded;
  counts.recorded = counts.counted;
  const entry = {
    kind: 'analytics_key_auth_failed' as const,
    orgId: record.orgId,
    entryId: `authfail_${record.keyId}_${windowStart}`,
    createdAt: now.toISOString(),
    actor: { kind: 'analytics_key' as const, id: record.keyId },
    keyId: record.keyId,
    windowStart,
    failures,
  };
  await deps.store.recordAuthFailures(entry, failures).catch((error: unknown) => {
    log('warn', 'analytics key: failed authentication not recorded', { keyId: record.keyId, errorName: (error as Error | undefined)?.name ?? typeof error });
  });
}
