// The ledger table's stream records, read as the changes the service acts on: an org item changed (its before and
// after), an activity entry was written, or a consume or refund was logged. Everything else on the stream (scopes,
// due items, rollup cells) is not ours to act on and reads as undefined.

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { LedgerChange } from '../../ports/job-store';
import { toActivityRecord, toEventRecord, toOrgRecord } from './item-mapping';
import { alertFiringOf } from './alert-store';
import { ACTIVITY_ENTITY, ALERT_FIRING_ENTITY, CHARGED_AT, EVENT_ENTITY, ORG_SORT_KEY, SORT_KEY, TOP_UP_USED_PREFIX, USAGE_PREFIX } from './ledger-table';

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
