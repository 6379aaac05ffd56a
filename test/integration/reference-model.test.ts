// The in-memory adapter is the reference model of the DynamoDB one: random sequences of consumes, replays, refunds,
// checks, cap and default-limit changes, upgrades and downgrades, top-ups (new, repeated, reused ids), auto-refill
// settings and refills, the rollover and expiry jobs, and clock moves across resets and expiries run against both;
// every answer and the final state must be the same, and the balance the log adds up must equal the org item's.

import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { ensureLedgerTable } from '../../infra/local/dynamodb-local';
import { buildLedgerDependencies } from '../../shared/composition';
import { termsAt } from '../../shared/domain/billing-terms';
import { toMilli } from '../../shared/domain/compute-units';
import type { AdminStore } from '../../shared/ports/admin-store';
import type { JobStore } from '../../shared/ports/job-store';
import type { MeterStore } from '../../shared/ports/meter-store';
import type { Clock, IdGenerator } from '../../shared/ports/runtime';
import { check } from '../../shared/use-cases/check';
import { consume } from '../../shared/use-cases/consume';
import { LimitCache } from '../../shared/use-cases/limit-cache';
import { balanceFromLog, balanceFromOrg, getBalance } from '../../shared/use-cases/balance';
import { addTopUp, changePlan, provisionOrg as putOrg, setAutoRefill } from '../../shared/use-cases/billing';
import { refillOnCrossing, runPeriodRollover, runTopUpExpiry } from '../../shared/use-cases/jobs';
import { putApiKey, putMember, putProject, setDefaultLimit } from '../../shared/use-cases/provisioning';
import { refund } from '../../shared/use-cases/refund';
import type { RetryPolicy } from '../../shared/use-cases/store-retry';
import { listEvents, listScopes } from '../../shared/use-cases/usage-views';
import type { InMemoryLedgerStore } from '../../shared/adapters/memory/in-memory-ledger-store';
import { createTestDynamoDbClient } from '../support/ledger-fixture';
import { FAST_RETRY, memoryLedger, sequentialIds, settableClock } from '../support/memory-ledger';
import { settle } from '../support/provision';

interface Side {
  readonly store: MeterStore & AdminStore & JobStore;
  readonly cache: LimitCache;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly retry: RetryPolicy;
}

/** Two processes per store, each with its own limit cache, so one charges while the other's cache goes stale. */
interface Real {
  readonly orgId: string;
  readonly dynamo: readonly [Side, Side];
  readonly memory: readonly [Side, Side];
  /** The reference store itself: it keeps the org changes a stream would deliver, for the refill trigger. */
  readonly reference: InMemoryLedgerStore;
  readonly clock: ReturnType<typeof settableClock>;
}

/** What the commands need to know of the past: the consumes issued so far, to replay and refund them. */
interface Model {
  readonly consumes: { requestId: string; userId: string; projectId: string; cuMilli: number }[];
  sequence: number;
}

// Few scopes, so sequences keep coming back to the same counters and caps.
const ACTORS = ['alice', 'apiu_k1'] as const;
const PROJECTS = ['web', 'app'] as const;
// Amounts and caps on a 0.5 CU grid, so charges often fill a limit exactly, where the conditions' edges are.
const cuArb = fc.integer({ min: 1, max: 12 }).map((halves) => halves * 500);
const capArb = fc.option(fc.integer({ min: 0, max: 24 }).map((halves) => halves * 500), { nil: null });
const processArb = fc.constantFrom(0, 1);

/** An answer or an error, as the caller sees it; event ids are random in production, so only their shape counts. */
async function answerOf(operation: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: true, value: withoutIds(await operation()) };
  } catch (error) {
    const { code, field, details, message } = error as { code?: string; field?: string; details?: unknown; message?: string };
    return { ok: false, code: code ?? String(error), field, details, message };
  }
}

function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== 'attemptId')
      .map(([key, inner]) => [key, key === 'eventId' || (key === 'entryId' && String(inner).startsWith('evt_')) ? typeof inner === 'string' && inner.startsWith('evt_') : withoutIds(inner)]),
  );
}

