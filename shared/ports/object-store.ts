// Where finance exports land (S3 on AWS, s3rver locally): objects written from a stream, never held whole.

export interface ObjectStore {
  /** Stores the object from its chunks as they come; resolves once it is stored in full (a failure stores nothing). */
  put(key: string, body: AsyncIterable<Uint8Array>, contentType: string): Promise<void>;
  /** The object's text, or undefined when there is none. */
  getText(key: string): Promise<string | undefined>;
}
