import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobRunSummary } from '../../functions/jobs/period-rollover.handler';
import { startJobSchedule, type JobSchedule, type ScheduledJob } from '../../infra/local/jobs';
import { publishedEventLog } from '../../infra/local/published-events';
import type { PublishedEvent } from '../../shared/ports/event-publisher';

/** A job whose runs the test finishes by hand, counting how many run at once. */
function manualJob(name: string) {
  const finishers: Array<() => void> = [];
  let running = 0;
  const stats = { started: 0, mostAtOnce: 0 };
  const job: ScheduledJob = {
    name,
    run: () => {
      stats.started += 1;
      running += 1;
      stats.mostAtOnce = Math.max(stats.mostAtOnce, running);
      return new Promise<JobRunSummary>((done) =>
        finishers.push(() => {
          running -= 1;
          done({ job: name, handled: 1 });
        }),
      );
    },
  };
  return { job, stats, finishNext: () => finishers.shift()?.() };
}

describe('the local job schedule', () => {
  let schedule: JobSchedule | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await schedule?.stop();
  });

  it('runs each job on every tick, but never a job while its previous run is still going', async () => {
    vi.useFakeTimers();
    const slow = manualJob('slow');
    schedule = startJobSchedule([slow.job], 1_000);

    await vi.advanceTimersByTimeAsync(1_000);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(slow.stats).toEqual({ started: 1, mostAtOnce: 1 });

    slow.finishNext();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(slow.stats).toEqual({ started: 2, mostAtOnce: 1 });
    slow.finishNext();
  });

  it('runs every job now, in order, after the timer run of the same job in progress', async () => {
    vi.useFakeTimers();
    const first = manualJob('first');
    const second = manualJob('second');
    schedule = startJobSchedule([first.job, second.job], 1_000);
    await vi.advanceTimersByTimeAsync(1_000);

    const manual = schedule.runNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(first.stats.started).toBe(1);
    first.finishNext();
    second.finishNext();
    await vi.waitFor(() => expect(first.stats.started).toBe(2));
    first.finishNext();
    await vi.waitFor(() => expect(second.stats.started).toBe(2));
    second.finishNext();

    expect(await manual).toEqual([
      { job: 'first', handled: 1 },
      { job: 'second', handled: 1 },
    ]);
    expect(first.stats.mostAtOnce).toBe(1);
    expect(second.stats.mostAtOnce).toBe(1);
  });
});

describe('the local published-event log', () => {
  const event = (id: string): PublishedEvent => ({ detailType: 'TopUpExpired', id, time: '2026-03-01T00:00:00.000Z', detail: {} });

  it('keeps the last events, oldest first, up to its limit', async () => {
    const published = publishedEventLog(3);

    await published.publish([event('a'), event('b')]);
    await published.publish([event('c'), event('d')]);

    expect(published.list().map((kept) => kept.id)).toEqual(['b', 'c', 'd']);
  });
});
