// Managing an org's analytics keys (seed 003): create (the secret shown once), list, rotate with a grace, revoke.
// For org admins (a person whose member record says org_admin) and the platform's backend; nobody else.
//
// Each change is written to the key store first (the authority on which secrets a key accepts), then to the ledger (the
// key's listing and its activity entry, together). If the ledger write fails, the key-store change is undone where
// undoing is safe: a new key is discarded (its secret was never shown), a rotation is put back (the old secret keeps
// working, the new one was never shown). A revocation is never undone: the key stays revoked, and repeating the DELETE
// records it.

import {
  MAX_GRACE_SECONDS,
  graceEndsAt,
  newKeyId,
  newKeyRecord,
  newSecret,
  revokedRecord,
  rotatedRecord,
  secretDigest,
  secretHint,
  type AnalyticsKeyRecord,
  type StoredSecret,
} from '../domain/analytics-keys';
import { analyticsKeyLimitReached, analyticsKeyNotFound, analyticsKeyRevoked, forbidden, invalidField, orgNotFound } from '../domain/errors';
import type { Principal } from '../domain/permissions';
import type { AdminStore } from '../ports/admin-store';
import type { AnalyticsKeyEntry, AnalyticsKeyLedger, AnalyticsKeyListing, AnalyticsKeyStore, PepperSource, StoredKey } from '../ports/analytics-keys';
import { serviceActor, type ActivityActor } from '../ports/ledger-records';
import type { Clock, IdGenerator } from '../ports/runtime';
import { log } from '../http/log';
import { membershipOf } from './reader-access';
import { AGAIN, retryRounds, withStoreRetries } from './store-retry';

/** The most live (not revoked) keys an org may hold: each is a secret in Secrets Manager, billed monthly. */
export const MAX_LIVE_KEYS_PER_ORG = 20;

/** The key store and the pepper: on AWS both in Secrets Manager, locally files under the data folder. */
export interface KeyVault {
  readonly keys: AnalyticsKeyStore;
  readonly pepper: PepperSource;
}

