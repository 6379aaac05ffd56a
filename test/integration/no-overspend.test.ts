// No overspend: hundreds of consumes racing on one org, across several "Lambda containers" (each with its own
// cache), never charge past any cap or the pool, and every counter equals the sum of its charged events.
// A caller told 503 (outcome unknown) asks again with the same requestId until it knows (tryConsume, settle), so the
// counts below are exact however slow the machine is.

import { describe, expect, it } from 'vitest';
import { toMilli } from '../../shared/domain/compute-units';
import type { LedgerDependencies } from '../../shared/composition';
import { limitCode, type CapLevel } from '../../shared/domain/limits';
import { refund } from '../../shared/use-cases/refund';
import { auditLedger, nonZero } from '../support/ledger-audit';
import { createTestLedger } from '../support/ledger-fixture';
import { consumeRequest, provisionOrg, settle, tryConsume } from '../support/provision';

function shuffle<T>(items: T[], seed: number): T[] {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

describe('no overspend under concurrency', () => {
  it('charges exactly what the tightest limits allow when 250 unit consumes race', async () => {
    const ledger = await createTestLedger();
    const orgId = 'org-race-unit';
    await provisionOrg(ledger.deps, orgId, {
      allowanceCu: 45,
      defaultCapCu: 8,
      projects: { studio: 40 },
      members: { m1: 10, m2: 10, m3: 10, m4: null },
      apiKeys: { apiu_k1: { projectId: 'studio', capCu: 12 } },
    });
    const processes: LedgerDependencies[] = [ledger.deps, ledger.anotherProcess(), ledger.anotherProcess(), ledger.anotherProcess()];
    const actors = ['m1', 'm2', 'm3', 'm4', 'apiu_k1'];
    const requests = shuffle(
      actors.flatMap((userId) => Array.from({ length: 50 }, () => consumeRequest(orgId, { userId, projectId: 'studio', cu: 1 }))),
      7,
    );

    const outcomes = await Promise.all(requests.map((request, index) => tryConsume(processes[index % processes.length]!, request)));

    // Every actor could spend 10+10+10+8+12 = 50, the project only 40 and the pool 45: the project cap binds.
    const charged = outcomes.filter((outcome) => outcome.ok);
    expect(charged).toHaveLength(40);
    const refusals = new Set(outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.code])));
    for (const code of refusals) expect(['project_cap_reached', 'member_cap_reached', 'api_key_cap_reached']).toContain(code);
    const audit = auditLedger(await ledger.scanAll(), orgId);
    expect(nonZero(audit.counters)).toEqual(nonZero(audit.fromEvents));
    expect(audit.consumes).toHaveLength(40);
    const period = String(audit.consumes[0]!.periodId).slice(0, 10);
    expect(audit.counters.get(`team@${period}`)).toBe(toMilli(40));
    expect(audit.counters.get(`project:studio@${period}`)).toBe(toMilli(40));
    const caps: Record<string, number> = { 'member:m1': 10, 'member:m2': 10, 'member:m3': 10, 'member:m4': 8, 'api_key:apiu_k1': 12 };
    for (const [counter, cap] of Object.entries(caps)) {
      expect(audit.counters.get(`${counter}@${period}`) ?? 0).toBeLessThanOrEqual(toMilli(cap));
    }
  });

  it('lets the team pool bind when caps are loose, with exact success count', async () => {
    const ledger = await createTestLedger();
    const orgId = 'org-race-pool';
    await provisionOrg(ledger.deps, orgId, { allowanceCu: 30, projects: { a: 25, b: 25 }, members: { u1: 20, u2: 20 } });
    const processes = [ledger.deps, ledger.anotherProcess(), ledger.anotherProcess()];
    const requests = shuffle(
      ['a', 'b'].flatMap((projectId) =>
        ['u1', 'u2'].flatMap((userId) => Array.from({ length: 55 }, () => consumeRequest(orgId, { userId, projectId, cu: 0.5 }))),
      ),
      11,
    );

    const outcomes = await Promise.all(requests.map((request, index) => tryConsume(processes[index % processes.length]!, request)));

    expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(60);
    expect(new Set(outcomes.flatMap((outcome) => (outcome.ok ? [] : [outcome.code])))).toEqual(new Set(['team_balance_exhausted']));
    const audit = auditLedger(await ledger.scanAll(), orgId);
    expect(nonZero(audit.counters)).toEqual(nonZero(audit.fromEvents));
  });

  it('refuses only what truly did not fit, with random amounts and refunds racing', async () => {
    const ledger = await createTestLedger();
    const orgId = 'org-race-random';
    const caps = { team: 60, project: { p1: 35, p2: 30 }, members: { u1: 18, u2: 15, u3: 12 }, key: 14, defaultCap: 9 };
    await provisionOrg(ledger.deps, orgId, {
      allowanceCu: caps.team,
      defaultCapCu: caps.defaultCap,
      projects: caps.project,
      members: caps.members,
      apiKeys: { apiu_bot: { projectId: 'p1', capCu: caps.key } },
    });
    const processes = [ledger.deps, ledger.anotherProcess(), ledger.anotherProcess()];
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const users = ['u1', 'u2', 'u3', 'u4', 'apiu_bot'];
    const requests = Array.from({ length: 220 }, () => {
      const userId = users[Math.floor(random() * users.length)]!;
      const project = random() < 0.5 ? 'p1' : 'p2';
      // The key charges only its own project (p1); members either.
      return consumeRequest(orgId, { userId, projectId: userId === 'apiu_bot' ? 'p1' : project, cu: Math.max(1, Math.round(random() * 3000)) / 1000 });
    });

    const outcomes = await Promise.all(
      requests.map(async (request, index) => {
        const process = processes[index % processes.length]!;
        const outcome = await tryConsume(process, request);
        // Every fifth success is partly refunded while the race goes on.
        if (outcome.ok && index % 5 === 0) {
          const partial = { requestId: `refund-${request.requestId}`, orgId, refundOf: request.requestId, cuMilli: Math.ceil(request.cuMilli / 2) };
          await settle(() => refund(partial, process));
        }
        return outcome;
      }),
    );

    const audit = auditLedger(await ledger.scanAll(), orgId);
    expect(nonZero(audit.counters)).toEqual(nonZero(audit.fromEvents));
    expect(audit.consumes).toHaveLength(outcomes.filter((outcome) => outcome.ok).length);
    expect(audit.refunds.length).toBeGreaterThan(0);
    const period = String(audit.consumes[0]!.periodId).slice(0, 10);
    const limitOf: Record<string, number> = {
      team: caps.team,
      'project:p1': caps.project.p1,
      'project:p2': caps.project.p2,
      'member:u1': caps.members.u1,
      'member:u2': caps.members.u2,
      'member:u3': caps.members.u3,
      'member:u4': caps.defaultCap,
      'api_key:apiu_bot': caps.key,
    };
    for (const [counter, cap] of Object.entries(limitOf)) {
      expect(audit.counters.get(`${counter}@${period}`) ?? 0, counter).toBeLessThanOrEqual(toMilli(cap));
    }
    // A refusal names a limit that the charge would pass even at the end (refunds only ever lower usage later,
    // so we check against the high-water usage: charged events, refunds ignored).
    const charged = new Map<string, number>();
    for (const event of audit.consumes) {
      for (const counter of event.counters as string[]) charged.set(counter, (charged.get(counter) ?? 0) + Number(event.cuMilli));
    }
    const counterFor: Record<CapLevel, (request: (typeof requests)[number]) => string> = {
      team: () => 'team',
      project: (request) => `project:${request.projectId}`,
      member: (request) => `member:${request.userId}`,
      api_key: (request) => `api_key:${request.userId}`,
    };
    outcomes.forEach((outcome, index) => {
      if (outcome.ok) return;
      const request = requests[index]!;
      const level = (Object.keys(counterFor) as CapLevel[]).find((candidate) => limitCode(candidate) === outcome.code);
      expect(level, outcome.code).toBeDefined();
      const counter = counterFor[level!](request);
      expect((charged.get(counter) ?? 0) + request.cuMilli).toBeGreaterThan(toMilli(limitOf[counter]!));
    });
  });
});
