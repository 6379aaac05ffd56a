// The Glue Data Catalog over the exported events, so finance can query them with Athena straight away: one table
// over `exports/events/`, its partitions (org, month) found by partition projection, so no crawler and no
// partition to add as months go by.

import { Aws } from 'aws-cdk-lib';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EVENTS_PARTITION_KEYS, EVENTS_PARTITIONS_PREFIX, eventsPartitionPrefix } from '../../shared/domain/finance-export';
import { EVENT_COLUMNS } from '../../shared/domain/usage-rows';

/** The first month projection offers; a query's `month` predicate narrows it further. */
export const EVENTS_FIRST_MONTH = '2020-01';

/** A column's Glue type where it is not `string`: the CSV's amount is a decimal CU; an ISO instant stays a string. */
const COLUMN_TYPES: Partial<Record<(typeof EVENT_COLUMNS)[number], string>> = { amount: 'double' };

/** The events' columns in the CSV's order (OpenCSVSerde maps by position); Glue keeps names lower-case. */
export function eventColumns(): { name: string; type: string }[] {
  return EVENT_COLUMNS.map((column) => ({ name: column.toLowerCase(), type: COLUMN_TYPES[column] ?? 'string' }));
}

export interface ExportCatalogProps {
  readonly bucket: IBucket;
  /** The Glue database's name: lower-case letters, digits and underscores. */
  readonly databaseName: string;
}

export class ExportCatalog extends Construct {
  readonly database: CfnDatabase;
  readonly eventsTable: CfnTable;

  constructor(scope: Construct, id: string, props: ExportCatalogProps) {
    super(scope, id);
    this.database = new CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: props.databaseName, description: 'CU Ledger finance exports (Athena)' },
    });
    const root = `s3://${props.bucket.bucketName}/`;
    this.eventsTable = new CfnTable(this, 'EventsTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: props.databaseName,
      tableInput: {
        name: 'events',
        description: 'Every exported usage event (consumes and refunds), one CSV per org and month',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: EVENTS_PARTITION_KEYS.map((name) => ({ name, type: 'string' })),
        parameters: {
          classification: 'csv',
          'skip.header.line.count': '1',
          // Org ids cannot be enumerated, so a query names its org (`WHERE org_id = '…'`); months are a date range.
          'projection.enabled': 'true',
          'projection.org_id.type': 'injected',
          'projection.month.type': 'date',
          'projection.month.format': 'yyyy-MM',
          'projection.month.range': `${EVENTS_FIRST_MONTH},NOW`,
          'projection.month.interval': '1',
          'projection.month.interval.unit': 'MONTHS',
          'storage.location.template': `${root}${eventsPartitionPrefix({ org_id: '${org_id}', month: '${month}' })}`,
        },
        storageDescriptor: {
          location: `${root}${EVENTS_PARTITIONS_PREFIX}/`,
          columns: eventColumns(),
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.apache.hadoop.hive.serde2.OpenCSVSerde',
            parameters: { separatorChar: ',', quoteChar: '"' },
          },
        },
      },
    });
    this.eventsTable.node.addDependency(this.database);
  }
}
