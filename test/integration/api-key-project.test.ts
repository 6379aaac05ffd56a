// An API key charges only its own project: a consume or check by a key (`apiu_…`) naming another project is refused
// with 403 api_key_project_mismatch (field projectId) and charges nothing, on a cold read, a warm process's cached
// record and a race of first charges alike. Members charge any project. Runs the real middy stack on DynamoDB Local.

import { describe, expect, it } from 'vitest';
import { meterRoutes } from '../../functions/meter/meter.handler';
import type { LedgerDependencies } from '../../shared/composition';
import { toMilli } from '../../shared/domain/compute-units';
import { areaHandler } from '../../shared/http/lambda';
import { check } from '../../shared/use-cases/check';
import { consume } from '../../shared/use-cases/consume';
import { putApiKey } from '../../shared/use-cases/provisioning';
import { auditLedger, nonZero } from '../support/ledger-audit';
import { createTestLedger, parseBody, serviceEvent, type TestLedger } from '../support/ledger-fixture';
import { consumeRequest, provisionOrg } from '../support/provision';

/** The meter routes of one process, called as API Gateway would. */
function meterOf(deps: LedgerDependencies) {
  const handler = areaHandler(meterRoutes, () => deps);
  return async (routeKey: 'POST /v1/meter/consume' | 'POST /v1/meter/check', body: Record<string, unknown>) => {
    const response = await (handler as any)(serviceEvent(routeKey, { body }), {});
    return { status: response.statusCode as number, body: parseBody(response) };
  };
}

let jobs = 0;
const job = (orgId: string, userId: string, projectId: string, cu = 2) => ({ requestId: `job-${++jobs}`, orgId, projectId, userId, jobType: 'upscale', cu });

const mismatch = (apiKeyProjectId: string) => ({
  status: 403,
  body: { error: expect.objectContaining({ code: 'api_key_project_mismatch', field: 'projectId', apiKeyProjectId, message: expect.any(String) }) },
});

async function keyOf(ledger: TestLedger, orgId: string, keyId: string) {
  return ledger.deps.store.getScope(orgId, { kind: 'api_key', id: keyId });
}

