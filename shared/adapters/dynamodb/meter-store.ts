// The meter port on DynamoDB: one BatchGetItem to read what a charge or refund depends on, one TransactWriteItems per charge
// or refund. A cancelled transaction is answered from its legs: duplicate, rejected (with the items as they are),
// or a TransientStoreError the use cases retry.

import { TransientStoreError, type ScopeRef } from '../../ports/ledger-records';
import type { ChargeCommand, ChargeOutcome, MeterSnapshot, MeterStore, RefundCommand, RefundOutcome, RefundSnapshot } from '../../ports/meter-store';
import { chargeLegs, refundLegs } from './charge-legs';
import { toEventRecord, toOrgRecord, toScopeRecord } from './item-mapping';
import { eventKey, orgKey, scopeKey } from './ledger-table';
import type { LedgerTableAccess } from './table-access';

export function dynamoDbMeterStore(table: LedgerTableAccess): MeterStore {
  return {
    async loadSnapshot(orgId: string, projectId: string, actor: ScopeRef, requestId: string | null): Promise<MeterSnapshot> {
      const found = await table.getNamed({
        org: orgKey(orgId),
        project: scopeKey(orgId, 'project', projectId),
        actor: scopeKey(orgId, actor.kind, actor.id),
        ...(requestId === null ? {} : { event: eventKey(orgId, requestId) }),
      });
      return {
        org: toOrgRecord(found.org),
        project: toScopeRecord('project', projectId, found.project),
        actor: toScopeRecord(actor.kind, actor.id, found.actor),
        existingEvent: found.event ? toEventRecord(found.event) : undefined,
      };
    },

    async loadRefund(orgId: string, requestId: string, refundOf: string): Promise<RefundSnapshot> {
      const found = await table.getNamed({ org: orgKey(orgId), existing: eventKey(orgId, requestId), original: eventKey(orgId, refundOf) });
      return {
        org: toOrgRecord(found.org),
        existing: found.existing ? toEventRecord(found.existing) : undefined,
        original: found.original ? toEventRecord(found.original) : undefined,
      };
    },

    // Consume: the event (idempotency record), the team pool, the project and the actor, all or nothing.
    async commitCharge(command: ChargeCommand): Promise<ChargeOutcome> {
      const { event } = command;
      const cancelled = await table.transact(chargeLegs(command));
      if (!cancelled) return { status: 'charged' };
      if (cancelled.failed('event')) return { status: 'duplicate', existing: toEventRecord(cancelled.item('event')!) };
      if (cancelled.anyTransient()) throw new TransientStoreError('consume transaction conflicted', { cause: cancelled.error });
      if (!cancelled.anyFailed()) throw cancelled.error;
      return {
        status: 'rejected',
        orgMissing: cancelled.failed('team') && cancelled.item('team') === undefined,
        org: cancelled.failed('team') ? toOrgRecord(cancelled.item('team')) : undefined,
        project: cancelled.failed('project') ? toScopeRecord('project', event.projectId, cancelled.item('project')) : undefined,
        actor: cancelled.failed('actor') ? toScopeRecord(event.actorKind, event.userId, cancelled.item('actor')) : undefined,
      };
    },

    // Refund: the refund event, the original's refunded total, and every counter the original moved, all or nothing.
    async commitRefund(command: RefundCommand): Promise<RefundOutcome> {
      const cancelled = await table.transact(refundLegs(command));
      if (!cancelled) return { status: 'refunded' };
      if (cancelled.failed('event')) return { status: 'duplicate', existing: toEventRecord(cancelled.item('event')!) };
      if (cancelled.anyTransient()) throw new TransientStoreError('refund transaction conflicted', { cause: cancelled.error });
      if (cancelled.anyFailed()) return { status: 'rejected' };
      throw cancelled.error;
    },
  };
}
