// The Analytics API's Lambda authorizer (a REST API REQUEST authorizer): who is calling, from the Authorization
// header. A person sends `Bearer <OIDC JWT>`; BI tools will send `Basic <key:secret>` once analytics keys exist.
// It says who, never what they may read: the role comes from CU Ledger's member records, in the route (readerRoute).
//
// API Gateway's contract: throw exactly `Unauthorized` and the gateway answers its 401 response (with the challenge);
// throw anything else and it answers 500. An allow covers the whole API, not only `methodArn`, because the answer is
// cached per Authorization header and reused for every analytics route (infra/constructs/analytics-api.ts).

import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { personTokenVerifierFromEnv } from '../../shared/adapters/jwt/person-token-verifier';
import { UnauthorizedError } from '../../shared/domain/errors';
import { headerValue } from '../../shared/http/headers';
import { log } from '../../shared/http/log';
import type { PersonTokenVerifier } from '../../shared/ports/person-tokens';

/** The one error message API Gateway turns into its 401 gateway response. */
export const UNAUTHORIZED = 'Unauthorized';

export interface AnalyticsAuthorizerDependencies {
  readonly people: PersonTokenVerifier;
}

/** What the analytics handlers find in `requestContext.authorizer` (with `principalId`); `resolvePrincipal` reads it. */
export type AnalyticsCallerContext = { readonly principalKind: 'person'; readonly orgId: string; readonly userId: string };

type Credentials = { readonly scheme: 'bearer' | 'basic'; readonly value: string };

/** The Authorization header's scheme (case-insensitive, as HTTP has it) and value; undefined for anything else. */
function credentialsOf(headers: APIGatewayRequestAuthorizerEvent['headers']): Credentials | undefined {
  const header = headerValue(headers, 'authorization');
  const parts = /^(\S+) +(\S+)\s*$/.exec(header ?? '');
  const scheme = parts?.[1]!.toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  return { scheme, value: parts![2]! };
}

/** `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/*` from the ARN of the method called. */
function wholeApiOf(methodArn: string): string {
  const found = /^(arn:[^:]+:execute-api:[^:]+:[^:]+:[^/]+\/[^/]+)\//.exec(methodArn);
  if (!found) throw new Error('The authorizer event has no execute-api method ARN.');
  return `${found[1]}/*`;
}

function allow(methodArn: string, principalId: string, context: AnalyticsCallerContext): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: wholeApiOf(methodArn) }] },
    context,
  };
}

/** Who is calling, or `Unauthorized` (401); an error of ours (the identity provider's keys did not load) stays a 500. */
export async function authorizeAnalyticsRequest(event: APIGatewayRequestAuthorizerEvent, deps: AnalyticsAuthorizerDependencies): Promise<APIGatewayAuthorizerResult> {
  const credentials = credentialsOf(event.headers);
  try {
    switch (credentials?.scheme) {
      case 'bearer': {
        const person = await deps.people.verify(credentials.value);
        return allow(event.methodArn, person.userId, { principalKind: 'person', orgId: person.orgId, userId: person.userId });
      }
      case 'basic':
        // The analytics-key issue checks an org's key here (key id and secret against the stored hash) and answers
        // `{ orgId, keyId }` as the context. Until then no key exists, so none is valid.
        throw new UnauthorizedError('Analytics keys are not issued yet.');
      default:
        throw new UnauthorizedError('No bearer token in the Authorization header.');
    }
  } catch (error) {
    if (error instanceof UnauthorizedError) {
      // The reason is ours (a fixed sentence); the token never reaches a log.
      log('info', 'analytics caller refused', { reason: error.message });
      throw new Error(UNAUTHORIZED);
    }
    log('error', 'analytics authorizer failed', { errorName: (error as Error | undefined)?.name ?? typeof error });
    throw error;
  }
}

export const handler = async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> =>
  authorizeAnalyticsRequest(event, { people: personTokenVerifierFromEnv() });
