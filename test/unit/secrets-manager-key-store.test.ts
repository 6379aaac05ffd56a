// The analytics-key store and pepper on Secrets Manager, against a mocked client (aws-sdk-client-mock) that keeps a
// secret's versions and staging labels as Secrets Manager does: the record stored (never a secret), the
// compare-and-swap of a change (AWSCURRENT moves only from the version the change read), unknown keys, and the
// pepper read once per version. The local file-backed store is held to the same behaviour.

import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type CreateSecretCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { localKeyStore, localPepper } from '../../shared/adapters/local/file-key-store';
import { NEXT_VERSION_LABEL, ORG_TAG, secretsManagerKeyStore, secretsManagerPepper } from '../../shared/adapters/secrets-manager/analytics-key-store';
import { newKeyId, newKeyRecord, newSecret, revokedRecord, secretDigest, type AnalyticsKeyRecord } from '../../shared/domain/analytics-keys';
import type { AnalyticsKeyStore } from '../../shared/ports/analytics-keys';

const PREFIX = 'cu-ledger/dev/analytics-keys/';
const secretsManager = mockClient(SecretsManagerClient);
const client = () => new SecretsManagerClient({ region: 'eu-west-1' });

const named = (name: string) => Object.assign(new Error(name), { name });

/** Secrets Manager's versions and labels, as far as the adapter relies on them. */
function fakeSecretsManager() {
  const secrets = new Map<string, { versions: Map<string, string>; labels: Map<string, string> }>();
  let versionCount = 0;
  const newVersion = () => `v${++versionCount}`;
  secretsManager.on(CreateSecretCommand).callsFake((input: CreateSecretCommandInput) => {
    if (secrets.has(input.Name!)) throw named('ResourceExistsException');
    const version = newVersion();
    secrets.set(input.Name!, { versions: new Map([[version, input.SecretString!]]), labels: new Map([['AWSCURRENT', version]]) });
    return { VersionId: version };
  });
  secretsManager.on(GetSecretValueCommand).callsFake((input) => {
    const secret = secrets.get(input.SecretId);
    if (!secret) throw named('ResourceNotFoundException');
    const version = input.VersionId ?? secret.labels.get('AWSCURRENT')!;
    return { SecretString: secret.versions.get(version), VersionId: version };
  });
  secretsManager.on(PutSecretValueCommand).callsFake((input) => {
    const secret = secrets.get(input.SecretId)!;
    const version = newVersion();
    secret.versions.set(version, input.SecretString);
    for (const label of input.VersionStages) secret.labels.set(label, version);
    return { VersionId: version };
  });
  secretsManager.on(UpdateSecretVersionStageCommand).callsFake((input) => {
    const secret = secrets.get(input.SecretId)!;
    // "If the label is attached and ... the version ID does not match, then the operation fails."
    if (secret.labels.get(input.VersionStage) !== input.RemoveFromVersionId) throw named('InvalidParameterException');
    secret.labels.set(input.VersionStage, input.MoveToVersionId);
    return {};
  });
  secretsManager.on(DeleteSecretCommand).callsFake((input) => void secrets.delete(input.SecretId));
  return secrets;
}

const record = (orgId = 'acme'): AnalyticsKeyRecord =>
  newKeyRecord({ keyId: newKeyId(), orgId, name: 'finance-bi', secret: { digest: secretDigest(Buffer.from('pepper'), newSecret()), pepperVersion: 'p1', hint: 'cuas_AbCd', createdAt: '2026-05-01T00:00:00.000Z', validUntil: null } });

/** The same contract for both adapters. */
function behavesAsAKeyStore(name: string, makeStore: () => AnalyticsKeyStore) {
  describe(name, () => {
    let store: AnalyticsKeyStore;
    beforeEach(() => {
      store = makeStore();
    });

    it('stores a new key once, reads it back with a revision, and knows nothing of other ids', async () => {
      const key = record();
      expect(await store.create(key)).toBe('created');
      expect(await store.create({ ...key, name: 'overwritten?' })).toBe('exists');
      const stored = await store.get(key.keyId);
      expect(stored?.record).toEqual(key);
      expect(typeof stored?.revision).toBe('string');
      expect(await store.get(newKeyId())).toBeUndefined();
    });

    it('replaces a record only over the revision it was read at: of two changes planned on one revision, the second is stale', async () => {
      const key = record();
      await store.create(key);
      const read = (await store.get(key.keyId))!;
      const first = revokedRecord(read.record, '2026-05-02T00:00:00.000Z');
      expect(await store.replace(first, read.revision)).toBe('done');
      expect(await store.replace({ ...read.record, name: 'late' }, read.revision)).toBe('stale');
      expect((await store.get(key.keyId))?.record).toEqual(first);
    });

    it('discards a key that was never handed out', async () => {
      const key = record();
      await store.create(key);
      await store.discard(key.keyId);
      expect(await store.get(key.keyId)).toBeUndefined();
    });
  });
}

