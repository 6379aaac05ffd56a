// The local runner's clock: the system time, unless someone set or advanced it (`PUT /local/clock`) to show a period
// reset or a top-up expiry without waiting for it. Once set, time keeps running from there; AWS has no such clock.

import type { Clock } from '../../shared/ports/runtime';

export interface SettableClock extends Clock {
  /** From now on, `now()` is `at` plus the time that passed since this call. */
  set(at: Date): void;
  /** Moves the clock by `ms` (negative moves it back). */
  advance(ms: number): void;
  /** Back to the system time. */
  reset(): void;
}

/** `systemNow` is for tests; the runner keeps Date.now. */
export function settableClock(systemNow: () => number = Date.now): SettableClock {
  let offsetMs = 0;
  return {
    now: () => new Date(systemNow() + offsetMs),
    set: (at) => void (offsetMs = at.getTime() - systemNow()),
    advance: (ms) => void (offsetMs += ms),
    reset: () => void (offsetMs = 0),
  };
}
