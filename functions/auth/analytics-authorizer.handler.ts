// The Analytics API's Lambda authorizer (a REST API REQUEST authorizer): who is calling, from the Authorization
// header. A person sends `Bearer <OIDC JWT>`; a BI tool sends its org's analytics key as HTTP Basic (`key:secret`), or
// as `Bearer <key>:<secret>`. It says who, never what they may read: a person's role comes from CU Ledger's member
// records, in the route (readerRoute); a key reads its org, through the read routes only.
//
// API Gateway's contract: throw exactly `Unauthorized` and the gateway answers its 401 response (with the challenge);
// throw anything else and it answers 500. The answer is cached per Authorization header and reused for every
// analytics route (infra/constructs/analytics-api.ts), so its policy names every route the caller may call: the
// whole API for a person, the read routes (KEY_ROUTE_PATTERNS) for a key; anything else is the gateway's 403.

import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { personTokenVerifierFromEnv } from '../../shared/adapters/jwt/person-token-verifier';
import { processDependencies, keyVault, processClock } from '../../shared/composition';
import { KEY_ROUTE_PATTERNS, decodeBasicCredentials, keyCredentialsOf, looksLikeKeyCredentials, type KeyCredentials } from '../../shared/domain/analytics-keys';
import { UnauthorizedError } from '../../shared/domain/errors';
import { headerValue } from '../../shared/http/headers';
import { log } from '../../shared/http/log';
import type { PersonTokenVerifier } from '../../shared/ports/person-tokens';
import { KeyCheckMemory, verifyAnalyticsKey, type VerifiedKey } from '../../shared/use-cases/analytics-key-auth';

/** The one error message API Gateway turns into its 401 gateway response. */
export const UNAUTHORIZED = 'Unauthorized';

export interface AnalyticsAuthorizerDependencies {
  readonly people: PersonTokenVerifier;
  /** The key the credentials prove, or undefined (unknown key, wrong secret, revoked, grace over: all alike). */
  readonly keys: (credentials: KeyCredentials) => Promise<VerifiedKey | undefined>;
}

/** What the analytics handlers find in `requestContext.authorizer` (with `principalId`); `resolvePrincipal` reads it. */
export type AnalyticsCallerContext =
  | { readonly principalKind: 'person'; readonly orgId: string; readonly userId: string }
  | { readonly principalKind: 'analytics_key'; readonly orgId: string; readonly keyId: string };

type Credentials = { readonly scheme: 'bearer' | 'basic'; readonly value: string };

/** The longest Authorization header looked at: a JWT of a few KB fits; 10 KB of anything is refused unread. */
const MAX_AUTHORIZATION_LENGTH = 8 * 1024;

/** The Authorization header's scheme (case-insensitive, as HTTP has it) and value; undefined for anything else. */
function credentialsOf(headers: APIGatewayRequestAuthorizerEvent['headers']): Credentials | undefined {
  const header = headerValue(headers, 'authorization');
  if (header === undefined || header.length > MAX_AUTHORIZATION_LENGTH) return undefined;
  const parts = /^(\S+) +(\S+)\s*$/.exec(header);
  const scheme = parts?.[1]!.toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  return { scheme, value: parts![2]! };
}

/** `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>` from the ARN of the method called. */
function apiStageOf(methodArn: string): string {
  const found = /^(arn:[^:]+:execute-api:[^:]+:[^:]+:[^/]+\/[^/]+)\//.exec(methodArn);
  if (!found) throw new Error('The authorizer event has no execute-api method ARN.');
  return found[1]!;
}

function allow(methodArn: string, principalId: string, context: AnalyticsCallerContext, routes: readonly string[]): APIGatewayAuthorizerResult {
  const stage = apiStageOf(methodArn);
  return {
    principalId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: routes.map((route) => `${stage}/${route}`) }] },
    context,
  };
}

/** The key's credentials from a Basic value (base64 of `key:secret`) or a bearer one (`key:secret`); 401 if malformed. */
function keyCredentials(credentials: Credentials): KeyCredentials {
  const text = credentials.scheme === 'basic' ? decodeBasicCredentials(credentials.value) : credentials.value;
  const parsed = text === undefined ? undefined : keyCredentialsOf(text);
  // Refused before any lookup: the shapes and the secret's checksum are checked first.
  if (!parsed) throw new UnauthorizedError('Malformed analytics key credentials.');
  return parsed;
}

/** Who is calling, or `Unauthorized` (401); an error of ours (the identity provider's keys did not load) stays a 500. */
export async function authorizeAnalyticsRequest(event: APIGatewayRequestAuthorizerEvent, deps: AnalyticsAuthorizerDependencies): Promise<APIGatewayAuthorizerResult> {
  const credentials = credentialsOf(event.headers);
  try {
    if (!credentials) throw new UnauthorizedError('No bearer token or Basic credentials in the Authorization header.');
    if (credentials.scheme === 'bearer' && !looksLikeKeyCredentials(credentials.value)) {
      const person = await deps.people.verify(credentials.value);
      return allow(event.methodArn, person.userId, { principalKind: 'person', orgId: person.orgId, userId: person.userId }, ['*']);
    }
    const key = await deps.keys(keyCredentials(credentials));
    if (!key) throw new UnauthorizedError('The analytics key or its secret is not valid.');
    return allow(event.methodArn, key.keyId, { principalKind: 'analytics_key', orgId: key.orgId, keyId: key.keyId }, KEY_ROUTE_PATTERNS);
  } catch (error) {
    if (error instanceof UnauthorizedError) {
      // The reason is ours (a fixed sentence); the token or secret never reaches a log.
      log('info', 'analytics caller refused', { reason: error.message });
      throw new Error(UNAUTHORIZED);
    }
    log('error', 'analytics authorizer failed', { errorName: (error as Error | undefined)?.name ?? typeof error });
    throw error;
  }
}

/** How long this process trusts a key's record as read: KEY_CACHE_SECONDS (the gateway's cache on AWS), else 0. */
function keyCacheMs(): number {
  const seconds = Number(process.env.KEY_CACHE_SECONDS ?? 0);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

let memory: KeyCheckMemory | undefined;

export const handler = async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
  memory ??= new KeyCheckMemory(keyCacheMs());
  const checkMemory = memory;
  return authorizeAnalyticsRequest(event, {
    people: personTokenVerifierFromEnv(),
    keys: (credentials) => verifyAnalyticsKey(credentials, { vault: keyVault(), store: processDependencies().store, clock: processClock, memory: checkMemory }),
  });
};
