// Domain errors carry a stable machine `code` (and the field at fault where there is one), never an HTTP status:
// the one mapping to HTTP lives at the edge (shared/http/error-response.ts), a Record over `ErrorCode`.

import { toCu, type MilliCu } from './compute-units';
import { limitCode, limitMessage, type CapLevel } from './limits';

/** A limit that stops a charge, named by its level. */
export type LimitCode = 'team_balance_exhausted' | 'member_cap_reached' | 'project_cap_reached' | 'api_key_cap_reached';

/** Every machine code the API answers with. Adding one fails the type-check until the HTTP mapping names it. */
export type ErrorCode =
  | 'validation_failed'
  | 'invalid_json'
  | 'invalid_cursor'
  | 'unauthorized'
  | 'forbidden'
  | 'api_key_project_mismatch'
  | 'service_caller_not_allowed'
  | LimitCode
  | 'org_not_found'
  | 'team_not_found'
  | 'consume_not_found'
  | 'route_not_found'
  | 'idempotency_key_reused'
  | 'refund_exceeds_charge'
  | 'plan_change_required'
  | 'top_up_limit_reached'
  | 'analytics_key_not_found'
  | 'alert_webhook_not_found'
  | 'scope_not_found'
  | 'analytics_key_revoked'
  | 'analytics_key_limit_reached'
  | 'payload_too_large'
  | 'store_unavailable';

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  readonly field: string | undefined;
  /** Extra machine-readable facts for the client (e.g. the cap that was reached). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(message: string, field?: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.field = field;
    this.details = details;
  }
}

export class ValidationError extends DomainError {
  readonly code: 'validation_failed' | 'invalid_cursor';
  constructor(message: string, field?: string, code: 'validation_failed' | 'invalid_cursor' = 'validation_failed', details: Record<string, unknown> = {}) {
    super(message, field, details);
    this.code = code;
  }
}

export class InvalidJsonError extends DomainError {
  readonly code = 'invalid_json';
}

export class PayloadTooLargeError extends DomainError {
  readonly code = 'payload_too_large';
}

export class UnauthorizedError extends DomainError {
  readonly code = 'unauthorized';
}

type ForbiddenCode = 'forbidden' | 'api_key_project_mismatch' | 'service_caller_not_allowed';

/** A verified caller reaching beyond what its role or key allows. */
export class ForbiddenError extends DomainError {
  readonly code: ForbiddenCode;
  constructor(code: ForbiddenCode, message: string, field?: string, details: Record<string, unknown> = {}) {
    super(message, field, details);
    this.code = code;
  }
}

export class RouteNotFoundError extends DomainError {
  readonly code = 'route_not_found';
}

type NotFoundCode = 'org_not_found' | 'team_not_found' | 'consume_not_found' | 'analytics_key_not_found' | 'alert_webhook_not_found' | 'scope_not_found';

export class NotFoundError extends DomainError {
  readonly code: NotFoundCode;
  constructor(code: NotFoundCode, message: string, field?: string) {
    super(message, field);
    this.code = code;
  }
}

type ConflictCode = 'idempotency_key_reused' | 'refund_exceeds_charge' | 'plan_change_required' | 'top_up_limit_reached' | 'analytics_key_revoked' | 'analytics_key_limit_reached';

export class ConflictError extends DomainError {
  readonly code: ConflictCode;
  constructor(code: ConflictCode, message: string, field?: string, details: Record<string, unknown> = {}) {
    super(message, field, details);
    this.code = code;
  }
}

/** A limit stops the charge. `code` names the level: team_balance_exhausted, member_cap_reached, ... */
export class LimitReachedError extends DomainError {
  readonly code: LimitCode;
  constructor(code: LimitCode, message: string, details: Record<string, unknown>) {
    super(message, undefined, details);
    this.code = code;
  }
}

/** The store stayed busy (transaction conflicts, throttling, an unreachable endpoint) after our retries. */
export class StoreUnavailableError extends DomainError {
  readonly code = 'store_unavailable';
}

// Named constructors: each error the use cases raise is spelled once, here.

export function orgNotFound(orgId: string): NotFoundError {
  return new NotFoundError('org_not_found', `Org ${orgId} is not provisioned.`, 'orgId');
}

/** A `teamId` other than the reader's own org: 404, the same whether or not such an org exists. */
export function teamNotFound(teamId: string): NotFoundError {
  return new NotFoundError('team_not_found', `No team ${teamId} in your org.`, 'teamId');
}

export function consumeNotFound(refundOf: string): NotFoundError {
  return new NotFoundError('consume_not_found', `No consume with requestId ${refundOf} in this org.`, 'refundOf');
}

export function idempotencyKeyReused(field: 'requestId' | 'purchaseId' | 'eventId' = 'requestId'): ConflictError {
  return new ConflictError(
    'idempotency_key_reused',
    `This ${field} was already used in this org with a different request body.`,
    field,
  );
}

/** `byAmount`: the caller named an amount (field `cu`); otherwise it asked for all that is left (field `refundOf`). */
export function refundExceedsCharge(refundableMilli: MilliCu, byAmount: boolean): ConflictError {
  return new ConflictError(
    'refund_exceeds_charge',
    `Only ${toCu(refundableMilli)} CU of that charge is left to refund.`,
    byAmount ? 'cu' : 'refundOf',
    { refundableCu: toCu(refundableMilli) },
  );
}