describe('an API key outside its project', () => {
  it('is refused with 403 api_key_project_mismatch on consume and check, and nothing is charged or logged', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-key', { allowanceCu: 100, apiKeys: { apiu_ci: { projectId: 'web', capCu: 50 } } });
    const meter = meterOf(ledger.deps);
    const before = await ledger.scanAll();

    expect(await meter('POST /v1/meter/consume', job('org-key', 'apiu_ci', 'app'))).toEqual(mismatch('web'));
    expect(await meter('POST /v1/meter/check', { orgId: 'org-key', projectId: 'app', userId: 'apiu_ci', cu: 2 })).toEqual(mismatch('web'));

    // Balance, counters and the log exactly as they were: no event, no usage, no implicitly registered project.
    expect(await ledger.scanAll()).toEqual(before);
    expect(auditLedger(before, 'org-key').consumes).toHaveLength(0);
  });

  it('still charges its own project, and leaves members free to charge any project', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-own', { allowanceCu: 100, members: { alice: null }, apiKeys: { apiu_ci: { projectId: 'web', capCu: null } } });
    const meter = meterOf(ledger.deps);

    expect(await meter('POST /v1/meter/check', { orgId: 'org-own', projectId: 'web', userId: 'apiu_ci', cu: 2 })).toMatchObject({ status: 200, body: { allowed: true } });
    expect(await meter('POST /v1/meter/consume', job('org-own', 'apiu_ci', 'web', 2))).toMatchObject({ status: 200, body: { chargedCu: 2 } });
    for (const projectId of ['web', 'app']) {
      expect(await meter('POST /v1/meter/consume', job('org-own', 'alice', projectId, 1))).toMatchObject({ status: 200, body: { chargedCu: 1 } });
      expect(await meter('POST /v1/meter/check', { orgId: 'org-own', projectId, userId: 'alice', cu: 1 })).toMatchObject({ status: 200, body: { allowed: true } });
    }

    const audit = auditLedger(await ledger.scanAll(), 'org-own');
    expect(audit.consumes.map((event) => [event.userId, event.projectId])).toEqual(expect.arrayContaining([['apiu_ci', 'web'], ['alice', 'web'], ['alice', 'app']]));
    expect(audit.consumes).toHaveLength(3);
    expect(nonZero(audit.counters)).toEqual(nonZero(audit.fromEvents));
  });

  it('binds a key seen first in a consume to the project it charged: it has no project before, so it cannot mismatch', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-new-key', { allowanceCu: 100 });
    const meter = meterOf(ledger.deps);
    expect((await keyOf(ledger, 'org-new-key', 'apiu_fresh')).exists).toBe(false);

    expect(await meter('POST /v1/meter/check', { orgId: 'org-new-key', projectId: 'app', userId: 'apiu_fresh', cu: 1 })).toMatchObject({ status: 200 });
    expect(await meter('POST /v1/meter/consume', job('org-new-key', 'apiu_fresh', 'app', 1))).toMatchObject({ status: 200 });
    expect((await keyOf(ledger, 'org-new-key', 'apiu_fresh')).projectId).toBe('app');

    const before = await ledger.scanAll();
    expect(await meter('POST /v1/meter/consume', job('org-new-key', 'apiu_fresh', 'web', 1))).toEqual(mismatch('app'));
    expect(await ledger.scanAll()).toEqual(before);
  });

  it('follows a key an admin moved on the very next consume of a warm process, whose cache still has the old project', async () => {
    const ledger = await createTestLedger();
    const admin = ledger.anotherProcess();
    await provisionOrg(admin, 'org-moved', { allowanceCu: 100, apiKeys: { apiu_ci: { projectId: 'web', capCu: null } } });
    const warm = meterOf(ledger.deps);
    expect(await warm('POST /v1/meter/consume', job('org-moved', 'apiu_ci', 'web'))).toMatchObject({ status: 200 }); // caches the key in web

    await putApiKey({ orgId: 'org-moved', id: 'apiu_ci', projectId: 'app', capMilli: null }, admin);
    const before = await ledger.scanAll();
    // The cached record says web: only the transaction's condition on the key's project stops this charge.
    expect(await warm('POST /v1/meter/consume', job('org-moved', 'apiu_ci', 'web'))).toEqual(mismatch('app'));
    expect(await ledger.scanAll()).toEqual(before);
    // The cached record says web, the key is in app now: re-read, then charged.
    expect(await warm('POST /v1/meter/consume', job('org-moved', 'apiu_ci', 'app'))).toMatchObject({ status: 200 });

    const audit = auditLedger(await ledger.scanAll(), 'org-moved');
    expect(audit.consumes.map((event) => event.projectId)).toEqual(expect.arrayContaining(['web', 'app']));
    expect(audit.consumes).toHaveLength(2);
  });

  it('answers a replay of a charge made before the key moved with the first answer', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-replay', { allowanceCu: 100, apiKeys: { apiu_ci: { projectId: 'web', capCu: null } } });
    const request = consumeRequest('org-replay', { userId: 'apiu_ci', projectId: 'web', cu: 3 });
    const first = await consume(request, ledger.deps);

    await putApiKey({ orgId: 'org-replay', id: 'apiu_ci', projectId: 'app', capMilli: null }, ledger.anotherProcess());

    expect(await consume(request, ledger.deps)).toEqual({ ...first, replayed: true });
    expect(await consume(request, ledger.anotherProcess())).toEqual({ ...first, replayed: true });
    expect(auditLedger(await ledger.scanAll(), 'org-replay').consumes).toHaveLength(1);
  });

  it('lets only one project have a new key when its first charges race from cold processes', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-race', { allowanceCu: 100 });
    const processes = [ledger.anotherProcess(), ledger.anotherProcess(), ledger.anotherProcess(), ledger.anotherProcess()];

    const outcomes = await Promise.all(
      processes.map((deps, index) =>
        consume(consumeRequest('org-race', { userId: 'apiu_racer', projectId: index % 2 ? 'app' : 'web', cu: 1 }), deps).then(
          () => ({ projectId: index % 2 ? 'app' : 'web', ok: true }),
          (error: { code?: string }) => ({ projectId: index % 2 ? 'app' : 'web', ok: false, code: error.code }),
        ),
      ),
    );

    const { projectId } = await keyOf(ledger, 'org-race', 'apiu_racer');
    for (const outcome of outcomes) {
      expect(outcome).toEqual(outcome.projectId === projectId ? { projectId, ok: true } : { projectId: outcome.projectId, ok: false, code: 'api_key_project_mismatch' });
    }
    const audit = auditLedger(await ledger.scanAll(), 'org-race');
    expect(audit.consumes.map((event) => event.projectId)).toEqual([projectId, projectId]);
    expect(nonZero(audit.counters)).toEqual(nonZero(audit.fromEvents));
    expect(nonZero(audit.counters)).toMatchObject({ [`api_key:apiu_racer@${String(audit.consumes[0]!.periodId).slice(0, 10)}`]: toMilli(2) });
  });

  it('refuses check for a key outside its project exactly as consume does, through the use cases', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.deps, 'org-use-case', { allowanceCu: 100, apiKeys: { apiu_ci: { projectId: 'web', capCu: null } } });
    const refusal = { code: 'api_key_project_mismatch', field: 'projectId', details: { apiKeyProjectId: 'web' } };

    await expect(check({ orgId: 'org-use-case', projectId: 'app', userId: 'apiu_ci', cuMilli: toMilli(1) }, ledger.deps)).rejects.toMatchObject(refusal);
    await expect(consume(consumeRequest('org-use-case', { userId: 'apiu_ci', projectId: 'app', cu: 1 }), ledger.deps)).rejects.toMatchObject(refusal);
  });
});
