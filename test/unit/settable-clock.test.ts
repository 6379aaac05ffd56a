import { describe, expect, it } from 'vitest';
import { settableClock } from '../../infra/local/settable-clock';

/** A system time the test moves by hand. */
function fakeSystemTime(startIso: string) {
  let now = Date.parse(startIso);
  return { read: () => now, pass: (ms: number) => void (now += ms) };
}

describe('the local runner clock', () => {
  it('tells the system time until it is set', () => {
    const system = fakeSystemTime('2026-03-01T10:00:00.000Z');
    const clock = settableClock(system.read);

    system.pass(1_500);

    expect(clock.now().toISOString()).toBe('2026-03-01T10:00:01.500Z');
  });

  it('keeps running from the instant it was set to', () => {
    const system = fakeSystemTime('2026-03-01T10:00:00.000Z');
    const clock = settableClock(system.read);

    clock.set(new Date('2026-04-15T00:00:00.000Z'));
    system.pass(2_000);

    expect(clock.now().toISOString()).toBe('2026-04-15T00:00:02.000Z');
  });

  it('advances by the given milliseconds, forward or back, on top of a set instant', () => {
    const system = fakeSystemTime('2026-03-01T10:00:00.000Z');
    const clock = settableClock(system.read);
    clock.set(new Date('2026-04-15T00:00:00.000Z'));

    clock.advance(86_400_000);
    clock.advance(-1_000);

    expect(clock.now().toISOString()).toBe('2026-04-15T23:59:59.000Z');
  });

  it('goes back to the system time on reset', () => {
    const system = fakeSystemTime('2026-03-01T10:00:00.000Z');
    const clock = settableClock(system.read);
    clock.advance(3_600_000);

    clock.reset();
    system.pass(10);

    expect(clock.now().toISOString()).toBe('2026-03-01T10:00:00.010Z');
  });

  it('uses the real system time by default', () => {
    const clock = settableClock();
    const before = Date.now();

    const now = clock.now().getTime();

    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});
