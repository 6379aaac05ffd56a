// What holds data and must outlive any deployment of code: the ledger table, the export bucket and the secrets.
// In production all of it is retained when the stack goes, and the table refuses deletion outright.

import { Aws, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectOwnership,
  StorageClass,
  type BucketProps,
} from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { LEDGER_TABLE_DEFINITION } from '../../shared/adapters/dynamodb/ledger-table';
import { ExportCatalog } from '../constructs/export-catalog';
import type { DeploymentConfig } from '../deployment-config';

export interface StatefulStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

/**
 * The export bucket's name, fixed by stage, account and region: finance can find it, and the stateless stack can
 * name it (and its `exports/` prefix in IAM) without a cross-stack reference.
 */
export function exportBucketName(config: DeploymentConfig): string {
  return `${config.prefix}-exports-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
}

export class StatefulStack extends Stack {
  readonly table: Table;
  /** The table's stream (new and old images), which the stream jobs read. */
  readonly tableStreamArn: string;
  readonly exportBucket: Bucket;
  /** The Glue database and events table Athena queries the exports through. */
  readonly exportCatalog: ExportCatalog;
  readonly pepper: Secret;
  readonly webhookSigningKey: Secret;
  /** Analytics-key secrets are created at run time under this name prefix (the key store). */
  readonly keyStorePrefix: string;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;
    const production = config.stage === 'prod';
    const removalPolicy = production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // The same key and index definition the local runner creates on DynamoDB Local.
    const definition = LEDGER_TABLE_DEFINITION;
    const attributeType = { S: AttributeType.STRING } as const;
    this.table = new Table(this, 'LedgerTable', {
      tableName: `${config.prefix}-ledger`,
      partitionKey: { name: definition.partitionKey.name, type: attributeType[definition.partitionKey.type] },
      sortKey: { name: definition.sortKey.name, type: attributeType[definition.sortKey.type] },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: production,
      removalPolicy,
      // Clean-up only: TTL deletes days late, so nothing relies on it for correctness.
      timeToLiveAttribute: definition.timeToLiveAttribute,
      stream: StreamViewType[definition.stream],
    });
    if (this.table.tableStreamArn === undefined) throw new Error('The ledger table needs its stream (LEDGER_TABLE_DEFINITION.stream).');
    this.tableStreamArn = this.table.tableStreamArn;
    for (const index of definition.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey.name, type: attributeType[index.partitionKey.type] },
        sortKey: { name: index.sortKey.name, type: attributeType[index.sortKey.type] },
        projectionType: ProjectionType[index.projection],
      });
    }

    const privateBucket: BucketProps = {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy,
      // A dev stack goes away whole; in production the buckets are retained with what they hold.
      autoDeleteObjects: !production,
    };
    const accessLogs = new Bucket(this, 'AccessLogBucket', {
      ...privateBucket,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    this.exportBucket = new Bucket(this, 'ExportBucket', {
      ...privateBucket,
      bucketName: exportBucketName(config),
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'export-bucket/',
      lifecycleRules: [
        {
          id: 'age-exports',
          transitions: [
            { storageClass: StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(90) },
            { storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(365) },
          ],
          expiration: Duration.days(config.exportRetentionDays),
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });

    // Beside the bucket: the catalog describes its files and goes with them.
    this.exportCatalog = new ExportCatalog(this, 'ExportCatalog', { bucket: this.exportBucket, databaseName: `${config.prefix.replace(/-/g, '_')}_exports` });

    // Analytics keys are stored as salted hashes keyed with this pepper: a leaked table alone cannot be brute-forced.
    this.pepper = new Secret(this, 'KeyPepper', {
      secretName: `cu-ledger/${config.stage}/pepper`,
      description: 'CU Ledger: pepper for analytics-key hashes. Changing it invalidates every issued key.',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy,
    });
    this.keyStorePrefix = `cu-ledger/${config.stage}/analytics-keys/`;
    // Each org's webhook secret is an HMAC of the org and its version under this key: the table holds no secret.
    this.webhookSigningKey = new Secret(this, 'WebhookSigningKey', {
      secretName: `cu-ledger/${config.stage}/webhook-signing-key`,
      description: "CU Ledger: the key every org's cost-alert webhook secret is derived from. Changing it changes every org's secret.",
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy,
    });
  }
}
