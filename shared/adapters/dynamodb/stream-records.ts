// The ledger table's stream records, read as the changes the service acts on: an org item changed (its before and
// after), an activity entry was written, or a consume or refund was logged. Everything else on the stream (scopes,
// due items, rollup cells) is not ours to act on and reads as undefined.

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { LedgerChange } from '../../ports/job-store';
import { toActivityRecord, toEventRecord, toOrgRecord, toScopeRecord } from './item-mapping';
import type { MilliCu } from '../../domain/compute-units';
import type { ScopeKind } from '../../ports/ledger-records';
import { alertFiringOf } from './alert-store';
import { ACTIVITY_ENTITY, ALERT_FIRING_ENTITY, CHARGED_AT, EVENT_ENTITY, ORG_PARTITION_PREFIX, ORG_SORT_KEY, PARTITION_KEY, SCOPE_ENTITIES, SORT_KEY, TOP_UP_USED_PREFIX, USAGE_PREFIX } from './ledger-table';

type Image = Record<string, AttributeValue>;

export function ledgerChangeOf(record: DynamoDBRecord): LedgerChange | undefined {
  const data = record.dynamodb;
  if (!data) return undefined;
  const newImage = data.NewImage as Image | undefined;
  const oldImage = data.OldImage as Image | undefined;
  if (record.eventName === 'MODIFY' && newImage && oldImage && newImage[SORT_KEY]?.S === ORG_SORT_KEY) {
    // Only a charge raises pool usage: a refund, top-up, expiry or plan change is no crossing. The pool is read as of
    // the charge's own time (`chargedAt`); the stream's sequence number is the change's stable identity.
    const [oldItem, newItem] = [unmarshall(oldImage), unmarshall(newImage)];
    const chargedAt = newItem[CHARGED_AT];
    if (typeof chargedAt !== 'string' || !drewOnPool(oldItem, newItem)) return undefined;
    const [before, after] = [toOrgRecord(oldItem), toOrgRecord(newItem)];
    if (!before || !after) return undefined;
    const at = new Date(chargedAt);
    return { kind: 'org', change: { before, after, at, sequenceNumber: data.SequenceNumber ?? '' } };
  }
  const scopeKind = newImage?.entity?.S;
  if ((record.eventName === 'MODIFY' || record.eventName === 'INSERT') && newImage && isScopeKind(scopeKind)) {
    return scopeChangeOf(scopeKind, oldImage, newImage, record);
  }
  if (record.eventName === 'INSERT' && newImage && newImage.entity?.S === ACTIVITY_ENTITY) {
    return { kind: 'activity', entry: toActivityRecord(unmarshall(newImage)) };
  }
  if (record.eventName === 'INSERT' && newImage && newImage.entity?.S === ALERT_FIRING_ENTITY) {
    return { kind: 'alert_fired', firing: alertFiringOf(unmarshall(newImage)) };
  }
  if (record.eventName === 'INSERT' && newImage && newImage.entity?.S === EVENT_ENTITY) {
    return { kind: 'metered', event: toEventRecord(unmarshall(newImage)) };
  }
  return undefined;
}

/** Some pool usage went up: the allowance's counter or a batch's. Refunds, top-ups, expiries and plan changes move none up. */
function drewOnPool(before: Record<string, unknown>, after: Record<string, unknown>): boolean {
  return Object.entries(after).some(
    ([attribute, value]) =>
      (attribute.startsWith(USAGE_PREFIX) || attribute.startsWith(TOP_UP_USED_PREFIX)) && Number(value) > Number(before[attribute] ?? 0),
  );
}

const SCOPE_KINDS: readonly string[] = SCOPE_ENTITIES;

function isScopeKind(entity: string | undefined): entity is ScopeKind {
  return entity !== undefined && SCOPE_KINDS.includes(entity);
}

/**
 * A project's, member's or API key's counter that went up: a charge (its first one inserts the item). The counter's
 * attribute names its period. A refund, a cap change or a prune raises none and reads as undefined.
 */
function scopeChangeOf(kind: ScopeKind, oldImage: Image | undefined, newImage: Image, record: DynamoDBRecord): LedgerChange | undefined {
  const after = unmarshall(newImage);
  const orgId = String(after[PARTITION_KEY]).slice(ORG_PARTITION_PREFIX.length);
  const [before, afterScope] = [
    toScopeRecord(kind, String(after['scopeId']), oldImage ? unmarshall(oldImage) : undefined),
    toScopeRecord(kind, String(after['scopeId']), after),
  ];
  const raised = Object.entries(afterScope.usage).find(([periodId, used]) => used > (before.usage[periodId] ?? 0));
  if (!raised) return undefined;
  const [periodId, afterMilli] = raised;
  const seconds = record.dynamodb?.ApproximateCreationDateTime;
  return {
    kind: 'scope',
    change: {
      orgId,
      scope: { kind, id: afterScope.id },
      periodId,
      beforeMilli: before.usage[periodId] ?? (0 as MilliCu),
      afterMilli,
      capMilli: afterScope.capMilli,
      at: seconds === undefined ? new Date() : new Date(seconds * 1000),
    },
  };
}
