// What a consume and a refund write, leg by leg. A consume: the event (new request id), the team pool (config
// version unchanged, each drawn source as the draw plan assumed), the project and the actor (cap unchanged, usage
// fits). A refund: the refund event, the original's refunded total, each counter the original moved in its period
// (while the table keeps it), and the pool sources it restores (while they are live).

import { DEFAULT_MEMBER_ROLE } from '../../domain/permissions';
import type { PoolSourceRef } from '../../domain/pool';
import { parseCounter, type MeterEventRecord, type ScopeKind } from '../../ports/ledger-records';
import { type ChargeCommand, type RefundCommand } from '../../ports/meter-store';
import { toEventItem } from './item-mapping';
import {
  CHARGED_AT,
  drawsHold,
  eventKey,
  keyInProject,
  orgKey,
  returnedSourcesLive,
  scopeKey,
  topUpAttribute,
  topUpUsedAttribute,
  usageAttribute,
  type ComposedCondition,
  type SourceAttributes,
} from './ledger-table';
import type { NamedCondition, TransactionLeg } from './transaction-legs';
import { UpdateExpressionBuilder } from './update-expression';

export type ChargeRole = 'event' | 'team' | 'project' | 'actor';
export type RefundRole = 'event' | 'original' | 'team' | 'project' | 'actor';

/** Where a pool source's usage (and a batch's terms) sit on the org item, for a charge in `periodId`. */
export function sourceAttributes(ref: PoolSourceRef, periodId: string): SourceAttributes {
  return ref.kind === 'allowance' ? { used: usageAttribute(periodId) } : { used: topUpUsedAttribute(ref.purchaseId), batch: topUpAttribute(ref.purchaseId) };
}

/** ADD to each source's usage; placeholders by position in the plan, since purchase ids may hold any character. */
function addToSources(update: UpdateExpressionBuilder, sources: readonly { ref: PoolSourceRef; milli: number }[], periodId: string, sign: 1 | -1): UpdateExpressionBuilder {
  sources.forEach(({ ref, milli }, index) => {
    if (milli !== 0) update.add(sourceAttributes(ref, periodId).used, sign * milli, `${sign > 0 ? 's' : 'r'}${index}used`);
  });
  return update;
}

export function chargeLegs(command: ChargeCommand): TransactionLeg<ChargeRole>[] {
  const { event, maxUsedBefore } = command;
  const used = usageAttribute(event.periodId);
  const charge = (scopeKind: ScopeKind, scopeId: string) =>
    new UpdateExpressionBuilder().add(used, event.cuMilli, 'used').set('entity', scopeKind).set('scopeId', scopeId).setIfNotExists('createdAt', event.createdAt);
  const project = charge('project', event.projectId);
  const actor = charge(event.actorKind, event.userId);
  // A scope seen first here is registered implicitly: an API key under the project it charged, a member with the default role.
  if (event.actorKind === 'api_key') actor.setIfNotExists('projectId', event.projectId);
  else actor.setIfNotExists('role', DEFAULT_MEMBER_ROLE);
  return [
    newEventLeg(event),
    {
      role: 'team',
      key: orgKey(event.orgId),
      write: { update: addToSources(new UpdateExpressionBuilder(), command.draws, event.periodId, 1).set(CHARGED_AT, event.createdAt).build() },
      condition: drawsHold(
        command.expectedConfigVersion,
        command.draws.map((draw) => ({ source: sourceAttributes(draw.ref, event.periodId), usedBefore: draw.usedBefore })),
      ),
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
      condition: actorCondition(event, capCondition(used, command.expectedActorCapMilli, maxUsedBefore.actor)),
      returnItemOnFailure: true,
    },
  ];
}

/**
 * The team leg gives the restored CU back to its sources (the allowance's counter, the batches) and, while the period's
 * counters are kept, moves the team counter by the allowance's part that was not restored too: counters stay equal
 * to their events. Project and actor counters move by the whole refund while kept.
 */
export function refundLegs(command: RefundCommand): TransactionLeg<RefundRole>[] {
  const { event, original } = command;
  const used = usageAttribute(original.periodId);
  const firstRefund = command.refundedBefore === 0;
  const restored = command.returns.filter((part) => part.restored);
  const allowanceBack = command.returns.filter((part) => part.ref.kind === 'allowance').reduce((sum, part) => sum + part.milli, 0);
  const teamUpdate = new UpdateExpressionBuilder();
  const restoredBatches = restored.filter((part) => part.ref.kind === 'top_up');
  addToSources(teamUpdate, restoredBatches, original.periodId, -1);
  const teamSources = restoredBatches.map((part) => sourceAttributes(part.ref, original.periodId));
  if (command.countersKept && allowanceBack > 0) {
    teamUpdate.add(used, -allowanceBack, 'used');
    teamSources.push({ used });
  }
  const counters = original.counters.flatMap((name): TransactionLeg<RefundRole>[] => {
    const counter = parseCounter(name);
    if (counter.kind === 'team' || !command.countersKept) return [];
    return [
      {
        role: counter.kind === 'project' ? 'project' : 'actor',
        key: scopeKey(original.orgId, counter.kind, counter.id),
        write: { update: new UpdateExpressionBuilder().add(used, -event.cuMilli, 'used').build() },
        condition: { name: 'counterKept', names: { '#used': used } },
      },
    ];
  });
  const team: TransactionLeg<RefundRole>[] =
    teamSources.length === 0
      ? []
      : [{ role: 'team', key: orgKey(original.orgId), write: { update: teamUpdate.build() }, condition: returnedSourcesLive(teamSources, event.createdAt) }];
  return [
    newEventLeg(event),
    {
      role: 'original',
      key: eventKey(original.orgId, original.requestId),
      write: { update: new UpdateExpressionBuilder().add('refundedMilli', event.cuMilli).build() },
      condition: firstRefund
        ? { name: 'firstRefund', values: { ':consume': 'consume', ':zero': 0 } }
        : { name: 'refundFollows', values: { ':consume': 'consume', ':refundedBefore': command.refundedBefore } },
    },
    ...team,
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

/** An API key's counter also stays in the event's project (a consume refused it elsewhere, on the record it read). */
function actorCondition(event: MeterEventRecord, cap: NamedCondition): NamedCondition | ComposedCondition {
  return event.actorKind === 'api_key' ? keyInProject(cap, event.projectId) : cap;
}

/** A project or actor counter: its cap is still the one evaluated, and the charge fits under the limit that applies. */
function capCondition(used: string, expectedCapMilli: number | null, maxUsedBefore: number | null): NamedCondition {
  if (expectedCapMilli !== null) return { name: 'capUnchangedAndUsageFits', names: { '#used': used }, values: { ':cap': expectedCapMilli, ':max': maxUsedBefore } };
  if (maxUsedBefore !== null) return { name: 'noOwnCapAndUsageFits', names: { '#used': used }, values: { ':max': maxUsedBefore } };
  return { name: 'noOwnCap' };
}

