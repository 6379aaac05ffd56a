// Reading API Gateway requests (HTTP API v2 and REST API v1 payloads) at the edge: JSON bodies, path and query parameters.
// Every failure is a domain error naming the field; nothing here knows a use case.

import type { GatewayEvent } from './principal';
import { headerValue } from './headers';
import type * as z from 'zod/mini';
import { InvalidJsonError, PayloadTooLargeError, ValidationError } from '../domain/errors';
import { serviceActor, type ActivityActor } from '../ports/ledger-records';
import { identifier } from './schemas';

export const MAX_BODY_BYTES = 16 * 1024;

export function readJsonBody(event: GatewayEvent): unknown {
  if (event.body === undefined || event.body === null || event.body === '') {
    throw new InvalidJsonError('This request needs a JSON object as its body.', 'body');
  }
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`The body is larger than ${MAX_BODY_BYTES} bytes.`, 'body');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new InvalidJsonError('The body is not valid JSON.', 'body');
  }
}

/** Validates `input` against `schema`; the first issue becomes a ValidationError naming its field. */
export function parseInput<T extends z.ZodMiniType>(schema: T, input: unknown, fieldPrefix = ''): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0] ?? '');
  const field = path.length > 0 ? `${fieldPrefix}${path.join('.')}` : fieldPrefix.replace(/\.$/, '') || 'body';
  throw new ValidationError(`${field}: ${issue.message}`, field);
}

export function pathParameters<T extends z.ZodMiniType>(event: GatewayEvent, schema: T): z.output<T> {
  return parseInput(schema, event.pathParameters ?? {});
}

export function queryParameters<T extends z.ZodMiniType>(event: GatewayEvent, schema: T): z.output<T> {
  return parseInput(schema, event.queryStringParameters ?? {});
}

/**
 * Every query parameter with all its values, in order, from either payload: REST API (v1) events list repeats in
 * `multiValueQueryStringParameters`; HTTP API (v2) events join them with commas.
 */
export function queryValues(event: GatewayEvent): Record<string, string[]> {
  if ('multiValueQueryStringParameters' in event && event.multiValueQueryStringParameters) {
    return Object.fromEntries(Object.entries(event.multiValueQueryStringParameters).map(([name, values]) => [name, [...(values ?? [])]]));
  }
  const single = event.queryStringParameters ?? {};
  const joined = 'routeKey' in event;
  return Object.fromEntries(Object.entries(single).map(([name, value]) => [name, value === undefined ? [] : joined ? value.split(',') : [value]]));
}

/** Names the person the platform's backend acts for on an admin write; the activity log records it. */
const ACTING_USER_HEADER = 'X-Acting-User';

/**
 * Who an admin write is made by: the service principal, acting for the person `X-Acting-User` names (an identifier,
 * like every user id) when it names one. A malformed name is a 400 before anything is written.
 */
export function writeActor(event: GatewayEvent): ActivityActor {
  const value = headerValue(event.headers, ACTING_USER_HEADER);
  return serviceActor(value === undefined ? undefined : parseInput(identifier, value, ACTING_USER_HEADER));
}
