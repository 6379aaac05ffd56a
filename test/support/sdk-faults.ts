// Faults DynamoDB Local cannot produce (conflicts, throttling, a committed write whose response was lost), injected
// into a real SDK client as middleware, and a count of the round trips the client made.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export type Fault =
  /** Fail before the request leaves: nothing is written. */
  | { readonly when: 'before'; readonly error: () => Error }
  /** Send the request (it commits), then lose the response. */
  | { readonly when: 'after'; readonly error: () => Error };

export interface SdkProbe {
  /** Queue faults for the next calls of a command, e.g. `TransactWriteItemsCommand`. */
  inject(commandName: string, ...faults: Fault[]): void;
  /**
   * Hold the next call of a command whose input mentions `marker` (an org id, say) until `until` settles, then let
   * it go on: a store that is slow for one request only. The SDK still honours the call's abort signal afterwards.
   */
  stall(commandName: string, marker: string, until: Promise<unknown>): void;
  /** HTTP round trips per command since the last reset (SDK retries count). */
  readonly roundTrips: Map<string, number>;
  totalRoundTrips(): number;
  reset(): void;
}

export function probeClient(client: DynamoDBClient): SdkProbe {
  const queued = new Map<string, Fault[]>();
  const stalls: { command: string; marker: string; until: Promise<unknown> }[] = [];
  const roundTrips = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      roundTrips.set(command, (roundTrips.get(command) ?? 0) + 1);
      const stall = stalls.findIndex((candidate) => candidate.command === command && JSON.stringify(args.input).includes(candidate.marker));
      if (stall >= 0) await stalls.splice(stall, 1)[0]!.until.catch(() => undefined);
      const fault = queued.get(command)?.shift();
      if (fault?.when === 'before') throw fault.error();
      const result = await next(args);
      if (fault?.when === 'after') throw fault.error();
      return result;
    },
    // Inside the SDK's retry loop, so injected transient errors are retried like real ones.
    { step: 'deserialize', name: 'faultInjection', priority: 'high' },
  );
  return {
    inject(commandName, ...faults) {
      queued.set(commandName, [...(queued.get(commandName) ?? []), ...faults]);
    },
    stall(commandName, marker, until) {
      stalls.push({ command: commandName, marker, until });
    },
    roundTrips,
    totalRoundTrips: () => [...roundTrips.values()].reduce((sum, count) => sum + count, 0),
    reset() {
      queued.clear();
      stalls.length = 0;
      roundTrips.clear();
    },
  };
}

/** A network failure the SDK classifies as transient. */
export function connectionReset(): Error {
  return Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' });
}
