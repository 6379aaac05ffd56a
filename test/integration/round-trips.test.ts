// The hot path's cost in DynamoDB round trips, counted at the SDK (not timed): one TransactWriteItems per consume
// once an instance knows the org, the project and the actor.

import { describe, expect, it } from 'vitest';
import { toMilli } from '../../shared/domain/compute-units';
import { consume } from '../../shared/use-cases/consume';
import { putMember } from '../../shared/use-cases/provisioning';
import { createTestLedger } from '../support/ledger-fixture';
import { consumeRequest, provisionOrg } from '../support/provision';

describe('round trips per consume', () => {
  it('reads once when cold, then charges in a single TransactWriteItems', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.anotherProcess(), 'org-trips', { allowanceCu: 1000, members: { u1: 500 } });
    ledger.probe.reset();

    await consume(consumeRequest('org-trips', { userId: 'u1', projectId: 'p1', cu: 1 }), ledger.deps);
    expect(Object.fromEntries(ledger.probe.roundTrips)).toEqual({ BatchGetItemCommand: 1, TransactWriteItemsCommand: 1 });

    ledger.probe.reset();
    for (let i = 0; i < 20; i++) await consume(consumeRequest('org-trips', { userId: 'u1', projectId: 'p1', cu: 1 }), ledger.deps);
    expect(Object.fromEntries(ledger.probe.roundTrips)).toEqual({ TransactWriteItemsCommand: 20 });
  });

  it('learns a changed cap from the failed transaction itself, without another read', async () => {
    const ledger = await createTestLedger();
    await provisionOrg(ledger.anotherProcess(), 'org-trips-2', { allowanceCu: 1000, members: { u1: 500 } });
    await consume(consumeRequest('org-trips-2', { userId: 'u1', projectId: 'p1', cu: 1 }), ledger.deps);
    await putMember({ orgId: 'org-trips-2', id: 'u1', role: 'contributor', capMilli: toMilli(600) }, ledger.anotherProcess());
    ledger.probe.reset();

    await consume(consumeRequest('org-trips-2', { userId: 'u1', projectId: 'p1', cu: 1 }), ledger.deps);

    expect(Object.fromEntries(ledger.probe.roundTrips)).toEqual({ TransactWriteItemsCommand: 2 });
  });
});
