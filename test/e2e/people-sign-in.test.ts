// End to end: people signing in to the local runner as a developer would. `npm run token` prints a token from the
// runner's dev issuer; the runner's analytics routes check it with the same authorizer as on AWS, fetching the dev
// issuer's JWKS from the runner over HTTP, and read the role from the member records the service token provisioned.
// The route matrix runs over every GET route of the analytics area without path parameters, whatever they are.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRemoteJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyticsRoutes } from '../../functions/analytics/analytics.handler';
import { exportRoutes } from '../../functions/analytics/export.handler';
import { client, expectError, runnerForSuite, type Reply } from '../support/runner-http';
import { REPO_ROOT, runnerEnvironment } from '../support/runner-process';

const run = promisify(execFile);
const keyDirectory = mkdtempSync(join(tmpdir(), 'cu-ledger-people-'));
/** Where the runner and `npm run token` keep the dev issuer's key: the same place for both, as in a checkout. */
const keyEnvironment = { DEV_ISSUER_KEY_FILE: join(keyDirectory, 'dev-issuer.json') };
afterAll(() => rmSync(keyDirectory, { recursive: true, force: true }));

/** The paths of the analytics areas' read routes (the export's too) that take no path parameter. */
const READ_PATHS = [...Object.keys(analyticsRoutes), ...Object.keys(exportRoutes)]
  .filter((routeKey) => routeKey.startsWith('GET ') && !routeKey.includes('{'))
  .map((routeKey) => routeKey.slice('GET '.length));

interface Printed {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run --silent token -- <args>` in the repository, as a developer types it. */
async function npmRunToken(args: readonly string[]): Promise<Printed> {
  return run('npm', ['run', '--silent', 'token', '--', ...args], { cwd: REPO_ROOT, env: runnerEnvironment(keyEnvironment) }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

async function tokenFor(orgId: string, userId: string): Promise<string> {
  const printed = await npmRunToken(['--org', orgId, '--user', userId]);
  expect(printed.code, printed.stderr).toBe(0);
  return printed.stdout.trim();
}

describe('people signing in to the local runner', () => {
  const runner = runnerForSuite({ inMemory: true, env: keyEnvironment });
  const call = client(runner);

  it('says at start-up how to get a token', () => {
    expect(runner().output()).toContain('npm run --silent token -- --org <orgId> --user <userId>');
  });

  it("npm run token prints a token alone on stdout, signed by the key whose JWKS the runner serves without a token", async () => {
    const printed = await npmRunToken(['--org', 'acme', '--user', 'olga', '--ttl', '5m']);

    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const jwks = await fetch(`${runner().url}/local/issuer/jwks.json`);
    expect(jwks.status).toBe(200);
    const { payload } = await jwtVerify(printed.stdout.trim(), createRemoteJWKSet(new URL(`${runner().url}/local/issuer/jwks.json`)), {
      issuer: 'cu-ledger-local',
      audience: 'cu-ledger',
    });
    expect(payload).toMatchObject({ sub: 'olga', org_id: 'acme' });
    expect(payload.exp! - payload.iat!).toBe(300);
  });

  it('npm run token with bad arguments prints nothing on stdout, says why on stderr and exits with 2', async () => {
    for (const args of [['--org', 'acme'], ['--org', 'acme', '--user', 'olga', '--ttl', 'forever'], ['--org', 'acme', '--user', 'olga', '--role', 'org_admin']]) {
      const printed = await npmRunToken(args);

      expect(printed.code, args.join(' ')).toBe(2);
      expect(printed.stdout).toBe('');
      expect(printed.stderr).toContain('Usage: npm run token -- --org <orgId> --user <userId>');
    }
  });

  describe('on every analytics read route', () => {
    let tokens: { admin: string; contributor: string; elsewhere: string; forged: string };

    beforeAll(async () => {
      if (READ_PATHS.length === 0) return;
      const provision = async (path: string, body: unknown) => {
        const reply = await call('PUT', path, { body });
        expect(reply.status, reply.text).toBe(200);
      };
      await provision('/v1/orgs/acme', { name: 'Acme', plan: { name: 'pro', allowanceCu: 100 }, billingAnchor: '2026-01-15' });
      await provision('/v1/orgs/acme/members/olga', { role: 'org_admin' });
      await provision('/v1/orgs/acme/members/cora', { role: 'contributor' });
      // A token that claims to come from the dev issuer, with its key id, but signed by a key of someone else's.
      const { privateKey } = await generateKeyPair('ES256');
      const admin = await tokenFor('acme', 'olga');
      const forged = await new SignJWT({ org_id: 'acme' })
        .setProtectedHeader({ alg: 'ES256', kid: decodeProtectedHeader(admin).kid! })
        .setIssuer('cu-ledger-local')
        .setAudience('cu-ledger')
        .setSubject('olga')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey);
      tokens = { admin, contributor: await tokenFor('acme', 'cora'), elsewhere: await tokenFor('other-org', 'olga'), forged };
    }, 60_000);

    if (READ_PATHS.length === 0) {
      console.warn('analyticsRoutes has no GET route without path parameters yet: the per-route sign-in checks are skipped until the usage routes land.');
      it.skip('skipped while analyticsRoutes is empty (the usage routes are not on this branch yet)', () => undefined);
      return;
    }

    const expectChallenge = (reply: Reply, headers: Headers) => {
      expectError(reply, 401, 'unauthorized');
      expect(headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      expect(reply.body.error.message).toContain('Bearer');
    };

    it.each(READ_PATHS)('GET %s: no token and a forged token are 401 with the challenge', async (path) => {
      for (const authorization of [null, `Bearer ${tokens.forged}`]) {
        const response = await fetch(`${runner().url}${path}`, { headers: authorization ? { authorization } : {} });
        const text = await response.text();
        expectChallenge({ status: response.status, contentType: response.headers.get('content-type'), text, body: JSON.parse(text) }, response.headers);
      }
    });

    it.each(READ_PATHS)("GET %s: a contributor, and an admin of another org, are 403 forbidden", async (path) => {
      expectError(await call('GET', path, { authorization: `Bearer ${tokens.contributor}` }), 403, 'forbidden');
      expectError(await call('GET', path, { authorization: `Bearer ${tokens.elsewhere}` }), 403, 'forbidden');
    });

    it.each(READ_PATHS)('GET %s: an org admin gets past sign-in and the role check', async (path) => {
      const reply = await call('GET', path, { authorization: `Bearer ${tokens.admin}` });

      expect([401, 403], reply.text).not.toContain(reply.status);
      expect(reply.status, reply.text).toBeLessThan(500);
    });
  });
});
