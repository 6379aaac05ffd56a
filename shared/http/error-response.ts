// The one mapping from errors to HTTP. Domain errors keep their code and field; anything else is a 500 with a
// generic body and one log line (never the error's text, which could carry data).

import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  ConflictError,
  DomainError,
  InvalidJsonError,
  LimitReachedError,
  NotFoundError,
  PayloadTooLargeError,
  RouteNotFoundError,
  StoreUnavailableError,
  UnauthorizedError,
  ValidationError,
} from '../domain/errors';
import { log } from './log';

const STATUS_BY_ERROR: ReadonlyArray<[abstract new (...args: never[]) => DomainError, number]> = [
  [ValidationError, 400],
  [InvalidJsonError, 400],
  [UnauthorizedError, 401],
  [LimitReachedError, 402],
  [NotFoundError, 404],
  [RouteNotFoundError, 404],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [StoreUnavailableError, 503],
];

export interface ErrorBody {
  error: { code: string; message: string; field?: string } & Record<string, unknown>;
}

export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  if (error instanceof DomainError) {
    const status = STATUS_BY_ERROR.find(([type]) => error instanceof type)?.[1] ?? 400;
    const body: ErrorBody = { error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}), ...error.details } };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (status === 503) headers['retry-after'] = '1';
    return { statusCode: status, headers, body: JSON.stringify(body) };
  }
  log('error', 'unhandled error', { errorName: (error as Error | undefined)?.name ?? typeof error });
  return jsonResponse(500, { error: { code: 'internal_error', message: 'Something went wrong on our side. For a consume or refund, retry with the same requestId to learn whether it was charged.' } });
}

export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
