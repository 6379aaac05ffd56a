// Correctness never depends on a job firing on time or once. The same two months of an org (consumes in three
// periods, a downgrade waiting for its reset, an upgrade minutes after a reset, two top-ups expiring) played on four tables: with the rollover and
// expiry jobs run on time at every due instant, run late once at the end, run late twice, and run late three times
// at once. Every table ends item for item the same, and the answers the org got along the way are the same too.

import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { ensureLedgerTable } from '../../infra/local/dynamodb-local';
import { buildLedgerDependencies } from '../../shared/composition';
import { termsAt } from '../../shared/domain/billing-terms';
import { toMilli } from '../../shared/domain/compute-units';
import type { IdGenerator } from '../../shared/ports/runtime';
import { getBalance } from '../../shared/use-cases/balance';
import { addTopUp, changePlan, provisionOrg } from '../../shared/use-cases/billing';
import { consume } from '../../shared/use-cases/consume';
import { runPeriodRollover, runTopUpExpiry } from '../../shared/use-cases/jobs';
import { refund } from '../../shared/use-cases/refund';
import { createTestDynamoDbClient, manualClock } from '../support/ledger-fixture';
import { sequentialIds } from '../support/memory-ledger';
import { scanAll } from '../support/table-scan';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client';

type Schedule = 'on time' | 'late' | 'late, twice' | 'late, three at once';

/** Every due instant of the story, in order: resets on the 15th, the two batches' expiries. */
const DUE = ['2026-02-15T00:00:00.000Z', '2026-02-20T00:00:00.000Z', '2026-03-15T00:00:00.000Z', '2026-04-01T00:00:00.000Z'];

async function playStory(schedule: Schedule) {
  const endpoint = inject('dynamoDbEndpoint');
  const tableName = `ledger-${randomUUID()}`;
  const client = createTestDynamoDbClient(endpoint);
  await ensureLedgerTable(client, tableName);
  const clock = manualClock('2026-02-10T09:00:00.000Z');
  const ids: IdGenerator = sequentialIds();
  // A cold instance per call: the answers never depend on what a cache saw before a job ran.
  const deps = () => buildLedgerDependencies({ tableName, endpoint }, { client, clock, ids });
  const jobs = async () => {
    await runPeriodRollover(deps());
    await runTopUpExpiry(deps());
  };
  const answers: unknown[] = [];
  const at = async (instant: string) => {
    if (schedule === 'on time') {
      for (const due of DUE.filter((due) => due > clock.now().toISOString() && due <= instant)) {
        clock.set(due);
        await jobs();
      }
    }
    clock.set(instant);
  };
  const job = (requestId: string, cu: number) => ({ requestId, orgId: 'story', projectId: 'web', userId: 'ana', jobType: 'upscale', cuMilli: toMilli(cu) });

  await provisionOrg({ orgId: 'story', planName: 'pro', allowanceMilli: toMilli(10), billingAnchor: '2026-01-15' }, deps());
  await addTopUp({ orgId: 'story', purchaseId: 'short', cuMilli: toMilli(4), expiresAt: DUE[1]! }, deps());
  await addTopUp({ orgId: 'story', purchaseId: 'long', cuMilli: toMilli(6), expiresAt: DUE[3]! }, deps());
  answers.push(await consume(job('feb-1', 12), deps()));
  answers.push(termsAt(await changePlan({ orgId: 'story', planName: 'lite', allowanceMilli: toMilli(5), change: 'downgrade' }, deps()), clock.now()));
  await at('2026-02-16T08:00:00.000Z');
  answers.push(await consume(job('feb-2', 3), deps()));
  await at('2026-02-21T08:00:00.000Z');
  answers.push(await consume(job('feb-3', 4), deps()));
  answers.push(await refund({ requestId: 'refund-1', orgId: 'story', refundOf: 'feb-1' }, deps()));
  // An upgrade minutes after the March reset: late schedules have not rolled February or March over yet.
  await at('2026-03-15T00:02:00.000Z');
  // The org as the API shows it (its terms); the raw record also lists batches an expiry job has yet to drop.
  answers.push(termsAt(await changePlan({ orgId: 'story', planName: 'max', allowanceMilli: toMilli(50), change: 'upgrade' }, deps()), clock.now()));
  await at('2026-03-16T08:00:00.000Z');
  answers.push(await consume(job('mar-1', 2), deps()));
  await at('2026-04-02T08:00:00.000Z');

  if (schedule !== 'on time') {
    const runs = schedule === 'late' ? 1 : schedule === 'late, twice' ? 2 : 3;
    if (schedule === 'late, three at once') await Promise.all(Array.from({ length: runs }, () => jobs()));
    else for (let run = 0; run < runs; run += 1) await jobs();
  }
  answers.push(await getBalance('story', undefined, deps()));
  const items = await scanAll(createDocumentClient(client), tableName);
  return { answers, items: items.sort((a, b) => `${String(a.pk)} ${String(a.sk)}`.localeCompare(`${String(b.pk)} ${String(b.sk)}`)) };
}

describe('jobs run late, twice or concurrently', () => {
  it('leave every item and every answer as one run on time does', async () => {
    const onTime = await playStory('on time');
    // The story reached what the jobs do: the downgrade applied at the reset, both batches expired, both resets logged.
    const kinds = onTime.items.map((item) => item.kind);
    expect(kinds.filter((kind) => kind === 'period_reset')).toHaveLength(2);
    expect(kinds.filter((kind) => kind === 'top_up_expired')).toHaveLength(2);
    expect(onTime.items.filter((item) => item.kind === 'period_reset').map((item) => [item.periodId, item.downgradeApplied])).toEqual([
      ['2026-02-15T00:00:00.000Z', true],
      ['2026-03-15T00:00:00.000Z', false],
    ]);
    expect(onTime.items.find((item) => item.sk === 'ORG')).toMatchObject({ planName: 'max', allowanceMilli: toMilli(50), billingAnchor: '2026-03-15' });
    // The monthly exports (not run here) of the month the org was created in and of each month a reset fell in.
    expect(onTime.items.filter((item) => String(item.pk).startsWith('DUE#'))).toEqual([
      expect.objectContaining({ kind: 'export', dueAt: '2026-03-01T00:00:00.000Z', ref: '2026-02' }),
      expect.objectContaining({ kind: 'export', dueAt: '2026-04-01T00:00:00.000Z', ref: '2026-03' }),
      expect.objectContaining({ kind: 'rollover', dueAt: '2026-04-15T00:00:00.000Z' }),
    ]);

    for (const schedule of ['late', 'late, twice', 'late, three at once'] as const) {
      const other = await playStory(schedule);
      expect(other.answers, schedule).toEqual(onTime.answers);
      expect(other.items, schedule).toEqual(onTime.items);
    }
  });
});
