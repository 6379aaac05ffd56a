// What a consume and a refund write, leg by leg. A consume: the event (new request id), the team pool (config
// version unchanged, pool fits), the project and the actor (cap unchanged, usage fits). A refund: the refund event,
// the original's refunded total, and each counter the original moved, in the original's period.

import { DEFAULT_MEMBER_ROLE } from '../../domain/permissions';
import { parseCounter, type MeterEventRecord, type ScopeKind } from '../../ports/ledger-records';
import { type ChargeCommand, type RefundCommand } from '../../ports/meter-store';
import { toEventItem } from './item-mapping';
import { eventKey, orgKey, scopeKey, usageAttribute } from './ledger-table';
import type { NamedCondition, TransactionLeg } from './transaction-legs';
import { UpdateExpressionBuilder } from './update-expression';

export type ChargeRole = 'event' | 'team' | 'project' | 'actor';
export type RefundRole = 'event' | 'original' | 'team' | 'project' | 'actor';

export function chargeLegs(command: ChargeCommand): TransactionLeg<ChargeRole>[] {
  const { event, maxUsedBefore } = command;
  const used = usageAttribute(event.periodId);
  const charge = (scopeKind: ScopeKind, scopeId: string) =>
    new UpdateExpressionBuilder().add(used, event.cuMilli, 'used').set('entity', scopeKind).set('scopeId', scopeId).setIfNotExists('createdAt', event.createdAt);
  const project = charge('project', event.projectId);
  const actor = charge(event.actorKind, event.userId);
  // A scope seen first here is registered implicitly: an API key under the project it charged, a member with the default role.
  if (event.actorKind === 'api_key') actor.setIfNotExists('projectId', command.apiKeyProjectId ?? event.projectId);
  else actor.setIfNotExists('role', DEFAULT_MEMBER_ROLE);
  return [
    newEventLeg(event),
    {
      role: 'team',
      key: orgKey(event.orgId),
      write: { update: new UpdateExpressionBuilder().add(used, event.cuMilli, 'used').build() },
      condition: {
        name: 'orgUnchangedAndPoolFits',
        names: { '#used': used },
        values: { ':configVersion': command.expectedConfigVersion, ':max': maxUsedBefore.team },
      },
      returnItemOnFailure: true,
    },
    {
      role: 'project',
      key: scopeKey(event.orgId, 'project', event.projectId),
      write: { update: project.build() },
      condition: capCondition(used, command.expectedProjectCapMilli, maxUsedBefore.project),
      returnItemOnFailure: true,
    },
    {
      role: 'actor',
      key: scopeKey(event.orgId, event.actorKind, event.userId),
      write: { update: actor.build() },
      condition: capCondition(used, command.expectedActorCapMilli, maxUsedBefore.actor),
      returnItemOnFailure: true,
    },
  ];
}

export function refundLegs(command: RefundCommand): TransactionLeg<RefundRole>[] {
  const { event, original } = command;
  const used = usageAttribute(original.periodId);
  const counters = original.counters.map((name): TransactionLeg<RefundRole> => {
    const counter = parseCounter(name);
    return {
      role: counter.kind === 'team' || counter.kind === 'project' ? counter.kind : 'actor',
      key: counter.kind === 'team' ? orgKey(original.orgId) : scopeKey(original.orgId, counter.kind, counter.id),
      write: { update: new UpdateExpressionBuilder().add(used, -event.cuMilli, 'used').build() },
      condition: { name: 'itemExists' },
    };
  });
  return [
    newEventLeg(event),
    {
      role: 'original',
      key: eventKey(original.orgId, original.requestId),
      write: { update: new UpdateExpressionBuilder().add('refundedMilli', event.cuMilli).build() },
      condition: { name: 'refundFits', values: { ':consume': 'consume', ':maxRefunded': command.maxRefundedBefore } },
    },
    ...counters,
  ];
}

/** The event under its request id, written only if that id is new: the idempotency check of both transactions. */
function newEventLeg(event: MeterEventRecord): TransactionLeg<'event'> {
  return {
    role: 'event',
    key: eventKey(event.orgId, event.requestId),
    write: { put: toEventItem(event) },
    condition: { name: 'itemIsNew' },
    returnItemOnFailure: true,
  };
}

/** A project or actor counter: its cap is still the one evaluated, and the charge fits under the limit that applies. */
function capCondition(used: string, expectedCapMilli: number | null, maxUsedBefore: number | null): NamedCondition {
  if (expectedCapMilli !== null) return { name: 'capUnchangedAndUsageFits', names: { '#used': used }, values: { ':cap': expectedCapMilli, ':max': maxUsedBefore } };
  if (maxUsedBefore !== null) return { name: 'noOwnCapAndUsageFits', names: { '#used': used }, values: { ':max': maxUsedBefore } };
  return { name: 'noOwnCap' };
}

