// Where the jobs publish in the local runner, in place of EventBridge: the last events in memory (for
// `GET /local/events/published`) and one JSON log line per event.

import { log } from '../../shared/http/log';
import type { EventPublisher, PublishedEvent } from '../../shared/ports/event-publisher';

export interface PublishedEventLog extends EventPublisher {
  /** The events kept, oldest first. */
  list(): readonly PublishedEvent[];
}

/** Keeps the last `limit` events; older ones are dropped (they were logged). */
export function publishedEventLog(limit = 1_000): PublishedEventLog {
  const events: PublishedEvent[] = [];
  return {
    async publish(published) {
      for (const event of published) {
        events.push(event);
        log('info', 'event published', { detailType: event.detailType, id: event.id });
      }
      events.splice(0, Math.max(0, events.length - limit));
    },
    list: () => [...events],
  };
}
