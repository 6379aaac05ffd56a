// Checking an analytics key's credentials (the Analytics API's authorizer): the same work and the same answer for an
// unknown key, a wrong secret, a revoked key and a grace that ended, so neither the answer nor its time tells them
// apart (two digests compared in constant time, a dummy standing in; unknown ids cached as keys are; a failure's
// count written after the answer). A success notes the key's use (at most once a minute per key and process); failures against a known key go
// into its org's activity feed as one entry per key and minute.

import { DUMMY_DIGEST, acceptedSecrets, digestsMatch, secretDigest, type AnalyticsKeyRecord, type KeyCredentials } from '../domain/analytics-keys';
import type { AnalyticsKeyLedger, Pepper } from '../ports/analytics-keys';
import type { Clock } from '../ports/runtime';
import { log } from '../http/log';
import type { KeyVault } from './analytics-keys';

/** How often a key's lastUsedAt is written at most: the list may lag by this much. */
export const LAST_USED_RESOLUTION_MS = 60_000;
/** How old a cached record must be before a secret it refuses sends the check to the key store once more. */
export const CACHE_RECHECK_MS = 5_000;
/** Every check compares this many digests, a key's current and previous secret or the dummy in their place. */
const COMPARISONS = 2;

/**
 * Keys' records as read, for up to `ttlMs` (0: not at all): on AWS as long as the gateway caches the authorizer's
 * answer, so a revocation takes effect within two such delays at worst (a record read just before it, then an
 * answer cached from that record); locally 0, so it takes effect at once. A secret rotated in is not kept waiting:
 * a refusal by a record cached for CACHE_RECHECK_MS or more reads the record again.
 */
export class KeyRecordCache {
  private readonly entries = new Map<string, { record: AnalyticsKeyRecord | undefined; until: number; readAt: number }>();
  constructor(private readonly ttlMs: number) {}

  /** The record as read, and whether it came from the cache (and may be older than a change just made). */
  async read(keyId: string, load: () => Promise<AnalyticsKeyRecord | undefined>, nowMs: number): Promise<{ record: AnalyticsKeyRecord | undefined; cachedSince?: number }> {
    const cached = this.entries.get(keyId);
    if (cached && cached.until > nowMs) return { record: cached.record, cachedSince: cached.readAt };
    return { record: await this.load(keyId, load, nowMs) };
  }

  /** Reads the record again, past the cache, and keeps what it read. */
  async load(keyId: string, load: () => Promise<AnalyticsKeyRecord | undefined>, nowMs: number): Promise<AnalyticsKeyRecord | undefined> {
    const record = await load();
    // Unknown ids are cached too: a cached unknown id answers as fast as a cached key, so the time tells neither apart.
    if (this.ttlMs > 0) {
      // Bounded: a flood of distinct ids cannot grow it past this.
      if (this.entries.size >= 10_000) this.entries.clear();
      this.entries.set(keyId, { record, until: nowMs + this.ttlMs, readAt: nowMs });
    }
    return record;
  }
}

/** What one process remembers between checks: records (for the cache's time), last uses noted, failures counted. */
export class KeyCheckMemory {
  readonly records: KeyRecordCache;
  readonly lastNoted = new Map<string, number>();
  /** Per key and minute: failures counted, and how many of them the ledger has. */
  readonly failures = new Map<string, FailureSlot>();
  /** Failure counts being written after their answers went out. */
  private readonly writing = new Set<Promise<void>>();
  constructor(recordTtlMs: number) {
    this.records = new KeyRecordCache(recordTtlMs);
  }

  /** Runs `write` without holding up the answer: a refusal takes as long whether or not it writes. */
  inBackground(write: Promise<void>): void {
    const tracked = write.finally(() => this.writing.delete(tracked));
    this.writing.add(tracked);
  }

