// The callers of a local runner's Analytics API, for the e2e tests: people with tokens of the runner's dev issuer
// (signed here with the key file the runner reads, as `npm run token` signs them), analytics keys created through the
// service, and the Authorization headers each sends.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { openDevIssuer } from '../../infra/local/dev-issuer';
import { DEFAULT_ORG_CLAIM } from '../../shared/http/principal';
import type { client } from './runner-http';

type Call = ReturnType<typeof client>;

/**
 * A dev issuer key file of the test file's own (removed after it): give `env` to the runner, and `tokenFor` signs a
 * person's token with the same key.
 */
export function devIssuerForSuite() {
  const directory = mkdtempSync(join(tmpdir(), 'cu-ledger-issuer-'));
  const keyFile = join(directory, 'dev-issuer.json');
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  return {
    env: { DEV_ISSUER_KEY_FILE: keyFile },
    async tokenFor(orgId: string, userId: string): Promise<string> {
      const issuer = await openDevIssuer(keyFile);
      return issuer.sign({ orgId, userId, ttl: '2h', orgClaim: DEFAULT_ORG_CLAIM });
    },
  };
}

/** `Authorization: Basic base64(key:secret)`, as curl -u sends it. */
export function basicAuthorization(keyId: string, secret: string): string {
  return `Basic ${Buffer.from(`${keyId}:${secret}`).toString('base64')}`;
}

export interface IssuedKey {
  readonly keyId: string;
  readonly secret: string;
}

/** Creates an analytics key of `orgId` (as the service unless another caller is given): its id and its one-time secret. */
export async function createAnalyticsKey(call: Call, orgId: string, name: string, authorization?: string): Promise<IssuedKey> {
  const created = await call('POST', `/v1/orgs/${orgId}/analytics-keys`, { body: { name }, ...(authorization ? { authorization } : {}) });
  expect(created.status, created.text).toBe(201);
  return { keyId: created.body.keyId, secret: created.body.secret };
}

/** A PUT through the service that must answer 200 (provisioning an org, a project, a member). */
export async function provision(call: Call, path: string, body: unknown): Promise<void> {
  const reply = await call('PUT', path, { body });
  expect(reply.status, reply.text).toBe(200);
}
