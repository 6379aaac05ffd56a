// Who is calling, read from what API Gateway verified before the Lambda ran, for HTTP API (payload v2) and REST API
// (payload v1) events alike: the service (IAM SigV4), a person (JWT claims), or an analytics key (the Lambda
// authorizer's context). Nothing here checks a signature: the gateway did, and the local runner stands in for it.

import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { ForbiddenError, serviceCallerNotAllowed, UnauthorizedError } from '../domain/errors';
import type { Principal, PrincipalKind } from '../domain/permissions';
import { isServiceCaller, parseRoleArn, type ServiceCallers } from '../domain/service-callers';
import { log } from './log';

export type GatewayEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent;

type Claims = Readonly<Record<string, unknown>>;

interface AuthorizerContext {
  /** HTTP API, IAM authorization. */
  readonly iam?: { readonly userArn?: string };
  /** HTTP API, JWT authorizer. */
  readonly jwt?: { readonly claims?: Claims };
  /** HTTP API, Lambda authorizer (simple responses put the context here): `{ principalKind, orgId, userId | keyId }`. */
  readonly lambda?: Claims;
  /** REST API, Cognito or JWT authorizer. */
  readonly claims?: Claims;
  /** REST API, Lambda authorizer: its context's keys sit on the authorizer itself. */
  readonly [key: string]: unknown;
}

/** The principal the gateway verified, or undefined when it verified none. */
export function resolvePrincipal(event: GatewayEvent): Principal | undefined {
  const context = event.requestContext as { authorizer?: AuthorizerContext | null; identity?: { userArn?: string | null } };
  const authorizer = context.authorizer ?? undefined;
  const serviceArn = authorizer?.iam?.userArn ?? context.identity?.userArn ?? undefined;
  if (serviceArn) return { kind: 'service', id: serviceArn };
  const claims = authorizer?.jwt?.claims ?? authorizer?.claims;
  if (claims) return personFrom(claims);
  const verified = authorizer?.lambda ?? authorizer;
  if (verified && typeof verified.orgId === 'string') {
    if (verified.principalKind === 'person' && typeof verified.userId === 'string') return { kind: 'person', orgId: verified.orgId, userId: verified.userId };
    if (typeof verified.keyId === 'string') return { kind: 'analytics_key', orgId: verified.orgId, keyId: verified.keyId };
  }
  return undefined;
}

/** The claim that names a person's org, unless ORG_CLAIM names another. */
export const DEFAULT_ORG_CLAIM = 'org_id';

/** A signed-in person: the org and user claims of the token (the role comes from the member records, not the token). */
function personFrom(claims: Claims): Principal | undefined {
  const orgId = claims[process.env.ORG_CLAIM || DEFAULT_ORG_CLAIM];
  const userId = claims.sub;
  if (typeof orgId !== 'string' || orgId === '' || typeof userId !== 'string' || userId === '') return undefined;
  return { kind: 'person', orgId, userId };
}

const NEEDS: Record<PrincipalKind, string> = {
  service: 'the service principal (IAM, or the local SERVICE_TOKEN)',
  person: 'a signed-in member of the org',
  analytics_key: "an org's analytics key",
};

/**
 * The caller, if it is one of the principals the route accepts: 401 naming what the route needs when no one was
 * verified, 403 when someone was but the route is not for them (an analytics key on any route but its reads). An
 * IAM caller that is not one of `serviceCallers` gets 403: IAM verified who it is, and it is not the platform's backend.
 */
export function requirePrincipal(event: GatewayEvent, accepts: readonly PrincipalKind[], serviceCallers: ServiceCallers): Principal {
  const principal = resolvePrincipal(event);
  const needs = `This route needs ${accepts.map((kind) => NEEDS[kind]).join(' or ')}.`;
  if (!principal) throw new UnauthorizedError(needs);
  if (!accepts.includes(principal.kind)) throw new ForbiddenError('forbidden', `${needs} You are ${NEEDS[principal.kind]}.`);
  if (principal.kind === 'service' && !isServiceCaller(principal.id, serviceCallers)) {
    // The ARN names who tried (an identity, not data): what the operator needs to fix a list or find an intruder.
    log('warn', 'service caller not on the list', { callerArn: principal.id });
    throw serviceCallerNotAllowed();
  }
  return principal;
}

/** Where the stack hands a service-route function the backend's role ARNs: a JSON array of IAM role ARNs. */
export const SERVICE_CALLER_ARNS_ENV = 'SERVICE_CALLER_ARNS';

/**
 * The service callers this process admits, read once when a handler is built: unset, any IAM caller (the local
 * runner, where the SERVICE_TOKEN stands for IAM, or a deployment without a list). A value that is not a JSON array
 * of role ARNs stops the function: admitting anyone because a list was mistyped would fail open.
 */
export function serviceCallersFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceCallers {
  const value = env[SERVICE_CALLER_ARNS_ENV];
  if (value === undefined) return 'any';
  let listed: unknown;
  try {
    listed = JSON.parse(value);
  } catch {
    listed = undefined;
  }
  const arns: unknown[] = Array.isArray(listed) ? listed : [];
  const roles = arns.flatMap((arn) => (typeof arn === 'string' ? (parseRoleArn(arn) ?? []) : []));
  if (roles.length === 0 || roles.length !== arns.length) throw new Error(`${SERVICE_CALLER_ARNS_ENV} must be a JSON array of IAM role ARNs.`);
  return roles;
}
