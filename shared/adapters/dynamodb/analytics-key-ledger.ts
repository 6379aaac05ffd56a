// The ledger's side of analytics keys on DynamoDB: each key's listing beside the org's scopes, its activity entries in
// the org's log (with the listing, in one transaction), its lastUsedAt and its failed-authentication bursts.

import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import type { AnalyticsKeyEntry, AnalyticsKeyFailureEntry, AnalyticsKeyLedger, AnalyticsKeyListing } from '../../ports/analytics-keys';
import { toActivityItem } from './item-mapping';
import { CONDITIONS, CONDITION_NAMES, activityKey, analyticsKeyListingKey, analyticsKeysQuery, type ItemKey } from './ledger-table';
import { conditionFailureItem, isConditionalCheckFailure } from './sdk-errors';
import type { Item, LedgerTableAccess } from './table-access';
import { UpdateExpressionBuilder } from './update-expression';

/** The `entity` of a key's listing. */
const LISTING_ENTITY = 'analytics_key';

const text = z.string();
const listingItem = z.object({
  keyId: text,
  orgId: text,
  name: text,
  status: z.enum(['active', 'revoked']),
  secretHint: text,
  createdAt: text,
  rotatedAt: z.nullable(text),
  graceEndsAt: z.nullable(text),
  revokedAt: z.nullable(text),
  lastUsedAt: z.optional(text),
  version: z.number(),
});

function toListing(item: Item): AnalyticsKeyListing {
  const parsed = listingItem.safeParse(item);
  if (!parsed.success) throw new Error(`corrupt analytics key listing: ${parsed.error.issues[0]?.message ?? ''}`);
  return { ...parsed.data, lastUsedAt: parsed.data.lastUsedAt ?? null };
}

/** Where a change's entry is filed: a revocation once per key, a rotation once per instant and entry. */
function entryKey(entry: AnalyticsKeyEntry): ItemKey {
  const suffix = { analytics_key_created: 'CREATED', analytics_key_rotated: `ROTATED#${entry.createdAt}#${entry.entryId}`, analytics_key_revoked: 'REVOKED' }[entry.kind];
  return activityKey(entry.orgId, `AKEY#${entry.keyId}#${suffix}`);
}

export function dynamoDbAnalyticsKeyLedger(table: LedgerTableAccess): AnalyticsKeyLedger {
  return {
    async recordKeyChange(listing, entry) {
      const update = new UpdateExpressionBuilder();
      for (const [attribute, value] of Object.entries({ ...listing, entity: LISTING_ENTITY })) update.set(attribute, value);
      const listingLeg = {
        role: 'listing' as const,
        key: analyticsKeyListingKey(listing.orgId, listing.keyId),
        write: { update: update.build() },
        condition: { name: 'listingIsOlder' as const, values: { ':version': listing.version } },
      };
      const entryLeg = { role: 'entry' as const, key: entryKey(entry), write: { put: toActivityItem(entry) }, condition: { name: 'itemIsNew' as const } };
      const cancelled = await table.transact([listingLeg, entryLeg]);
      if (!cancelled) return;
      if (cancelled.anyTransient() || !cancelled.anyFailed()) throw cancelled.asError();
      // A later change is listed already (its write overtook this one): the entry still belongs in the log.
      if (cancelled.failed('listing') && !cancelled.failed('entry')) {
        const again = await table.transact([entryLeg]);
        if (again && !again.failed('entry')) throw again.asError();
      }
      // The entry is there already: a revocation recorded before, or this same change retried.
    },

    async listKeys(orgId) {
      return (await table.queryAll(analyticsKeysQuery(orgId))).map(toListing).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.keyId.localeCompare(b.keyId));
    },

    async noteKeyUsed(orgId, keyId, at, staleBefore) {
      const update = new UpdateExpressionBuilder().set('lastUsedAt', at).build();
      try {
        await table.call(() =>
          table.send(
            new UpdateCommand({
              TableName: table.tableName,
              Key: analyticsKeyListingKey(orgId, keyId),
              ...update,
              ConditionExpression: CONDITIONS.lastUseIsStale,
              ExpressionAttributeNames: { ...update.ExpressionAttributeNames, ...CONDITION_NAMES.lastUseIsStale },
              ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':staleBefore': staleBefore },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        );
        return at;
      } catch (error) {
        // Another instance noted a use within the minute (or the key is not listed): what it noted stands.
        if (!isConditionalCheckFailure(error)) throw error;
        const noted = conditionFailureItem(error)?.lastUsedAt;
        return typeof noted === 'string' ? noted : undefined;
      }
    },

    async recordAuthFailures(entry: AnalyticsKeyFailureEntry, failures: number) {
      const key = activityKey(entry.orgId, `AKEY#${entry.keyId}#AUTHFAIL#${entry.windowStart}`);
      // One update: the minute's first write sets the entry's fields, every write adds its count.
      const update = new UpdateExpressionBuilder();
      const { failures: _failures, ...fields } = toActivityItem({ ...entry, failures: 0 });
      for (const [attribute, value] of Object.entries(fields)) update.setIfNotExists(attribute, value);
      await table.call(() => table.send(new UpdateCommand({ TableName: table.tableName, Key: key, ...update.add('failures', failures).build() })));
    },

  };
}
