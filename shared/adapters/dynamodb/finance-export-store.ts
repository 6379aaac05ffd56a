// The finance exports' records on DynamoDB: one item per org and month or closed period, beside the org's scopes.
// A month's item keeps the `month` attribute it always had; a period's has `kind` 'period' and its two instants.

import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ExportManifest, ExportTarget } from '../../domain/finance-export';
import type { FinanceExportRecord, FinanceExportStore } from '../../ports/finance-export-store';
import { CONDITIONS, CONDITION_NAMES, financeExportKey, financeExportsQuery } from './ledger-table';
import { isConditionalCheckFailure } from './sdk-errors';
import type { Item, LedgerTableAccess } from './table-access';

/** The `entity` of an export's item. */
const EXPORT_ENTITY = 'finance_export';

function targetAttributes(target: ExportTarget): Item {
  return target.kind === 'month' ? { month: target.month } : { kind: 'period', periodStart: target.periodStart, periodEnd: target.periodEnd };
}

function targetOf(item: Item): ExportTarget {
  return item.kind === 'period' ? { kind: 'period', periodStart: String(item.periodStart), periodEnd: String(item.periodEnd) } : { kind: 'month', month: String(item.month) };
}

function toRecord(item: Item): FinanceExportRecord {
  return {
    orgId: String(item.orgId),
    target: targetOf(item),
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
      const { target, ...rest } = record;
      const item = { ...financeExportKey(record.orgId, target), entity: EXPORT_ENTITY, ...rest, ...targetAttributes(target) };
      await table.call(() => table.send(new PutCommand({ TableName: table.tableName, Item: item })));
    },
    async listFinanceExports(orgId) {
      return (await table.queryAll(financeExportsQuery(orgId))).map(toRecord);
    },
    async finishFinanceExport(orgId, target, exportId, outcome) {
      try {
        await table.call(() =>
          table.send(
            new UpdateCommand({
              TableName: table.tableName,
              Key: financeExportKey(orgId, target),
              UpdateExpression: 'SET #status = :status, #finishedAt = :finishedAt, #manifest = :manifest',
              ConditionExpression: CONDITIONS.sameExportRequest,
              ExpressionAttributeNames: { ...CONDITION_NAMES.sameExportRequest, '#status': 'status', '#finishedAt': 'finishedAt', '#manifest': 'manifest' },
              ExpressionAttributeValues: { ':exportId': exportId, ':status': outcome.status, ':finishedAt': outcome.finishedAt, ':manifest': outcome.manifest },
            }),
          ),
        );
      } catch (error) {
        // A newer request for the target owns the record now; its own run reports its outcome.
        if (!isConditionalCheckFailure(error)) throw error;
      }
    },
  };
}
