// The event publisher port on EventBridge: PutEvents in batches of ten, the entries the bus refused sent again a
// few times, and an error that counts what still failed. Details never reach a log or an error: they hold org data.

import { EventBridgeClient, PutEventsCommand, type EventBridgeClientConfig, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, type EventPublisher, type PublishedEvent } from '../../ports/event-publisher';

/** The most entries one PutEvents call may carry. */
export const PUT_EVENTS_BATCH_LIMIT = 10;

/** Waits before each new attempt at the refused entries; one attempt more than there are waits, in all. */
export const REFUSED_ENTRY_RETRY_DELAYS_MS: readonly number[] = [50, 200, 800];

/** Like the DynamoDB client on AWS: a stalled connection or request fails fast, and the SDK retries it. */
export const EVENTBRIDGE_TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true } as const;

/** Some events were still refused by the bus after the retries; the message names them by detail-type and id only. */
export class EventsNotPublishedError extends Error {
  override readonly name = 'EventsNotPublishedError';

  constructor(
    readonly failed: number,
    readonly total: number,
    refused: readonly string[],
  ) {
    super(`EventBridge refused ${failed} of ${total} events after retries: ${refused.join(', ')}`);
  }
}

/** `overrides` are for tests that need another retry budget or timeout; the service uses the defaults. */
export function createEventBridgeClient(region?: string, overrides: Partial<EventBridgeClientConfig> = {}): EventBridgeClient {
  return new EventBridgeClient({ maxAttempts: 3, requestHandler: EVENTBRIDGE_TIMEOUTS, ...(region ? { region } : {}), ...overrides });
}

interface PendingEntry {
  readonly event: PublishedEvent;
  readonly entry: PutEventsRequestEntry;
  /** Why the bus refused it last time, e.g. `ThrottlingException`. */
  readonly errorCode?: string;
}

/**
 * Publishes onto `eventBusName`. Steps:
 * 1. send the events in batches of at most ten;
 * 2. keep the entries the answers mark as refused (a per-entry ErrorCode), wait a little, send those again;
 * 3. after the last retry, throw an EventsNotPublishedError if any are still refused (the rest are sent).
 * An SDK error (the call itself failed, after the SDK's own retries) is thrown as it is.
 */
export function eventBridgePublisher(
  client: EventBridgeClient,
  eventBusName: string,
  retryDelaysMs: readonly number[] = REFUSED_ENTRY_RETRY_DELAYS_MS,
): EventPublisher {
  const toEntry = (event: PublishedEvent): PendingEntry => ({
    event,
    entry: {
      EventBusName: eventBusName,
      Source: EVENT_SOURCE,
      DetailType: event.detailType,
      Detail: JSON.stringify(event.detail),
      Time: new Date(event.time),
      Resources: [],
    },
  });

  const refusedIn = async (pending: readonly PendingEntry[]): Promise<PendingEntry[]> => {
    const refused: PendingEntry[] = [];
    for (let start = 0; start < pending.length; start += PUT_EVENTS_BATCH_LIMIT) {
      const batch = pending.slice(start, start + PUT_EVENTS_BATCH_LIMIT);
      const answer = await client.send(new PutEventsCommand({ Entries: batch.map((item) => item.entry) }));
      if (!answer.FailedEntryCount) continue;
      // The answer's entries are in the order of the request's; one without an EventId was not put.
      batch.forEach((item, index) => {
        const result = answer.Entries?.[index];
        if (!result?.EventId || result.ErrorCode) refused.push({ ...item, errorCode: result?.ErrorCode ?? 'NoResult' });
      });
    }
    return refused;
  };

  return {
    async publish(events) {
      let pending = events.map(toEntry);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > retryDelaysMs.length) {
          const refused = pending.map(({ event, errorCode }) => `${event.detailType} ${event.id} (${errorCode})`);
          throw new EventsNotPublishedError(pending.length, events.length, refused);
        }
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, retryDelaysMs[attempt - 1]));
        pending = await refusedIn(pending);
      }
    },
  };
}