export interface KeyManagementDependencies {
  readonly store: AnalyticsKeyLedger & Pick<AdminStore, 'getScope' | 'getOrg'>;
  readonly vault: KeyVault;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

/** Who manages the keys of `orgId`, as the activity log names them: the service (for whom it says), or an org admin. */
export async function keyAdministrator(principal: Principal, orgId: string, actingUserId: string | undefined, deps: { readonly store: Pick<AdminStore, 'getScope'> }): Promise<ActivityActor> {
  if (principal.kind === 'service') return serviceActor(actingUserId);
  // An analytics key reads; it never manages keys, not even its own.
  if (principal.kind !== 'person' || principal.orgId !== orgId) throw forbidden();
  if ((await membershipOf(principal, deps))?.role !== 'org_admin') throw forbidden();
  return { kind: 'person', id: principal.userId };
}

async function requireOrg(orgId: string, deps: Pick<KeyManagementDependencies, 'store'>): Promise<void> {
  if (!(await withStoreRetries(() => deps.store.getOrg(orgId)))) throw orgNotFound(orgId);
}

async function storedSecret(secret: string, deps: Pick<KeyManagementDependencies, 'vault'>, createdAt: string): Promise<StoredSecret> {
  const pepper = await deps.vault.pepper.current();
  return { digest: secretDigest(pepper.value, secret), pepperVersion: pepper.version, hint: secretHint(secret), createdAt, validUntil: null };
}

/** The key's line in the org's list, from its record. */
export function listingOf(record: AnalyticsKeyRecord, now: Date): Omit<AnalyticsKeyListing, 'lastUsedAt'> {
  const current = record.secrets.find((secret) => secret.validUntil === null);
  return {
    keyId: record.keyId,
    orgId: record.orgId,
    name: record.name,
    status: record.status,
    secretHint: current?.hint ?? '',
    createdAt: record.createdAt,
    rotatedAt: record.rotatedAt,
    graceEndsAt: graceEndsAt(record, now),
    revokedAt: record.revokedAt,
    version: record.version,
  };
}

function entryOf(kind: AnalyticsKeyEntry['kind'], record: AnalyticsKeyRecord, actor: ActivityActor, at: Date, deps: Pick<KeyManagementDependencies, 'ids'>): AnalyticsKeyEntry {
  return { kind, orgId: record.orgId, entryId: deps.ids.eventId(), createdAt: at.toISOString(), actor, keyId: record.keyId, name: record.name, graceEndsAt: kind === 'analytics_key_rotated' ? graceEndsAt(record, at) : null };
}

/** Runs `undo` after a failed ledger write; its own failure is logged, and the ledger's error is the one thrown. */
async function recordOrUndo(record: () => Promise<void>, undo: () => Promise<void>, what: string): Promise<void> {
  try {
    await withStoreRetries(record);
  } catch (error) {
    await undo().catch((undoError: unknown) => log('error', `analytics key: ${what} could not be undone`, { errorName: (undoError as Error | undefined)?.name ?? typeof undoError }));
    throw error;
  }
}

export interface CreatedKey {
  readonly keyId: string;
  readonly name: string;
  /** Shown this once: only its digest is stored. */
  readonly secret: string;
  readonly createdAt: string;
}

/**
 * Creates a key: checks the org and the live-key limit, stores the record (a new id if the rare collision happens),
 * records the listing and the activity entry (or discards the record), and answers the secret once.
 */
export async function createAnalyticsKey(request: { orgId: string; name: string; actor: ActivityActor }, deps: KeyManagementDependencies): Promise<CreatedKey> {
  await requireOrg(request.orgId, deps);
  const live = (await withStoreRetries(() => deps.store.listKeys(request.orgId))).filter((key) => key.status === 'active');
  if (live.length >= MAX_LIVE_KEYS_PER_ORG) throw analyticsKeyLimitReached(MAX_LIVE_KEYS_PER_ORG);
  const now = deps.clock.now();
  const secret = newSecret();
  const stored = await storedSecret(secret, deps, now.toISOString());
  let record: AnalyticsKeyRecord | undefined;
  for (let attempt = 0; attempt < 3 && !record; attempt++) {
    const candidate = newKeyRecord({ keyId: newKeyId(), orgId: request.orgId, name: request.name, secret: stored });
    if ((await deps.vault.keys.create(candidate)) === 'created') record = candidate;
  }
  if (!record) throw new Error('Three random key ids in a row were taken.');
  const created = record;
  const entry = entryOf('analytics_key_created', created, request.actor, now, deps);
  await recordOrUndo(
    () => deps.store.recordKeyChange(listingOf(created, now), entry),
    () => deps.vault.keys.discard(created.keyId),
    'a creation',
  );
  return { keyId: created.keyId, name: created.name, secret, createdAt: created.createdAt };
}

/** The key as the key store holds it, if it is one of the org's: another org's key is as unknown as a missing one. */
async function orgKey(orgId: string, keyId: string, deps: Pick<KeyManagementDependencies, 'vault'>): Promise<StoredKey> {
  const stored = await deps.vault.keys.get(keyId);
  if (!stored || stored.record.orgId !== orgId) throw analyticsKeyNotFound(keyId);
  return stored;
}

/** Changes the record by `change` over the revision it read, reading again when another change came first. */
async function changeRecord(orgId: string, keyId: string, change: (record: AnalyticsKeyRecord) => AnalyticsKeyRecord | undefined, deps: Pick<KeyManagementDependencies, 'vault'>) {
  return retryRounds(async () => {
    const before = await orgKey(orgId, keyId, deps);
    const after = change(before.record);
    if (!after) return { before, after: before.record };
    return (await deps.vault.keys.replace(after, before.revision)) === 'done' ? { before, after } : AGAIN;
  });
}

export interface RotatedKey extends CreatedKey {
  readonly rotatedAt: string;
  /** When the previous secret stops working; null: it stopped at once. */
  readonly previousSecretValidUntil: string | null;
}

/**
 * Rotates a key's secret: a new secret replaces the current one, which keeps working for `graceSeconds` (0 to 7
 * days). Stored over the revision read, then listed and logged; a failed ledger write puts the old record back.
 */
export async function rotateAnalyticsKey(request: { orgId: string; keyId: string; graceSeconds: number; actor: ActivityActor }, deps: KeyManagementDependencies): Promise<RotatedKey> {
  if (!Number.isInteger(request.graceSeconds) || request.graceSeconds < 0 || request.graceSeconds > MAX_GRACE_SECONDS) {
    throw invalidField('graceSeconds', `must be a whole number of seconds from 0 to ${MAX_GRACE_SECONDS} (7 days)`);
  }
  const now = deps.clock.now();
  const secret = newSecret();
  const next = await storedSecret(secret, deps, now.toISOString());
  const { before, after } = await changeRecord(
    request.orgId,
    request.keyId,
    (record) => {
      if (record.status === 'revoked') throw analyticsKeyRevoked(record.keyId);
      // Already in: this rotation's own write, read back after a retry. Rotating it again would drop the old secret.
      if (record.secrets.some((secret) => secret.digest === next.digest)) return undefined;
      return rotatedRecord(record, next, request.graceSeconds);
    },
    deps,
  );
  // One entry, whatever the retries: a retry after a commit whose answer was lost finds it there.
  const entry = entryOf('analytics_key_rotated', after, request.actor, now, deps);
  await recordOrUndo(
    () => deps.store.recordKeyChange(listingOf(after, now), entry),
    async () => {
      const current = await deps.vault.keys.get(after.keyId);
      // The old secrets back, as a newer version: versions only grow, so the listing follows whatever comes next.
      if (current?.record.version === after.version) await deps.vault.keys.replace({ ...before.record, version: after.version + 1 }, current.revision);
    },
    'a rotation',
  );
  return { keyId: after.keyId, name: after.name, secret, createdAt: after.createdAt, rotatedAt: now.toISOString(), previousSecretValidUntil: graceEndsAt(after, now) };
}

/**
 * Revokes a key at once (no grace): stored first, so the key stops working even if the ledger write then fails; a
 * repeated DELETE finds it revoked and records the listing and the entry (once).
 */
export async function revokeAnalyticsKey(request: { orgId: string; keyId: string; actor: ActivityActor }, deps: KeyManagementDependencies): Promise<AnalyticsKeyRecord> {
  const now = deps.clock.now();
  const { after } = await changeRecord(request.orgId, request.keyId, (record) => (record.status === 'revoked' ? undefined : revokedRecord(record, now.toISOString())), deps);
  const entry = entryOf('analytics_key_revoked', after, request.actor, new Date(after.revokedAt!), deps);
  await withStoreRetries(() => deps.store.recordKeyChange(listingOf(after, now), entry));
  return after;
}

/** The org's keys, oldest first; a grace that ended is shown as none. */
export async function listAnalyticsKeys(orgId: string, deps: Pick<KeyManagementDependencies, 'store' | 'clock'>): Promise<AnalyticsKeyListing[]> {
  await requireOrg(orgId, deps);
  const now = deps.clock.now().toISOString();
  const keys = await withStoreRetries(() => deps.store.listKeys(orgId));
  return keys.map((key) => ({ ...key, graceEndsAt: key.graceEndsAt !== null && key.graceEndsAt > now ? key.graceEndsAt : null }));
}
