// `npm run token -- --org <orgId> --user <userId> [--ttl 12h]`: a person's token from the local runner's dev issuer,
// for `Authorization: Bearer` on the Analytics API of `npm start`. It prints the token alone on stdout (so
// `TOKEN=$(npm run --silent token -- ...)` works); problems go to stderr, and bad arguments exit with 2.
// LOCAL ONLY: on AWS, people's tokens come from the platform's identity provider.

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { DEFAULT_ORG_CLAIM } from '../../shared/http/principal';
import { identifier } from '../../shared/http/schemas';
import { parseInput } from '../../shared/http/request';
import { ValidationError } from '../../shared/domain/errors';
import { devIssuerKeyFile, openDevIssuer } from './dev-issuer';

export const USAGE = 'Usage: npm run token -- --org <orgId> --user <userId> [--ttl 12h]  (ttl: a number and s, m, h or d)';

const tokenArguments = z.strictObject({
  org: identifier,
  user: identifier,
  ttl: z._default(z.string().check(z.regex(/^[1-9]\d{0,5}[smhd]$/, 'must be a number and s, m, h or d, such as 12h')), '12h'),
});

/** Bad arguments: the message says which, and the process exits with 2. */
export class TokenArgumentsError extends Error {
  override readonly name = 'TokenArgumentsError';
}

/** The token request `argv` makes, or a TokenArgumentsError naming the argument at fault. */
export function tokenRequest(argv: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: { org: { type: 'string' }, user: { type: 'string' }, ttl: { type: 'string' } }, strict: true }));
  } catch (error) {
    throw new TokenArgumentsError((error as Error).message);
  }
  if (values.org === undefined || values.user === undefined) throw new TokenArgumentsError('Both --org and --user are required.');
  try {
    const { org, user, ttl } = parseInput(tokenArguments, values);
    // The runner's authorizer reads the org from ORG_CLAIM: the token puts it there too.
    return { orgId: org, userId: user, ttl, orgClaim: env.ORG_CLAIM || DEFAULT_ORG_CLAIM };
  } catch (error) {
    if (error instanceof ValidationError) throw new TokenArgumentsError(`--${error.message}`);
    throw error;
  }
}

async function main(): Promise<void> {
  let request: ReturnType<typeof tokenRequest>;
  try {
    request = tokenRequest(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof TokenArgumentsError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    process.exit(2);
  }
  const issuer = await openDevIssuer(devIssuerKeyFile());
  process.stdout.write(`${await issuer.sign(request)}\n`);
}

const startedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (startedDirectly) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