/** Runs the same operation in the same process of both stores and requires the same answer. */
async function both(real: Real, operation: (side: Side) => Promise<unknown>, process: 0 | 1 = 0): Promise<void> {
  const expected = await answerOf(() => operation(real.memory[process]));
  // A 503 from a busy emulator is an unknown outcome, not an answer: ask again, as a caller must, with the same
  // request. Its first try may have committed, so the answer that follows may say `replayed: true`.
  const unknownOutcomes = { count: 0 };
  const actual = await answerOf(() => settle(() => operation(real.dynamo[process]), unknownOutcomes));
  if (unknownOutcomes.count === 0) expect(actual).toEqual(expected);
  else expect(withoutReplayed(actual)).toEqual(withoutReplayed(expected));
}

function withoutReplayed(answer: unknown): unknown {
  const { value, ...rest } = answer as { value?: Record<string, unknown> };
  if (value === null || typeof value !== 'object') return answer;
  const { replayed: _replayed, ...others } = value;
  return { ...rest, value: others };
}

function command(name: string, toString: () => string, run: (model: Model, real: Real) => Promise<void>): fc.AsyncCommand<Model, Real> {
  return { check: () => true, run, toString: () => `${name}(${toString()})` };
}

const consumeCommand = fc.record({ userId: fc.constantFrom(...ACTORS), projectId: fc.constantFrom(...PROJECTS), cuMilli: cuArb, via: processArb }).map(({ via, ...job }) =>
  command('consume', () => `${JSON.stringify(job)}, ${via}`, async (model, real) => {
    const requestId = `c${++model.sequence}`;
    model.consumes.push({ requestId, ...job });
    await both(real, (side) => consume({ requestId, orgId: real.orgId, jobType: 'upscale', ...job }, side), via);
    // The stream's part: each change the reference saw goes to the refill trigger of both stores alike.
    for (const change of real.reference.takeOrgChanges()) {
      await both(real, (side) => refillOnCrossing(change, side));
    }
  }),
);

const replayCommand = fc.record({ pick: fc.nat(), changeBody: fc.boolean(), via: processArb }).map(({ pick, changeBody, via }) =>
  command('replay', () => `${pick}, ${changeBody}, ${via}`, async (model, real) => {
    const original = model.consumes[pick % Math.max(1, model.consumes.length)];
    if (!original) return;
    const request = { orgId: real.orgId, jobType: 'upscale', ...original, cuMilli: original.cuMilli + (changeBody ? 1 : 0) };
    await both(real, (side) => consume(request, side), via);
  }),
);

const refundCommand = fc.record({ pick: fc.nat(), cuMilli: fc.option(cuArb, { nil: undefined }), via: processArb }).map(({ pick, cuMilli, via }) =>
  command('refund', () => `${pick}, ${cuMilli}, ${via}`, async (model, real) => {
    const original = model.consumes[pick % Math.max(1, model.consumes.length)];
    const refundOf = original?.requestId ?? 'never-charged';
    const requestId = `r${++model.sequence}`;
    await both(real, (side) => refund({ requestId, orgId: real.orgId, refundOf, cuMilli }, side), via);
  }),
);

const checkCommand = fc.record({ userId: fc.constantFrom(...ACTORS), projectId: fc.constantFrom(...PROJECTS), cuMilli: cuArb, via: processArb }).map(({ via, ...job }) =>
  command('check', () => `${JSON.stringify(job)}, ${via}`, (_model, real) => both(real, (side) => check({ orgId: real.orgId, ...job }, side), via)),
);

const capCommand = fc.record({ scope: fc.constantFrom(...ACTORS, ...PROJECTS), capMilli: capArb }).map(({ scope, capMilli }) =>
  command('cap', () => `${scope}, ${capMilli}`, (_model, real) =>
    both(real, (side) => {
      const request = { orgId: real.orgId, id: scope, capMilli };
      if (scope.startsWith('apiu_')) return putApiKey({ ...request, projectId: 'web' }, side);
      if ((PROJECTS as readonly string[]).includes(scope)) return putProject(request, side);
      return putMember({ ...request, role: 'contributor' }, side);
    }),
  ),
);