/** For the team pool, capCu and usedCu are the allowance's, and availableCu what the whole pool (top-ups too) had left. */
export function limitReached(limit: { level: CapLevel; capMilli: MilliCu | null; usedMilli: MilliCu; headroomMilli?: MilliCu }, requestedMilli: MilliCu): LimitReachedError {
  return new LimitReachedError(limitCode(limit.level), limitMessage(limit.level), {
    level: limit.level,
    capCu: toCu(limit.capMilli ?? 0),
    usedCu: toCu(limit.usedMilli),
    ...(limit.level === 'team' ? { availableCu: toCu(limit.headroomMilli ?? Math.max(0, (limit.capMilli ?? 0) - limit.usedMilli)) } : {}),
    requestedCu: toCu(requestedMilli),
  });
}

export function invalidCursor(): ValidationError {
  return new ValidationError('cursor: not a cursor this API gave out for this list', 'cursor', 'invalid_cursor');
}

/** A member id that is an API key's (`apiu_...`), or an API key id that is not. */
export function wrongActorKind(field: 'userId' | 'keyId', apiKeyPrefix: string): ValidationError {
  return new ValidationError(
    field === 'userId' ? `Ids starting with ${apiKeyPrefix} are API keys; manage them under /api-keys.` : `API key ids start with ${apiKeyPrefix}.`,
    field,
  );
}

/** PUT /v1/orgs/{orgId} may not change the plan or anchor of a provisioned org: that would reset counters past the caps. */
export function planChangeRequired(field: 'plan' | 'billingAnchor', orgId: string): ConflictError {
  return new ConflictError(
    'plan_change_required',
    `The org's ${field === 'plan' ? 'plan' : 'billing anchor'} changes only through PUT /v1/orgs/${orgId}/plan (an upgrade restarts the period, a downgrade waits for the reset).`,
    field,
    { planRoute: `/v1/orgs/${orgId}/plan` },
  );
}

/** The org holds as many live top-up batches as it may. */
export function topUpLimitReached(max: number): ConflictError {
  return new ConflictError('top_up_limit_reached', `The org holds ${max} live top-up batches, the most it may; buy fewer, larger batches.`, 'purchaseId', { maxLiveTopUps: max });
}

/** No such analytics key in the org: the same answer whether the id is unknown or another org's. */
export function analyticsKeyNotFound(keyId: string): NotFoundError {
  return new NotFoundError('analytics_key_not_found', `No analytics key ${keyId} in this org.`, 'keyId');
}

/** A revoked key cannot be rotated: create a new one. */
export function analyticsKeyRevoked(keyId: string): ConflictError {
  return new ConflictError('analytics_key_revoked', `Analytics key ${keyId} is revoked; create a new key instead.`, 'keyId');
}

/** The org holds as many live analytics keys as it may. */
export function analyticsKeyLimitReached(max: number): ConflictError {
  return new ConflictError('analytics_key_limit_reached', `The org has ${max} live analytics keys, the most it may; revoke one first.`, 'name', { maxLiveKeys: max });
}

/** A field whose value breaks a billing rule (not its shape): a downgrade above today's allowance, an expiry in the past, ... */
export function invalidField(field: string, message: string): ValidationError {
  return new ValidationError(message, field);
}

export function alertWebhookNotFound(orgId: string): NotFoundError {
  return new NotFoundError('alert_webhook_not_found', `Org ${orgId} has no cost-alert webhook; PUT one first.`, 'orgId');
}

/** A person's cap change names a project, member or API key the org has not provisioned (a person creates none). */
export function scopeNotFound(kind: 'project' | 'member' | 'api_key', id: string): NotFoundError {
  const field = { project: 'projectId', member: 'userId', api_key: 'keyId' }[kind];
  return new NotFoundError('scope_not_found', `No ${kind.replace('_', ' ')} ${id} in this org.`, field);
}

export function forbidden(): ForbiddenError {
  return new ForbiddenError('forbidden', 'Your role or key does not reach this org or project. An org admin can grant access.');
}

/** An API key charging (or checking) a project other than the one its record names. */
export function apiKeyProjectMismatch(keyId: string, keyProjectId: string): ForbiddenError {
  return new ForbiddenError(
    'api_key_project_mismatch',
    `API key ${keyId} belongs to project ${keyProjectId} and charges only there. An admin can move it (PUT /v1/orgs/{orgId}/api-keys/${keyId}).`,
    'projectId',
    { apiKeyProjectId: keyProjectId },
  );
}

/** An IAM caller the gateway verified that is not one of the roles the deployment names as the platform's backend. */
export function serviceCallerNotAllowed(): ForbiddenError {
  return new ForbiddenError(
    'service_caller_not_allowed',
    "This IAM identity may not call the service routes: it is not one of the deployment's service caller roles (context serviceCallerArns).",
  );
}

export function routeNotFound(routeKey: string): RouteNotFoundError {
  return new RouteNotFoundError(`No route ${routeKey}.`);
}

/** After our retries: the store stayed busy or silent. A write may still have committed, so nothing is promised. */
export function storeUnavailable(): StoreUnavailableError {
  return new StoreUnavailableError(
    'The ledger stayed busy or unreachable through our retries, so the outcome is unknown: a consume or refund may have been charged. Retry with the same requestId to learn it (it is never charged twice).',
  );
}

/** The function's deadline came first: the request was answered early and its store calls cancelled. */
export function noAnswerInTime(): StoreUnavailableError {
  return new StoreUnavailableError(
    'The ledger did not answer in time, so the outcome is unknown: a consume or refund may have been charged. Retry with the same requestId to learn it (it is never charged twice).',
  );
}