describe('the Secrets Manager key store', () => {
  beforeEach(() => {
    secretsManager.reset();
    fakeSecretsManager();
  });

  behavesAsAKeyStore('(contract)', () => secretsManagerKeyStore(client(), PREFIX));

  it('names each key under the prefix, tags its org, and stores the record (digests) with no secret in it', async () => {
    const key = record();
    await secretsManagerKeyStore(client(), PREFIX).create(key);
    const input = secretsManager.commandCalls(CreateSecretCommand)[0]!.args[0].input;
    expect(input.Name).toBe(`${PREFIX}${key.keyId}`);
    expect(input.Tags).toEqual([{ Key: ORG_TAG, Value: 'acme' }]);
    expect(JSON.parse(input.SecretString!)).toEqual(key);
    expect(input.Description).not.toContain(key.secrets[0]!.digest);
  });

  it('moves AWSCURRENT from the revision read to a version put under its own label: the compare-and-swap', async () => {
    const store = secretsManagerKeyStore(client(), PREFIX);
    const key = record();
    await store.create(key);
    const read = (await store.get(key.keyId))!;
    await store.replace(revokedRecord(read.record, '2026-05-02T00:00:00.000Z'), read.revision);
    const put = secretsManager.commandCalls(PutSecretValueCommand)[0]!.args[0].input;
    const moved = secretsManager.commandCalls(UpdateSecretVersionStageCommand)[0]!.args[0].input;
    expect(put.VersionStages).toEqual([NEXT_VERSION_LABEL]);
    expect(moved).toMatchObject({ SecretId: `${PREFIX}${key.keyId}`, VersionStage: 'AWSCURRENT', RemoveFromVersionId: read.revision });
  });

  it('takes a move whose answer was lost (the retry refused, AWSCURRENT already on the new version) as done, not stale', async () => {
    const secrets = fakeSecretsManager();
    const store = secretsManagerKeyStore(client(), PREFIX);
    const key = record();
    await store.create(key);
    const read = (await store.get(key.keyId))!;
    // The first move commits, its answer is lost; the SDK's retry finds AWSCURRENT moved and is refused.
    secretsManager.on(UpdateSecretVersionStageCommand).callsFakeOnce((input) => {
      secrets.get(input.SecretId)!.labels.set(input.VersionStage, input.MoveToVersionId);
      throw named('InvalidParameterException');
    });
    const revoked = revokedRecord(read.record, '2026-05-02T00:00:00.000Z');
    expect(await store.replace(revoked, read.revision)).toBe('done');
    expect((await store.get(key.keyId))?.record).toEqual(revoked);
  });

  it('reads a key scheduled for deletion as no key, and lets any other failure through', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: `${PREFIX}gone` }).rejects(named('InvalidRequestException'));
    secretsManager.on(GetSecretValueCommand, { SecretId: `${PREFIX}throttled` }).rejects(named('ThrottlingException'));
    const store = secretsManagerKeyStore(client(), PREFIX);
    expect(await store.get('gone')).toBeUndefined();
    await expect(store.get('throttled')).rejects.toThrow('ThrottlingException');
  });

  it('discards without a recovery window: the id is free at once', async () => {
    const store = secretsManagerKeyStore(client(), PREFIX);
    const key = record();
    await store.create(key);
    await store.discard(key.keyId);
    expect(secretsManager.commandCalls(DeleteSecretCommand)[0]!.args[0].input).toEqual({ SecretId: `${PREFIX}${key.keyId}`, ForceDeleteWithoutRecovery: true });
  });
});

describe('the Secrets Manager pepper', () => {
  const PEPPER = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cu-ledger/dev/pepper-AbCdEf';
  beforeEach(() => secretsManager.reset());

  it('reads the current version once (until its time is up) and each older version once, by id', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: PEPPER }).resolves({ SecretString: 'current-pepper', VersionId: 'p2' });
    secretsManager.on(GetSecretValueCommand, { SecretId: PEPPER, VersionId: 'p1' }).resolves({ SecretString: 'old-pepper', VersionId: 'p1' });
    secretsManager.on(GetSecretValueCommand, { SecretId: PEPPER, VersionId: 'p0' }).rejects(named('ResourceNotFoundException'));
    const pepper = secretsManagerPepper(client(), PEPPER);

    const current = await pepper.current();
    expect([current.version, Buffer.from(current.value).toString()]).toEqual(['p2', 'current-pepper']);
    await pepper.current();
    expect(Buffer.from((await pepper.byVersion('p2'))!.value).toString()).toBe('current-pepper');
    expect(Buffer.from((await pepper.byVersion('p1'))!.value).toString()).toBe('old-pepper');
    await pepper.byVersion('p1');
    expect(await pepper.byVersion('p0')).toBeUndefined();
    const calls = secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input.VersionId ?? 'current');
    expect(calls).toEqual(['current', 'p1', 'p0']);
  });

  it('asks again after a failed read instead of remembering the failure', async () => {
    secretsManager.on(GetSecretValueCommand).rejectsOnce(named('ThrottlingException')).resolves({ SecretString: 'pepper', VersionId: 'p1' });
    const pepper = secretsManagerPepper(client(), PEPPER);
    await expect(pepper.current()).rejects.toThrow('ThrottlingException');
    expect((await pepper.current()).version).toBe('p1');
  });
});

describe('the local key store', () => {
  behavesAsAKeyStore('(contract, in memory)', () => localKeyStore(undefined));
  behavesAsAKeyStore('(contract, in a folder)', () => localKeyStore(mkdtempSync(join(tmpdir(), 'keys-'))));

  it('keeps keys and the pepper in files that a new process (a restarted runner) reads back, readable by the owner only', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'keys-'));
    const key = record();
    await localKeyStore(folder).create(key);
    const pepper = await localPepper(folder).current();

    expect((await localKeyStore(folder).get(key.keyId))?.record).toEqual(key);
    const again = await localPepper(folder).current();
    expect([again.version, Buffer.from(again.value).equals(Buffer.from(pepper.value))]).toEqual([pepper.version, true]);
    for (const file of readdirSync(folder)) expect((statSync(join(folder, file)).mode & 0o077).toString(8), file).toBe('0');
    expect(readFileSync(join(folder, `${key.keyId}.json`), 'utf8')).toContain(key.secrets[0]!.digest);
  });
});
