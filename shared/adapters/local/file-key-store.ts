// Analytics keys for the local runner, with the AWS adapters' behaviour: one JSON file per key under the data folder
// (so `npm start` serves real keys that survive a restart), changed only over the revision they were planned on, and
// a pepper generated once beside them. Without a folder (`--in-memory`) the same, in memory.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalyticsKeyRecord } from '../../domain/analytics-keys';
import type { AnalyticsKeyStore, Pepper, PepperSource, StoredKey } from '../../ports/analytics-keys';
import { parseKeyRecord } from '../secrets-manager/analytics-key-store';

interface Stored {
  readonly record: string;
  readonly revision: number;
}

/** Files written whole (a temporary file renamed over the old one): a crash leaves the old one or the new one. */
class Folder {
  private readonly memory = new Map<string, string>();
  constructor(private readonly directory: string | undefined) {
    if (directory) mkdirSync(directory, { recursive: true, mode: 0o700 });
  }

  read(name: string): string | undefined {
    if (!this.directory) return this.memory.get(name);
    const path = join(this.directory, name);
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  }

  write(name: string, text: string): void {
    if (!this.directory) return void this.memory.set(name, text);
    const path = join(this.directory, name);
    writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }

  remove(name: string): void {
    if (!this.directory) return void this.memory.delete(name);
    rmSync(join(this.directory, name), { force: true });
  }
}

const fileOf = (keyId: string) => `${keyId}.json`;

/**
 * The key store in `directory` (undefined: in memory). Every call reads and writes synchronously, so a
 * compare-and-swap runs whole between two requests of the runner's one process.
 */
export function localKeyStore(directory: string | undefined): AnalyticsKeyStore {
  const folder = new Folder(directory);
  const read = (keyId: string): Stored | undefined => {
    const text = folder.read(fileOf(keyId));
    return text === undefined ? undefined : (JSON.parse(text) as Stored);
  };
  const write = (record: AnalyticsKeyRecord, revision: number) => folder.write(fileOf(record.keyId), JSON.stringify({ record: JSON.stringify(record), revision } satisfies Stored));
  return {
    async create(record) {
      if (read(record.keyId)) return 'exists';
      write(record, 1);
      return 'created';
    },
    async get(keyId): Promise<StoredKey | undefined> {
      const stored = read(keyId);
      return stored && { record: parseKeyRecord(stored.record), revision: String(stored.revision) };
    },
    async replace(record, revision) {
      const stored = read(record.keyId);
      if (!stored || String(stored.revision) !== revision) return 'stale';
      write(record, stored.revision + 1);
      return 'done';
    },
    async discard(keyId) {
      folder.remove(fileOf(keyId));
    },
  };
}

const PEPPER_FILE = 'pepper.json';

/** The local pepper: generated on first use (64 random bytes), kept in `directory` with the keys. One version. */
export function localPepper(directory: string | undefined): PepperSource {
  const folder = new Folder(directory);
  let pepper: Pepper | undefined;
  const load = (): Pepper => {
    if (pepper) return pepper;
    const text = folder.read(PEPPER_FILE);
    const stored = text === undefined ? { version: 'local-1', value: randomBytes(64).toString('base64') } : (JSON.parse(text) as { version: string; value: string });
    if (text === undefined) folder.write(PEPPER_FILE, JSON.stringify(stored));
    pepper = { version: stored.version, value: Buffer.from(stored.value, 'base64') };
    return pepper;
  };
  return {
    async current() {
      return load();
    },
    async byVersion(version) {
      const found = load();
      return found.version === version ? found : undefined;
    },
  };
}
