// The object-store port on S3 (s3rver locally): a streamed body goes up as a multipart upload, a part at a time, so
// a month of events never sits in memory whole.

import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ObjectStore } from '../../ports/object-store';

/** The bucket the local runner's s3rver serves (3 to 63 characters, as S3 names must be). */
export const LOCAL_EXPORT_BUCKET = 'cu-ledger-exports';

/**
 * Checksums only where an operation requires them: with the SDK's default, every upload carries a streaming
 * checksum trailer, which s3rver stores inside the object; the same setting on AWS keeps one client for both.
 * A local endpoint needs path-style addresses (no bucket subdomain).
 */
export function createS3Client(options: { endpoint?: string | undefined } = {}, overrides: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } } : {}),
    ...overrides,
  });
}

/** Parts in flight per upload: at most this many 5 MiB parts are buffered at once. */
const UPLOAD_QUEUE_SIZE = 2;

export function s3ObjectStore(client: S3Client, bucket: string): ObjectStore {
  return {
    async put(key, body, contentType) {
      // A failed multipart upload is aborted by Upload (leavePartsOnError false), so no partial object is left.
      await new Upload({ client, params: { Bucket: bucket, Key: key, Body: Readable.from(body), ContentType: contentType }, queueSize: UPLOAD_QUEUE_SIZE }).done();
    },
    async getText(key) {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await answer.Body?.transformToString('utf8');
      } catch (error) {
        if (error instanceof NoSuchKey) return undefined;
        throw error;
      }
    },
  };
}
