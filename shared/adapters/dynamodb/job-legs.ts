// Legs the plan, top-up and job writes share: a due item, and an org's stored terms.

import type { OrgTermsSource } from '../../domain/billing-terms';
import type { DueItem, DueKind } from '../../ports/job-store';
import { dueKey } from './ledger-table';
import type { TransactionLeg } from './transaction-legs';
import { UpdateExpressionBuilder } from './update-expression';

/** Files what a job must do at `dueAt`; writing it twice leaves one item. */
export function dueLeg(kind: DueKind, dueAt: string, orgId: string, ref: string): TransactionLeg<'due'> {
  return { role: 'due', key: dueKey(kind, dueAt, orgId, ref), write: { put: { entity: 'due', kind, orgId, dueAt, ref } } };
}

/** Files an org's monthly export due (its own role: it rides in transactions that file a reset too). */
export function monthlyExportDueLeg(due: DueItem): TransactionLeg<'exportDue'> {
  return { ...dueLeg(due.kind, due.dueAt, due.orgId, due.ref), role: 'exportDue' };
}

/** Removes a handled due item. */
export function handledDueLeg(kind: DueKind, dueAt: string, orgId: string, ref: string): TransactionLeg<'handled'> {
  return { role: 'handled', key: dueKey(kind, dueAt, orgId, ref), write: { delete: true } };
}

/** Writes an org's plan, anchor, period start and pending plan as `terms` has them. */
export function termsUpdate(terms: OrgTermsSource): UpdateExpressionBuilder {
  const update = new UpdateExpressionBuilder()
    .set('planName', terms.planName)
    .set('allowanceMilli', terms.allowanceMilli)
    .set('billingAnchor', terms.billingAnchor);
  if (terms.periodStartedAt === null) update.remove('periodStartedAt');
  else update.set('periodStartedAt', terms.periodStartedAt);
  if (terms.pendingPlan === null) update.remove('pendingPlan');
  else update.set('pendingPlan', { ...terms.pendingPlan });
  return update;
}
