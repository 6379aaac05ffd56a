import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DomainError,
  consumeNotFound,
  idempotencyKeyReused,
  invalidCursor,
  limitReached,
  orgNotFound,
  refundExceedsCharge,
  apiKeyProjectMismatch,
  forbidden,
  serviceCallerNotAllowed,
  routeNotFound,
  type ErrorCode,
} from '../../shared/domain/errors';
import { STATUS_BY_CODE, errorResponse } from '../../shared/http/error-response';

/** The README's error table, row by row (`| status | `code`, `code` | when |`): the contract the mapping must keep. */
function readmeErrorTable(): [ErrorCode, number][] {
  const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Error codes'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('|')));
  return table
    .split('\n')
    .map((line) => /^\| (\d{3}) \| (.+?) \|/.exec(line))
    .filter((match) => match !== null)
    .flatMap((match) => [...match[2]!.matchAll(/`([a-z_]+)`/g)].map((code) => [code[1] as ErrorCode, Number(match[1])] as [ErrorCode, number]));
}

class UnlistedError extends DomainError {
  readonly code = 'not_a_code' as ErrorCode;
}

describe('error to HTTP mapping', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('answers every code with the status the README gives it, and lists no code the README does not', () => {
    const documented = readmeErrorTable();
    expect(documented.length).toBeGreaterThan(10);
    expect(Object.entries(STATUS_BY_CODE).sort()).toEqual([...documented].sort());
  });

  it.each([
    [orgNotFound('acme'), 404, { code: 'org_not_found', field: 'orgId' }],
    [consumeNotFound('job-1'), 404, { code: 'consume_not_found', field: 'refundOf' }],
    [idempotencyKeyReused(), 409, { code: 'idempotency_key_reused', field: 'requestId' }],
    [refundExceedsCharge(1500, true), 409, { code: 'refund_exceeds_charge', field: 'cu', refundableCu: 1.5 }],
    [refundExceedsCharge(0, false), 409, { code: 'refund_exceeds_charge', field: 'refundOf', refundableCu: 0 }],
    [limitReached({ level: 'member', capMilli: 3000, usedMilli: 3000 }, 1000), 402, { code: 'member_cap_reached', level: 'member', capCu: 3, usedCu: 3, requestedCu: 1 }],
    [invalidCursor(), 400, { code: 'invalid_cursor', field: 'cursor' }],
    [routeNotFound('GET /nowhere'), 404, { code: 'route_not_found' }],
    [forbidden(), 403, { code: 'forbidden' }],
    [serviceCallerNotAllowed(), 403, { code: 'service_caller_not_allowed' }],
    [apiKeyProjectMismatch('apiu_ci', 'web'), 403, { code: 'api_key_project_mismatch', field: 'projectId', apiKeyProjectId: 'web' }],
  ])('answers a named error with its status and code (%#)', (error, status, body) => {
    const response = errorResponse(error);
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body!).error).toMatchObject(body);
  });

  it('answers a domain error with a code the mapping does not list as a 500, with a log line', () => {
    vi.stubEnv('LOG_LEVEL', 'info');
    vi.stubEnv('AWS_LAMBDA_LOG_FORMAT', '');
    const console = vi.spyOn(globalThis.console, 'error').mockImplementation(() => {});

    const response = errorResponse(new UnlistedError('should not happen'));

    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body!)).toEqual({ error: { code: 'internal_error', message: expect.any(String) } });
    expect(JSON.parse(console.mock.calls[0]![0] as string)).toMatchObject({ level: 'error', message: 'unhandled error', errorName: 'UnlistedError', errorCode: 'not_a_code' });
  });

  it('sends Retry-After with a 503', () => {
    const response = errorResponse(new (class extends DomainError { readonly code = 'store_unavailable' as const })('busy'));
    expect(response.headers).toMatchObject({ 'retry-after': '1' });
  });
});
