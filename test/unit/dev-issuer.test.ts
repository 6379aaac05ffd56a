// The local runner's dev issuer and `npm run token`'s arguments: one key per file, made once even when processes
// race for it, and tokens that the same verifier as on AWS accepts against the issuer's JWKS.

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { DEV_AUDIENCE, DEV_ISSUER, devIssuerKeyFile, openDevIssuer } from '../../infra/local/dev-issuer';
import { TokenArgumentsError, tokenRequest } from '../../infra/local/token';
import { jwtPersonTokenVerifier } from '../../shared/adapters/jwt/person-token-verifier';
import { REPO_ROOT } from '../support/runner-process';

const directory = mkdtempSync(join(tmpdir(), 'cu-ledger-dev-issuer-'));
let files = 0;
const freshFile = () => join(directory, `issuer-${++files}`, 'dev-issuer.json');
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('the dev issuer', () => {
  it('makes its key on first use, readable by its owner only, and finds the same key afterwards', async () => {
    const file = freshFile();

    const first = await openDevIssuer(file);
    const again = await openDevIssuer(file);

    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(again.jwks).toEqual(first.jwks);
    expect(first.jwks.keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) })]);
    expect(first.jwks.keys[0]).not.toHaveProperty('d');
  });

  it('makes exactly one key when many open it at once, and leaves no draft behind', async () => {
    const file = freshFile();

    const issuers = await Promise.all(Array.from({ length: 8 }, () => openDevIssuer(file)));

    const kids = new Set(issuers.map((issuer) => issuer.jwks.keys[0]!.kid));
    expect(kids.size).toBe(1);
    expect(JSON.parse(readFileSync(file, 'utf8')).privateJwk.kid).toBe([...kids][0]);
    expect(readdirSync(join(file, '..'))).toEqual(['dev-issuer.json']);
  });

  it('refuses a file that holds no key, naming it, instead of replacing it', async () => {
    const file = freshFile();
    await openDevIssuer(file);
    writeFileSync(file, '{"privateJwk":');

    await expect(openDevIssuer(file)).rejects.toThrow(`${file} does not hold a dev issuer key; delete it`);
  });

  it("signs tokens that the authorizer's verifier accepts against the issuer's JWKS, for the org claim asked", async () => {
    const issuer = await openDevIssuer(freshFile());
    const verifier = (orgClaim: string) => jwtPersonTokenVerifier({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, orgClaim }, createLocalJWKSet(issuer.jwks));

    const standard = await issuer.sign({ orgId: 'acme', userId: 'olga', ttl: '12h', orgClaim: 'org_id' });
    const custom = await issuer.sign({ orgId: 'acme', userId: 'olga', ttl: '5m', orgClaim: 'tenant' });

    await expect(verifier('org_id').verify(standard)).resolves.toEqual({ orgId: 'acme', userId: 'olga' });
    await expect(verifier('tenant').verify(custom)).resolves.toEqual({ orgId: 'acme', userId: 'olga' });
    await expect(verifier('tenant').verify(standard)).rejects.toMatchObject({ code: 'unauthorized' });
    const other = await openDevIssuer(freshFile());
    await expect(jwtPersonTokenVerifier({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, orgClaim: 'org_id' }, createLocalJWKSet(other.jwks)).verify(standard)).rejects.toMatchObject({
      code: 'unauthorized',
    });
  });

  it('keeps its key in .data/dev-issuer.json of the repository (gitignored) unless DEV_ISSUER_KEY_FILE says where', () => {
    expect(devIssuerKeyFile({})).toBe(join(REPO_ROOT, '.data', 'dev-issuer.json'));
    expect(readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8').split('\n')).toContain('.data/');
    expect(devIssuerKeyFile({ DEV_ISSUER_KEY_FILE: '/tmp/elsewhere.json' })).toBe('/tmp/elsewhere.json');
  });
});

describe('npm run token: its arguments', () => {
  it('takes the org and the user, a lifetime of 12 hours unless told, and the org claim the runner reads', () => {
    expect(tokenRequest(['--org', 'acme', '--user', 'olga'], {})).toEqual({ orgId: 'acme', userId: 'olga', ttl: '12h', orgClaim: 'org_id' });
    expect(tokenRequest(['--user=olga', '--org=acme', '--ttl', '30m'], { ORG_CLAIM: 'tenant' })).toEqual({ orgId: 'acme', userId: 'olga', ttl: '30m', orgClaim: 'tenant' });
  });

  it.each([
    ['no arguments', [], /--org and --user are required/],
    ['no user', ['--org', 'acme'], /--org and --user are required/],
    ['an option without its value', ['--org', 'acme', '--user'], /--user/],
    ['an unknown option', ['--org', 'acme', '--user', 'olga', '--role', 'org_admin'], /--role/],
    ['a stray argument', ['acme', '--org', 'acme', '--user', 'olga'], /acme/],
    ['an org that is not an id', ['--org', 'acme corp', '--user', 'olga'], /--org: may hold letters/],
    ['a lifetime that is not one', ['--org', 'acme', '--user', 'olga', '--ttl', 'forever'], /--ttl: must be a number and s, m, h or d/],
  ])('refuses %s, naming what is wrong', (_name, argv, message) => {
    expect(() => tokenRequest(argv, {})).toThrow(TokenArgumentsError);
    expect(() => tokenRequest(argv, {})).toThrow(message);
  });
});
