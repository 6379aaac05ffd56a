// The one mapping from errors to HTTP. Domain errors keep their code and field; anything else is a 500 with a
// generic body and one log line (never the error's text, which could carry data).

import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DomainError, type ErrorCode } from '../domain/errors';
import type { ErrorBody } from './error-body';
import { log } from './log';

/** Every error code's HTTP status. A Record over the union: a new code fails the type-check until it is listed. */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  validation_failed: 400,
  invalid_json: 400,
  invalid_cursor: 400,
  unauthorized: 401,
  forbidden: 403,
  api_key_project_mismatch: 403,
  service_caller_not_allowed: 403,
  team_balance_exhausted: 402,
  member_cap_reached: 402,
  project_cap_reached: 402,
  api_key_cap_reached: 402,
  org_not_found: 404,
  team_not_found: 404,
  consume_not_found: 404,
  route_not_found: 404,
  idempotency_key_reused: 409,
  refund_exceeds_charge: 409,
  plan_change_required: 409,
  top_up_limit_reached: 409,
  analytics_key_not_found: 404,
  alert_webhook_not_found: 404,
  scope_not_found: 404,
  analytics_key_revoked: 409,
  analytics_key_limit_reached: 409,
  payload_too_large: 413,
  store_unavailable: 503,
};

/** The code of the 500 answer to an error no mapping names: not a domain code, since it is never a client's to handle. */
export const INTERNAL_ERROR_CODE = 'internal_error';

export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  const status = error instanceof DomainError && Object.hasOwn(STATUS_BY_CODE, error.code) ? STATUS_BY_CODE[error.code] : undefined;
  if (error instanceof DomainError && status !== undefined) {
    const body: ErrorBody = { error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}), ...error.details } };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (status === 503) headers['retry-after'] = '1';
    return { statusCode: status, headers, body: JSON.stringify(body) };
  }
  // An error no mapping names (a domain error with a code outside the union, or anything else) is our fault.
  const code = error instanceof DomainError ? { errorCode: String(error.code) } : {};
  log('error', 'unhandled error', { errorName: (error as Error | undefined)?.name ?? typeof error, ...code });
  return jsonResponse(500, { error: { code: INTERNAL_ERROR_CODE, message: 'Something went wrong on our side. For a consume or refund, retry with the same requestId to learn whether it was charged.' } });
}

export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
