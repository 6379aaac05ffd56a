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

/** `overrides` are for tests that need another retry budget; production uses the defaults. */
export function createDynamoDbClient(settings: Pick<DynamoDbSettings, 'endpoint' | 'region'>, overrides: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
  const config: DynamoDBClientConfig = {
    maxAttempts: 3,
    // DynamoDB answers in milliseconds: a connection or request that stalls is failed fast and retried
    // (TimeoutError is transient), so a hung store becomes a 503 within API Gateway's 29 s, not a hang.
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
  };
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
