// A ledger in memory for use-case unit tests: the in-memory adapter, a fresh limit cache per "process", a clock
// the test moves by hand and ids that follow a sequence (so two ledgers driven alike answer alike).

import { InMemoryLedgerStore } from '../../shared/adapters/memory/in-memory-ledger-store';
import type { Clock, IdGenerator } from '../../shared/ports/runtime';
import { LimitCache } from '../../shared/use-cases/limit-cache';
import type { RetryPolicy } from '../../shared/use-cases/store-retry';

export const FAST_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 1, maxDelayMs: 20 };

export function settableClock(start: string): Clock & { set(iso: string): void } {
  let now = new Date(start);
  return { now: () => new Date(now), set: (iso: string) => void (now = new Date(iso)) };
}

export function sequentialIds(): IdGenerator {
  let event = 0;
  let attempt = 0;
  return { eventId: () => `evt_${++event}`, attemptId: () => `attempt_${++attempt}` };
}

export function memoryLedger(options: { clock?: Clock } = {}) {
  const store = new InMemoryLedgerStore();
  const clock = options.clock ?? settableClock('2026-05-20T10:00:00.000Z');
  // One id sequence for the whole ledger: attempt ids must differ between processes, as random ones do.
  const ids = sequentialIds();
  const process = () => ({ store, cache: new LimitCache(), clock, ids, retry: FAST_RETRY });
  return { store, deps: process(), anotherProcess: process };
}