const defaultLimitCommand = capArb.map((capMilli) =>
  command('defaultLimit', () => `${capMilli}`, (_model, real) => both(real, (side) => setDefaultLimit({ orgId: real.orgId, capMilli }, side))),
);

/** PUT of the org: the same plan changes its details; another plan or anchor is refused (409), on both alike. */
const orgCommand = fc.record({ allowanceMilli: fc.constantFrom(20_000, 5_000), highCostMilli: fc.option(cuArb, { nil: null }) }).map((plan) =>
  command('org', () => JSON.stringify(plan), (_model, real) =>
    both(real, (side) => putOrg({ orgId: real.orgId, planName: 'pro', billingAnchor: '2026-01-31', ...plan }, side)),
  ),
);

const planChangeCommand = fc.record({ change: fc.constantFrom('upgrade', 'downgrade'), allowanceMilli: fc.integer({ min: 0, max: 60 }).map((halves) => halves * 500) }).map(
  ({ change, allowanceMilli }) =>
    command('planChange', () => `${change}, ${allowanceMilli}`, (_model, real) =>
      both(real, (side) => changePlan({ orgId: real.orgId, planName: `plan-${allowanceMilli}`, allowanceMilli, change }, side)),
    ),
);

/** A top-up with a new id, or an id used before with the same or another body; expiring within hours to a year. */
const topUpCommand = fc.record({ id: fc.integer({ min: 1, max: 4 }), cuMilli: cuArb, expiresInHours: fc.constantFrom(1, 30, 24 * 40, 24 * 365) }).map(
  ({ id, cuMilli, expiresInHours }) =>
    command('topUp', () => `${id}, ${cuMilli}, ${expiresInHours}h`, (_model, real) => {
      const expiresAt = new Date(real.clock.now().getTime() + expiresInHours * 3_600_000).toISOString();
      return both(real, (side) => addTopUp({ orgId: real.orgId, purchaseId: `buy-${id}`, cuMilli, expiresAt }, side));
    }),
);

const autoRefillCommand = fc
  .record({ enabled: fc.constantFrom(true, true, false), thresholdMilli: fc.integer({ min: 1, max: 30 }).map((halves) => halves * 500), amountMilli: cuArb, maxPerPeriod: fc.integer({ min: 0, max: 3 }) })
  .map((settings) =>
  command('autoRefill', () => JSON.stringify(settings), (_model, real) =>
    both(real, (side) => setAutoRefill(real.orgId, { ...settings, expiresInDays: 20 }, side)),
  ),
);

/** The rollover and expiry jobs, run now: on time, late, or again. */
const jobsCommand = fc.constant(null).map(() =>
  command('jobs', () => '', async (_model, real) => {
    await both(real, (side) => runPeriodRollover(side));
    await both(real, (side) => runTopUpExpiry(side));
  }),
);

/** Moves time: to the last millisecond of the period, onto the reset instant, past the soonest batch's expiry, or hours on. */
const clockCommand = fc.constantFrom('justBeforeReset', 'atReset', 'atExpiry', 'hoursLater').map((move) =>
  command('clock', () => move, async (_model, real) => {
    const org = (await real.memory[0].store.getOrg(real.orgId))!;
    const now = real.clock.now();
    const { resetsAt } = termsAt(org, now).period;
    const soonest = org.topUps.map((batch) => Date.parse(batch.expiresAt)).filter((at) => at > now.getTime()).sort()[0];
    const next = {
      justBeforeReset: resetsAt.getTime() - 1,
      atReset: resetsAt.getTime(),
      atExpiry: soonest ?? now.getTime() + 3_600_000,
      hoursLater: now.getTime() + 5 * 3_600_000,
    }[move];
    real.clock.set(new Date(next).toISOString());
  }),
);

