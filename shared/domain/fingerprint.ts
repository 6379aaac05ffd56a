// A stable hash of a validated request, so that a reused request id with a different body can be told apart.

import { createHash } from 'node:crypto';

export function requestFingerprint(operation: string, request: Readonly<Record<string, unknown>>): string {
  const canonical = JSON.stringify(Object.keys(request).sort().map((key) => [key, request[key]]));
  return createHash('sha256').update(operation).update('\u0000').update(canonical).digest('base64url');
}
