// The DynamoDB clients, built once per process from the environment (TABLE_NAME, DYNAMODB_ENDPOINT for local runs).

import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoDbSettings {
  readonly tableName: string;
  /** Set for DynamoDB Local; unset on AWS. */
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
}

export function dynamoDbSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): DynamoDbSettings {
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new Error('TABLE_NAME is not set');
  return { tableName, endpoint: env.DYNAMODB_ENDPOINT || undefined, region: env.AWS_REGION };
}

/**
 * On AWS: DynamoDB answers in milliseconds, so a connection or request that stalls is failed fast and retried
 * (TimeoutError is transient), and a hung store becomes a 503 within API Gateway's 29 s, not a hang.
 */
export const AWS_TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true } as const;

/**
 * DynamoDB Local (the local runner): a Java emulator on a laptop that may be busy, which serialises transactions.
 * A slow answer there is slow, not lost; AWS's 2 s would turn it into a 503 whose outcome the caller must resolve.
 */
export const LOCAL_TIMEOUTS = { connectionTimeout: 5_000, requestTimeout: 10_000, throwOnRequestTimeout: true } as const;

/** `overrides` are for tests that need another retry budget or timeout; the service uses the defaults. */
export function createDynamoDbClient(settings: Pick<DynamoDbSettings, 'endpoint' | 'region'>, overrides: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
  const config: DynamoDBClientConfig = { maxAttempts: 3, requestHandler: settings.endpoint ? LOCAL_TIMEOUTS : AWS_TIMEOUTS };
  if (settings.endpoint) {
    // DynamoDB Local accepts any credentials; fixed ones keep a developer's AWS profile out of local runs.
    config.endpoint = settings.endpoint;
    config.region = settings.region ?? 'local';
    config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  } else if (settings.region) {
    config.region = settings.region;
  }
  return new DynamoDBClient({ ...config, ...overrides });
}

export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
