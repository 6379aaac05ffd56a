// The middy stack every area Lambda shares: resolve the caller and dispatch on the API Gateway route key, map
// errors once, and answer before Lambda's own timeout would.

import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { noAnswerInTime } from '../domain/errors';
import { errorResponse } from './error-response';
import { serviceCallersFromEnv, type GatewayEvent } from './principal';
import { dispatch, type Routes } from './routes';

export type { RouteHandler, Routes } from './routes';

/**
 * How long before the function's timeout a request still in progress is answered with 503 store_unavailable.
 * Only waiting on DynamoDB (retries against a hung or throttled store) takes that long, and a timed-out Lambda
 * would reach the caller as a bare 500 instead.
 */
export const ANSWER_BEFORE_TIMEOUT_MS = 500;

/**
 * Wraps an area's routes as one Lambda handler. `deps` is called per request with that request's own abort signal,
 * which fires when the request is answered early: the store calls still in flight for it end there, and no other
 * request's do.
 *
 * The early answer is ours, not middy's `timeoutEarly`: middy 6 shares one AbortController across every request of
 * a handler module, which is harmless on Lambda (one request per environment at a time) but aborts every request in
 * flight when the local runner serves many at once in one process.
 *
 * The service callers are read from the environment here, once per process (a Lambda builds its handler at load).
 */
export function areaHandler<Deps, Event extends GatewayEvent = APIGatewayProxyEventV2>(routes: Routes<Deps, Event>, deps: (signal: AbortSignal) => Deps) {
  const serviceCallers = serviceCallersFromEnv();
  return middy<Event, APIGatewayProxyStructuredResultV2>({ timeoutEarlyInMillis: 0 })
    .use({ onError: (request) => void (request.response = errorResponse(request.error)) })
    .handler((event, context) => {
      const { route, principal } = dispatch(routes, event, serviceCallers);
      return answerBeforeTimeout(context, (signal) => route.handle(event, deps(signal), principal));
    });
}

/**
 * Runs `work` with an abort signal of its own. If the function's deadline comes within ANSWER_BEFORE_TIMEOUT_MS
 * first, aborts that signal and fails with 503 store_unavailable (the outcome is unknown: see noAnswerInTime).
 */
export async function answerBeforeTimeout<T>(context: Partial<Pick<Context, 'getRemainingTimeInMillis'>>, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  // Without a Lambda context (a test calling the handler directly) there is no deadline to beat.
  if (typeof context.getRemainingTimeInMillis !== 'function') return work(controller.signal);
  const remainingMs = context.getRemainingTimeInMillis();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, fail) => {
    timer = setTimeout(() => {
      controller.abort();
      fail(noAnswerInTime());
    }, Math.max(0, remainingMs - ANSWER_BEFORE_TIMEOUT_MS));
  });
  const working = work(controller.signal);
  // Once the deadline has answered, the aborted work fails too: that failure is expected and has no one to tell.
  working.catch(() => undefined);
  try {
    return await Promise.race([working, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
