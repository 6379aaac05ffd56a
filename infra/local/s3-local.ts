// s3rver for the local runner and the tests: an S3-compatible server, so the same S3 client code runs locally. Its
// objects are files under a directory: the data folder's, or a temporary one removed on stop (in memory).

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import S3rver from 's3rver';
import { LOCAL_EXPORT_BUCKET } from '../../shared/adapters/s3/object-store';

export interface RunningS3Local {
  readonly endpoint: string;
  readonly bucket: string;
  stop(): Promise<void>;
}

/** Starts s3rver on a free port with the export bucket; `dataDirectory` keeps the objects there. */
export async function startS3Local(options: { dataDirectory?: string | undefined; bucket?: string } = {}): Promise<RunningS3Local> {
  const bucket = options.bucket ?? LOCAL_EXPORT_BUCKET;
  const directory = options.dataDirectory ? resolve(options.dataDirectory) : mkdtempSync(join(tmpdir(), 'cu-ledger-s3-'));
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    async stop() {
      await server.close();
      if (!options.dataDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
}
