// The Analytics API as one org analytics key sees it, for client tools (the MCP usage server): where it is and the key,
// read from the environment once; a GET with HTTP Basic; and every answer that is not a 2xx turned into an error whose
// message names the code and the field, never the secret.

import type { ErrorBody } from '../../shared/http/error-body';

export const URL_VARIABLE = 'CU_LEDGER_URL';
export const KEY_VARIABLE = 'CU_LEDGER_KEY';
export const SECRET_VARIABLE = 'CU_LEDGER_SECRET';

/** A slow API is reported as a tool error, never a request left hanging in the client. */
const REQUEST_TIMEOUT_MS = 30_000;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface AnalyticsApiConfig {
  /** The origin and any stage path, without a trailing `/v1`: route paths (`/v1/usage`) are appended to it. */
  readonly baseUrl: string;
  readonly keyId: string;
  readonly secret: string;
}

/** A setting that is missing or unusable: the message names the variable, never the secret's value. */
export class AnalyticsApiConfigError extends Error {
  override readonly name = 'AnalyticsApiConfigError';
}

/** The API answered with an error, or could not be reached: the message is what a person reads. */
export class AnalyticsApiError extends Error {
  override readonly name = 'AnalyticsApiError';
  constructor(
    message: string,
    readonly status?: number,
    readonly body?: ErrorBody,
  ) {
    super(message);
  }
}

/** The API's base URL and the key, from `CU_LEDGER_URL`, `CU_LEDGER_KEY` and `CU_LEDGER_SECRET`. */
export function analyticsApiConfig(env: NodeJS.ProcessEnv): AnalyticsApiConfig {
  const missing = [URL_VARIABLE, KEY_VARIABLE, SECRET_VARIABLE].filter((name) => !env[name]);
  if (missing.length > 0) throw new AnalyticsApiConfigError(`${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set.`);
  const keyId = env[KEY_VARIABLE]!;
  // Basic credentials are `key:secret`: a colon in the key would move part of it into the secret.
  if (keyId.includes(':')) throw new AnalyticsApiConfigError(`${KEY_VARIABLE} must be the key's id, without a colon.`);
  return { baseUrl: baseUrlOf(env[URL_VARIABLE]!), keyId, secret: env[SECRET_VARIABLE]! };
}

/**
 * `https://api.example.com`, `.../prod/`, `.../v1` alike: the origin and path without trailing slashes or `/v1`. Plain
 * HTTP only to this machine: Basic credentials would cross the network in clear.
 */
function baseUrlOf(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AnalyticsApiConfigError(`${URL_VARIABLE} is not a URL (e.g. https://api.example.com or http://127.0.0.1:8787).`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AnalyticsApiConfigError(`${URL_VARIABLE} must be an http or https URL.`);
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new AnalyticsApiConfigError(`${URL_VARIABLE} must use https for any host but this machine (127.0.0.1, localhost): the key's secret would travel in clear.`);
  }
  if (url.username || url.password || url.search || url.hash) throw new AnalyticsApiConfigError(`${URL_VARIABLE} must hold no credentials, query or fragment.`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}`;
}

/** GETs `path` (`/v1/usage`) with the query, as the key: the answer's JSON body, or an AnalyticsApiError. */
export async function getWithKey(config: AnalyticsApiConfig, path: string, query: URLSearchParams): Promise<unknown> {
  const search = query.size > 0 ? `?${query}` : '';
  const credentials = Buffer.from(`${config.keyId}:${config.secret}`).toString('base64');
  let response: Response;
  try {
    response = await fetch(`${config.baseUrl}${path}${search}`, {
      headers: { authorization: `Basic ${credentials}`, accept: 'application/json' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new AnalyticsApiError(`Could not reach the Analytics API at ${config.baseUrl}: ${reasonOf(error)}.`);
  }
  const body = await jsonOf(response);
  if (response.ok && body !== undefined) return body;
  throw errorOf(response.status, body, config);
}

function errorOf(status: number, body: unknown, config: AnalyticsApiConfig): AnalyticsApiError {
  const errorBody = isErrorBody(body) ? body : undefined;
  if (status === 401) {
    return new AnalyticsApiError(`HTTP 401 unauthorized: the Analytics API refused analytics key ${config.keyId}; check ${KEY_VARIABLE} and ${SECRET_VARIABLE}.`, status, errorBody);
  }
  if (!errorBody) return new AnalyticsApiError(`HTTP ${status}: the Analytics API answered without a JSON error body.`, status);
  const { code, field, message } = errorBody.error;
  return new AnalyticsApiError(`HTTP ${status} ${code}${field === undefined ? '' : `, field ${field}`}: ${message}`, status, errorBody);
}

function isErrorBody(body: unknown): body is ErrorBody {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

async function jsonOf(response: Response): Promise<unknown> {
  try {
    return (await response.json()) as unknown;
  } catch {
    return undefined;
  }
}

/** fetch's own message is only "fetch failed"; the cause says why (ECONNREFUSED, a timeout, ...). */
function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if ((error as Error).name === 'TimeoutError') return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  return typeof cause?.message === 'string' ? cause.message : String((error as Error).message ?? error);
}
