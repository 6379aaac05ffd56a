// The service's public API as the page calls it: the same routes and answers a BI tool gets, with the person's
// access token. Errors keep the API's machine code and field.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface Api {
  get<T>(path: string, query?: URLSearchParams): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
  /** Fetches a CSV with the token and hands it to the browser as a download. */
  download(path: string, query: URLSearchParams | undefined, filename: string): Promise<void>;
}

export function createApi(base: string, token: () => string, onUnauthorized: () => void): Api {
  async function call(method: string, path: string, query?: URLSearchParams, body?: unknown): Promise<Response> {
    const url = `${base}${path}${query && [...query.keys()].length > 0 ? `?${query}` : ''}`;
    const response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (response.ok) return response;
    const answer = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string; field?: string } };
    if (response.status === 401) onUnauthorized();
    throw new ApiError(response.status, answer.error?.code ?? 'http_error', answer.error?.message ?? `HTTP ${response.status}`, answer.error?.field);
  }
  return {
    async get(path, query) {
      return (await call('GET', path, query)).json();
    },
    async put(path, body) {
      return (await call('PUT', path, undefined, body)).json();
    },
    async download(path, query, filename) {
      const blob = await (await call('GET', path, query)).blob();
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = filename;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    },
  };
}