  /** Resolves once the writes started so far are done (tests; a Lambda instance need not wait for them). */
  async settled(): Promise<void> {
    while (this.writing.size > 0) await Promise.allSettled([...this.writing]);
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
  const load = async () => (await deps.vault.keys.get(credentials.keyId))?.record;
  const [current, read] = await Promise.all([deps.vault.pepper.current(), deps.memory.records.read(credentials.keyId, load, now.getTime())]);
  let record = read.record;
  let proven = await proves(credentials.secret, record, now, deps, current);
  // A secret the cached record does not know may be one rotated in since it was read: read once more (at most every
  // few seconds per id, known or unknown alike, so a flood of wrong secrets stays cached).
  if (!proven && read.cachedSince !== undefined && now.getTime() - read.cachedSince >= CACHE_RECHECK_MS) {
    record = await deps.memory.records.load(credentials.keyId, load, now.getTime());
    proven = await proves(credentials.secret, record, now, deps, current);
  }
  if (!record) return undefined;
  if (!proven) {
    // After the answer, off this call's path: the refusal of a real key takes as long as an unknown key's.
    const refused = record;
    deps.memory.inBackground(new Promise<void>((done) => setImmediate(done)).then(() => countFailure(refused, deps, now)));
    return undefined;
  }
  await noteUse(record, deps, now);
  return { orgId: record.orgId, keyId: record.keyId };
}

/** Whether the secret matches one the record accepts now: always two comparisons, the dummy standing in. */
async function proves(secret: string, record: AnalyticsKeyRecord | undefined, now: Date, deps: Pick<KeyCheckDependencies, 'vault'>, current: Pepper): Promise<boolean> {
  const accepted = record ? acceptedSecrets(record, now) : [];
  let proven = false;
  for (let index = 0; index < COMPARISONS; index++) {
    // `||` after the call: every comparison runs, matched or not.
    proven = (await matches(secret, accepted[index], deps, current)) || proven;
  }
  return proven;
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

/** A key's failed checks in one minute, as this process counted them and wrote them. */
export interface FailureSlot {
  readonly orgId: string;
  readonly keyId: string;
  readonly windowStart: string;
  readonly firstAt: string;
  counted: number;
  recorded: number;
}

/**
 * Counts a failed check of a known key in its minute, and writes the count to the minute's feed entry at the 1st,
 * 2nd, 4th, 8th, ... failure: a burst of n attempts costs about log2(n) writes per process, not n. What a minute
 * counted beyond its last write is written when the process next counts a failure in a later minute.
 */
function countFailure(record: AnalyticsKeyRecord, deps: KeyCheckDependencies, now: Date): void {
  const windowStart = new Date(Math.floor(now.getTime() / 60_000) * 60_000).toISOString();
  const id = `${record.keyId}@${windowStart}`;
  let slot = deps.memory.failures.get(id);
  if (!slot) {
    // Earlier minutes are over: their last counts are written, and their slots go (this minute's other keys stay).
    for (const [oldId, old] of deps.memory.failures) {
      if (old.windowStart >= windowStart) continue;
      if (old.counted > old.recorded) writeFailures(old, deps);
      deps.memory.failures.delete(oldId);
    }
    slot = { orgId: record.orgId, keyId: record.keyId, windowStart, firstAt: now.toISOString(), counted: 0, recorded: 0 };
    deps.memory.failures.set(id, slot);
  }
  slot.counted += 1;
  if ((slot.counted & (slot.counted - 1)) === 0) writeFailures(slot, deps);
}

/**
 * Adds what the slot counted since its last write to its minute's entry, after the answer: awaiting the write would
 * make a wrong secret for a real key slower than one for an unknown key. On Lambda the write may finish in the
 * instance's next invocation, or not at all if the instance is retired: the count is a lower bound either way.
 */
function writeFailures(slot: FailureSlot, deps: KeyCheckDependencies): void {
  const failures = slot.counted - slot.recorded;
  slot.recorded = slot.counted;
  const entry = {
    kind: 'analytics_key_auth_failed' as const,
    orgId: slot.orgId,
    entryId: `authfail_${slot.keyId}_${slot.windowStart}`,
    createdAt: slot.firstAt,
    actor: { kind: 'analytics_key' as const, id: slot.keyId },
    keyId: slot.keyId,
    windowStart: slot.windowStart,
    failures,
  };
  deps.memory.inBackground(
    deps.store.recordAuthFailures(entry, failures).catch((error: unknown) => {
      log('warn', 'analytics key: failed authentication not recorded', { keyId: slot.keyId, errorName: (error as Error | undefined)?.name ?? typeof error });
    }),
  );
}
