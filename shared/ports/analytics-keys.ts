// The ports analytics keys need: the key store (each key's record: the digests of its secrets, never a secret), the
// pepper those digests are keyed with, and the ledger's side of a key (its line in the org's list and its activity
// entries). On AWS the first two are Secrets Manager and the third the ledger table; locally, files and DynamoDB Local.

import type { AnalyticsKeyRecord, AnalyticsKeyStatus } from '../domain/analytics-keys';
import type { ActivityRecord } from './ledger-records';

/** The pepper: a server-side secret every digest is keyed with, by version (a digest names the version it used). */
export interface Pepper {
  readonly version: string;
  readonly value: Uint8Array;
}

export interface PepperSource {
  /** The version new digests are made with. */
  current(): Promise<Pepper>;
  /** An earlier (or the current) version, for a digest made with it; undefined when there is no such version. */
  byVersion(version: string): Promise<Pepper | undefined>;
}

/** A key's record and the store's revision of it: a change is written only over the revision it was planned on. */
export interface StoredKey {
  readonly record: AnalyticsKeyRecord;
  readonly revision: string;
}

/** Where keys' records live: the authority on which secrets a key accepts. */
export interface AnalyticsKeyStore {
  /** Stores a new key's record; 'exists' when the id is taken (never overwritten). */
  create(record: AnalyticsKeyRecord): Promise<'created' | 'exists'>;
  /** The key's record as stored now; undefined for an unknown key. */
  get(keyId: string): Promise<StoredKey | undefined>;
  /** Replaces the record, only if it is still at `revision`: 'stale' when another change came first. */
  replace(record: AnalyticsKeyRecord, revision: string): Promise<'done' | 'stale'>;
  /** Removes a key whose secret was never handed out (its creation could not be recorded in the ledger). */
  discard(keyId: string): Promise<void>;
}

/** A key as the org's list shows it: never a secret nor a digest. */
export interface AnalyticsKeyListing {
  readonly keyId: string;
  readonly orgId: string;
  readonly name: string;
  readonly status: AnalyticsKeyStatus;
  /** The first characters of the current secret (`cuas_` and 4 more), to tell which secret a tool holds. */
  readonly secretHint: string;
  readonly createdAt: string;
  readonly rotatedAt: string | null;
  /** When the previous secret stops working, while a rotation's grace lasts. */
  readonly graceEndsAt: string | null;
  readonly revokedAt: string | null;
  /** The last successful use, recorded at most about once a minute per key (it may lag by that much). */
  readonly lastUsedAt: string | null;
  /** How many changes the key's record has had: a listing never goes back to an older one. */
  readonly version: number;
}

export type AnalyticsKeyEntry = ActivityRecord & { readonly kind: 'analytics_key_created' | 'analytics_key_rotated' | 'analytics_key_revoked' };
export type AnalyticsKeyFailureEntry = ActivityRecord & { readonly kind: 'analytics_key_auth_failed' };

/** The ledger's side of analytics keys. */
export interface AnalyticsKeyLedger {
  /**
   * The key's listing (unless a later change was listed already) and its activity entry, written together; the entry
   * once (a revocation's, whose key is fixed, only the first time).
   */
  recordKeyChange(listing: Omit<AnalyticsKeyListing, 'lastUsedAt'>, entry: AnalyticsKeyEntry): Promise<void>;
  /** The org's keys, oldest first. */
  listKeys(orgId: string): Promise<AnalyticsKeyListing[]>;
  /**
   * Sets the key's lastUsedAt to `at`, unless it is already later than `staleBefore` (one write a minute, not one a
   * call). Answers the lastUsedAt the ledger holds afterwards (undefined for a key not listed).
   */
  noteKeyUsed(orgId: string, keyId: string, at: string, staleBefore: string): Promise<string | undefined>;
  /** Adds `failures` to the burst entry of its key and minute (created by the first failure of the minute). */
  recordAuthFailures(entry: AnalyticsKeyFailureEntry, failures: number): Promise<void>;
}
