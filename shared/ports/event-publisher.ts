// The port the jobs publish domain events through: EventBridge on AWS, an in-process log locally.
// Events are published at least once; `id` is stable per fact, so a consumer drops a repeat by it.

/** One event for the service's bus: its `detail-type`, its JSON detail, and the fact's own stable id. */
export interface PublishedEvent {
  /** The `detail-type` on the bus, e.g. `BillingPeriodReset` (see the README's event table). */
  readonly detailType: string;
  /** Stable per fact (the same reset, expiry or refill always has the same id): consumers de-duplicate by it. */
  readonly id: string;
  /** When the fact happened (ISO 8601); EventBridge's `time`. */
  readonly time: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface EventPublisher {
  /** Publishes every event or throws; a partial failure throws after the rest were sent (callers retry the whole set). */
  publish(events: readonly PublishedEvent[]): Promise<void>;
}

/** The `source` of every event this service puts on its bus. */
export const EVENT_SOURCE = 'cu-ledger';
