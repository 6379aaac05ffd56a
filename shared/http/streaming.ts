// Answers whose body streams (CSV exports): Lambda response streaming behind a REST API on AWS, a chunked HTTP
// response in the local runner. The route resolves the caller, checks its input and reads its first rows before the
// status goes out, so bad input and an unreachable store still get their own status and error body; a failure after
// that breaks the transfer (the client sees an incomplete response, never a short file that looks whole).

import type { Context } from 'aws-lambda';
import { errorResponse } from './error-response';
import { log } from './log';
import { serviceCallersFromEnv, type GatewayEvent } from './principal';
import { dispatch, type Routes } from './routes';

/** Where a streamed answer goes. */
export interface ResponseSink {
  /** Sends the status and headers: once, before any write. */
  start(statusCode: number, headers: Readonly<Record<string, string>>): void;
  /** Resolves once the chunk may be followed by the next (backpressure). */
  write(chunk: string): Promise<void>;
  end(): void;
  /** The answer cannot be completed: break the transfer. */
  abort(error: unknown): void;
}

export interface StreamedAnswer {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: AsyncIterable<string>;
}

export type StreamingHandler<Event extends GatewayEvent> = (event: Event, sink: ResponseSink, context: Partial<Context>) => Promise<void>;

/** Wraps a streaming area's routes as one handler that writes to a sink. `deps` is built per request; the service callers once. */
export function streamingAreaHandler<Deps, Event extends GatewayEvent>(routes: Routes<Deps, Event, StreamedAnswer>, deps: (signal: AbortSignal) => Deps): StreamingHandler<Event> {
  const serviceCallers = serviceCallersFromEnv();
  return async (event, sink) => {
    const controller = new AbortController();
    let answer: StreamedAnswer;
    let chunks: AsyncIterator<string>;
    let first: IteratorResult<string>;
    try {
      const { route, principal } = dispatch(routes, event, serviceCallers);
      answer = await route.handle(event, deps(controller.signal), principal);
      chunks = answer.body[Symbol.asyncIterator]();
      first = await chunks.next();
    } catch (error) {
      const response = errorResponse(error);
      sink.start(response.statusCode ?? 500, stringHeaders(response.headers));
      await sink.write(response.body ?? '');
      sink.end();
      return;
    }
    sink.start(answer.statusCode, answer.headers);
    try {
      for (let next = first; !next.done; next = await chunks.next()) await sink.write(next.value);
      sink.end();
    } catch (error) {
      log('error', 'streamed answer broken off', { errorName: (error as Error | undefined)?.name ?? typeof error });
      controller.abort();
      sink.abort(error);
    }
  };
}

function stringHeaders(headers: Record<string, boolean | number | string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]));
}

/** What the Lambda Node.js runtime provides for response streaming (a global, only there). */
interface LambdaStreamingRuntime {
  streamifyResponse(handler: (event: unknown, responseStream: NodeJS.WritableStream, context: Context) => Promise<void>): unknown;
  HttpResponseStream: { from(stream: NodeJS.WritableStream, metadata: { statusCode: number; headers: Record<string, string> }): NodeJS.WritableStream & { destroy(error?: Error): void } };
}

/**
 * The Lambda entry of a streaming area: the runtime's response stream as the sink. Outside Lambda (tests, the local
 * runner, which call the sink handler itself) there is no such runtime, and calling this entry fails.
 */
export function lambdaStreamingEntry<Event extends GatewayEvent>(handler: StreamingHandler<Event>): unknown {
  // The AWS SDK leaves an empty `awslambda` object behind anywhere; only the Lambda runtime's can stream.
  const runtime = (globalThis as { awslambda?: Partial<LambdaStreamingRuntime> }).awslambda;
  if (typeof runtime?.streamifyResponse !== 'function' || !runtime.HttpResponseStream) {
    return () => Promise.reject(new Error('This entry streams through the Lambda runtime; elsewhere call its sink handler.'));
  }
  const streams = runtime.HttpResponseStream;
  return runtime.streamifyResponse(async (event, responseStream, context) => {
    let stream: ReturnType<LambdaStreamingRuntime['HttpResponseStream']['from']> | undefined;
    await handler(event as Event, {
      start(statusCode, headers) {
        stream = streams.from(responseStream, { statusCode, headers: { ...headers } });
      },
      write(chunk) {
        return new Promise((resolve) => (stream!.write(chunk) ? resolve() : stream!.once('drain', () => resolve())));
      },
      end() {
        stream!.end();
      },
      abort(error) {
        stream!.destroy(error instanceof Error ? error : new Error('streamed answer broken off'));
      },
    }, context);
  });
}
