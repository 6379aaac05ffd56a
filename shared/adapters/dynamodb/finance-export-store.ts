// The finance exports' records on DynamoDB: one item per org and month, beside the org's scopes.

import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ExportManifest } from '../../domain/finance-export';
import type { FinanceExportRecord, FinanceExportStore } from '../../ports/finance-export-store';
import { CONDITIONS, CONDITION_NAMES, financeExportKey, financeExportsQuery } from './ledger-table';
import { isConditionalCheckFailure } from './sdk-errors';
import type { Item, LedgerTableAccess } from './table-access';

/** The `entity` of an export's item. */
const EXPORT_ENTITY = 'finance_export';

function toRecord(item: Item): FinanceExportRecord {
  return {
    orgId: String(item.orgId),
    month: String(item.month),
    exportId: String(item.exportId),
    status: item.status as FinanceExportRecord['status'],
    requestedAt: String(item.requestedAt),
    finishedAt: typeof item.finishedAt === 'string' ? item.finishedAt : null,
    manifest: (item.manifest as ExportManifest | undefined) ?? null,
  };
}

export function dynamoDbFinanceExportStore(table: LedgerTableAccess): FinanceExportStore {
  return {
    async putFinanceExport(record) {
      const item = { ...financeExportKey(record.orgId, record.month), entity: EXPORT_ENTITY, ...record };
      await table.call(() => table.send(new PutCommand({ TableName: table.tableName, Item: item })));
    },
    async listFinanceExports(orgId) {
      return (await table.queryAll(financeExportsQuery(orgId))).map(toRecord);
    },
    async finishFinanceExport(orgId, month, exportId, outcome) {
      try {
        await table.call(() =>
          table.send(
            new UpdateCommand({
              TableName: table.tableName,
              Key: financeExportKey(orgId, month),
              UpdateExpression: 'SET #status = :status, #finishedAt = :finishedAt, #manifest = :manifest',
              ConditionExpression: CONDITIONS.sameExportRequest,
              ExpressionAttributeNames: { ...CONDITION_NAMES.sameExportRequest, '#status': 'status', '#finishedAt': 'finishedAt', '#manifest': 'manifest' },
              ExpressionAttributeValues: { ':exportId': exportId, ':status': outcome.status, ':finishedAt': outcome.finishedAt, ':manifest': outcome.manifest },
            }),
          ),
        );
      } catch (error) {
        // A newer request for the month owns the record now; its own run reports its outcome.
        if (!isConditionalCheckFailure(error)) throw error;
      }
    },
  };
}
