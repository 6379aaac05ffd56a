// Analytics keys on Secrets Manager: one secret per key under the stack's key-store prefix, holding the key's record
// as JSON (digests of its secrets under the pepper, never a secret). The pepper is its own secret, read by version.
//
// A change is a compare-and-swap on the secret's versions: the new record is put as a version labelled
// CULEDGER_NEXT, then AWSCURRENT moves to it only from the version the change was planned on (UpdateSecretVersionStage
// fails when RemoveFromVersionId no longer holds the label). Two admins rotating at once: one wins, one retries.

import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import type { AnalyticsKeyRecord } from '../../domain/analytics-keys';
import type { AnalyticsKeyStore, Pepper, PepperSource, StoredKey } from '../../ports/analytics-keys';

/** The label a change's new version gets until AWSCURRENT moves to it. */
export const NEXT_VERSION_LABEL = 'CULEDGER_NEXT';
/** The tag that names a key's org on its secret (for the console and for cost reports; never for access). */
export const ORG_TAG = 'cu-ledger:org';

const text = z.string();
export const analyticsKeyRecordSchema = z.object({
  keyId: text,
  orgId: text,
  name: text,
  status: z.enum(['active', 'revoked']),
  createdAt: text,
  rotatedAt: z.nullable(text),
  revokedAt: z.nullable(text),
  version: z.number(),
  secrets: z.array(z.object({ digest: text, pepperVersion: text, hint: text, createdAt: text, validUntil: z.nullable(text) })),
});

/** A stored record, checked: a secret that is not a key's record is a fault, never a key. */
export function parseKeyRecord(json: string): AnalyticsKeyRecord {
  const parsed = analyticsKeyRecordSchema.safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error('A key-store secret does not hold an analytics key record.');
  return parsed.data;
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | undefined)?.name;
}

export function secretsManagerKeyStore(client: SecretsManagerClient, prefix: string): AnalyticsKeyStore {
  const nameOf = (keyId: string) => `${prefix}${keyId}`;
  return {
    async create(record) {
      try {
        await client.send(
          new CreateSecretCommand({
            Name: nameOf(record.keyId),
            Description: `CU Ledger analytics key ${record.keyId} of org ${record.orgId} (digests only)`,
            SecretString: JSON.stringify(record),
            Tags: [{ Key: ORG_TAG, Value: record.orgId }],
          }),
        );
        return 'created';
      } catch (error) {
        if (errorName(error) === 'ResourceExistsException') return 'exists';
        throw error;
      }
    },

    async get(keyId): Promise<StoredKey | undefined> {
      try {
        const answer = await client.send(new GetSecretValueCommand({ SecretId: nameOf(keyId) }));
        if (answer.SecretString === undefined || answer.VersionId === undefined) return undefined;
        return { record: parseKeyRecord(answer.SecretString), revision: answer.VersionId };
      } catch (error) {
        // Unknown, or deleted and waiting out its recovery window: no such key either way.
        if (errorName(error) === 'ResourceNotFoundException' || errorName(error) === 'InvalidRequestException') return undefined;
        throw error;
      }
    },

    async replace(record, revision) {
      const secretId = nameOf(record.keyId);
      const put = await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(record), VersionStages: [NEXT_VERSION_LABEL] }));
      try {
        await client.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: put.VersionId, RemoveFromVersionId: revision }));
        return 'done';
      } catch (error) {
        if (errorName(error) !== 'InvalidParameterException' && errorName(error) !== 'InvalidRequestException') throw error;
        // AWSCURRENT is no longer on the version this change was planned on: another change came first, or this very
        // move did, its answer lost and the SDK's retry refused (then AWSCURRENT is on our version).
        const now = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
        return now.VersionId === put.VersionId ? 'done' : 'stale';
      }
    },

    async discard(keyId) {
      await client.send(new DeleteSecretCommand({ SecretId: nameOf(keyId), ForceDeleteWithoutRecovery: true }));
    },
  };
}

/**
 * The pepper on Secrets Manager: the current version for new digests, any version by id for older ones. Versions
 * never change, so each is read once per process; which version is current is re-read after `currentTtlMs`.
 */
export function secretsManagerPepper(client: SecretsManagerClient, secretId: string, currentTtlMs = 5 * 60_000): PepperSource {
  const byVersion = new Map<string, Promise<Pepper | undefined>>();
  let current: { pepper: Promise<Pepper>; until: number } | undefined;
  const read = async (versionId?: string): Promise<Pepper | undefined> => {
    try {
      const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId, ...(versionId ? { VersionId: versionId } : {}) }));
      if (answer.SecretString === undefined || answer.VersionId === undefined) throw new Error('The pepper secret has no string value.');
      return { version: answer.VersionId, value: Buffer.from(answer.SecretString, 'utf8') };
    } catch (error) {
      if (versionId && (errorName(error) === 'ResourceNotFoundException' || errorName(error) === 'InvalidParameterException')) return undefined;
      throw error;
    }
  };
  const remembered = (version: string, pepper: Promise<Pepper | undefined>) => {
    byVersion.set(version, pepper);
    // A failed read is not remembered: the next call asks again.
    pepper.catch(() => byVersion.delete(version));
    return pepper;
  };
  return {
    current() {
      if (!current || current.until <= Date.now()) {
        const pepper = read().then((found) => found!);
        current = { pepper, until: Date.now() + currentTtlMs };
        pepper.then((found) => void byVersion.set(found.version, Promise.resolve(found)), () => (current = undefined));
      }
      return current.pepper;
    },
    byVersion(version) {
      return byVersion.get(version) ?? remembered(version, read(version));
    },
  };
}