async function finalState(side: Side, orgId: string) {
  const page = { limit: 1000, cursor: null };
  const scopes = await Promise.all((['project', 'member', 'api_key'] as const).map((kind) => listScopes(orgId, kind, page, side)));
  const org = await side.store.getOrg(orgId);
  const now = side.clock.now();
  // Reads agree with the log: the balance the log adds up is the org item's, now.
  const fromLog = balanceFromLog(orgId, await side.store.logUpTo(orgId, now.toISOString()), now);
  expect(fromLog).toEqual(balanceFromOrg(org!, now));
  return withoutIds({
    org,
    balance: await getBalance(orgId, undefined, side),
    scopes: scopes.map((list) => list.items),
    events: (await listEvents(orgId, page, side)).items,
  });
}

describe('the in-memory reference model', () => {
  /**
   * Runs `numRuns` random sequences against both stores (from `seed` when given) and answers which paths they
   * reached: a model check that never reached a refill or an expiry would prove nothing about them.
   */
  async function modelCheck(options: { numRuns: number; seed?: number }): Promise<Map<string, number>> {
    const endpoint = inject('dynamoDbEndpoint');
    const client = createTestDynamoDbClient(endpoint);
    let run = 0;
    const reached = new Map<string, number>();

    await fc.assert(
      fc.asyncProperty(
        fc.commands(
          [
            consumeCommand,
            consumeCommand,
            consumeCommand,
            replayCommand,
            refundCommand,
            checkCommand,
            capCommand,
            defaultLimitCommand,
            orgCommand,
            planChangeCommand,
            topUpCommand,
            topUpCommand,
            autoRefillCommand,
            autoRefillCommand,
            jobsCommand,
            clockCommand,
          ],
          { maxCommands: 40, size: 'max' },
        ),
        async (commands) => {
          const clock = settableClock('2026-01-30T12:00:00.000Z');
          const orgId = `org-model-${++run}`;
          // A table per run: the jobs handle whatever is due in the table, so runs must not see each other's orgs.
          const tableName = `ledger-${randomUUID()}`;
          await ensureLedgerTable(client, tableName);
          const dynamoIds = sequentialIds();
          const dynamo = () => ({ ...buildLedgerDependencies({ tableName, endpoint }, { client, clock, ids: dynamoIds }), retry: FAST_RETRY });
          const memory = memoryLedger({ clock });
          const real: Real = { orgId, clock, reference: memory.store, dynamo: [dynamo(), dynamo()], memory: [memory.deps, memory.anotherProcess()] };
          await both(real, (side) => putOrg({ orgId, planName: 'pro', allowanceMilli: toMilli(20), billingAnchor: '2026-01-31' }, side));
          await fc.asyncModelRun(() => ({ model: { consumes: [], sequence: 0 }, real }), commands);
          expect(await finalState(real.dynamo[0], orgId)).toEqual(await finalState(real.memory[0], orgId));
          for (const entry of await memory.store.logUpTo(orgId, clock.now().toISOString())) {
            const name = 'poolCategory' in entry && entry.kind === 'consume' ? `consume:${entry.poolCategory}` : 'source' in entry ? `${entry.kind}:${entry.source}` : entry.kind;
            reached.set(name, (reached.get(name) ?? 0) + 1);
          }
        },
      ),
      { numRuns: options.numRuns, ...(options.seed === undefined ? {} : { seed: options.seed }) },
    );
    return reached;
  }

  it('answers every random sequence of operations exactly as DynamoDB does, and ends in the same state', async () => {
    // New sequences every run: what CI explores grows over time.
    await modelCheck({ numRuns: 30 });
  }, 600_000);

  it('reaches every path with a fixed seed, and answers it exactly as DynamoDB does', async () => {
    // Fixed sequences, so that the guarantee below does not depend on luck: each of these paths was compared.
    const reached = await modelCheck({ numRuns: 30, seed: 20261123 });
    for (const name of ['consume:allocated', 'consume:surplus', 'consume:hybrid', 'refund', 'plan_upgraded', 'plan_downgrade_scheduled', 'period_reset', 'top_up_purchased:purchase', 'top_up_purchased:auto_refill', 'top_up_expired']) {
      expect(reached.get(name) ?? 0, name).toBeGreaterThan(0);
    }
  }, 600_000);
});
