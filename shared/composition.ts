// The composition root: the ledger's adapters wired to its ports, built once per process from the environment.

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient, createDynamoDbClient, dynamoDbSettingsFromEnv, type DynamoDbSettings } from './adapters/dynamodb/client';
import { dynamoDbLedgerStore, type DynamoDbLedgerStore } from './adapters/dynamodb/ledger-store';
import { LedgerTableAccess } from './adapters/dynamodb/table-access';
import { secretsManagerKeyStore, secretsManagerPepper } from './adapters/secrets-manager/analytics-key-store';
import type { EventPublisher } from './ports/event-publisher';
import type { KeyVault } from './use-cases/analytics-keys';
import type { WebhookSigningKey } from './use-cases/alert-webhooks';
import type { WebhookUrlRules } from './domain/alert-webhooks';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomIds, systemClock, type Clock, type IdGenerator } from './ports/runtime';
import { LimitCache } from './use-cases/limit-cache';
import type { RetryPolicy } from './use-cases/store-retry';

export interface LedgerDependencies {
  readonly store: DynamoDbLedgerStore;
  readonly cache: LimitCache;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly retry?: RetryPolicy;
}

export function buildLedgerDependencies(
  settings: DynamoDbSettings,
  overrides: { client?: DynamoDBClient; clock?: Clock; ids?: IdGenerator; retry?: RetryPolicy } = {},
): LedgerDependencies {
  const client = overrides.client ?? createDynamoDbClient(settings);
  return {
    store: dynamoDbLedgerStore(new LedgerTableAccess(settings.tableName, createDocumentClient(client))),
    cache: new LimitCache(),
    clock: overrides.clock ?? processClock,
    ids: overrides.ids ?? randomIds,
    ...(overrides.retry ? { retry: overrides.retry } : {}),
  };
}

/** `deps` for one request: its store calls end when `signal` aborts (middy aborts it when it answers early). */
export function forRequest(deps: LedgerDependencies, signal: AbortSignal): LedgerDependencies {
  return { ...deps, store: deps.store.forRequest(signal) };
}

/**
 * The clock every handler of this process reads. On Lambda it is the system clock; the local runner may set it
 * (`POST /local/clock`) to show a reset or an expiry without waiting for it. Process-wide on purpose: it stands for
 * the time of the whole simulated deployment, not of one request.
 */
let currentClock: Clock = systemClock;
export const processClock: Clock = { now: () => currentClock.now() };

export function useProcessClock(clock: Clock): void {
  currentClock = clock;
}

/** Where the jobs publish locally (the local runner sets it); on AWS, EVENT_BUS_NAME selects EventBridge. */
let localPublisher: EventPublisher | undefined;

export function useLocalPublisher(publisher: EventPublisher | undefined): void {
  localPublisher = publisher;
}

export function localEventPublisher(): EventPublisher | undefined {
  return localPublisher;
}

/**
 * Where analytics keys live: on AWS (KEY_STORE_PREFIX and PEPPER_SECRET_ARN, as the stack sets them) Secrets Manager;
 * locally the runner's file-backed vault (useLocalKeyVault).
 */
let localVault: KeyVault | undefined;
let awsVault: KeyVault | undefined;

export function useLocalKeyVault(vault: KeyVault | undefined): void {
  localVault = vault;
}

export function keyVault(): KeyVault {
  const { KEY_STORE_PREFIX: prefix, PEPPER_SECRET_ARN: pepperArn } = process.env;
  if (prefix && pepperArn) {
    if (!awsVault) {
      const client = new SecretsManagerClient({});
      awsVault = { keys: secretsManagerKeyStore(client, prefix), pepper: secretsManagerPepper(client, pepperArn) };
    }
    return awsVault;
  }
  if (localVault) return localVault;
  throw new Error('No analytics-key store: KEY_STORE_PREFIX and PEPPER_SECRET_ARN (on AWS), or the local runner\'s.');
}

/**
 * The webhook signing key: on AWS (WEBHOOK_SIGNING_KEY_ARN, as the stack sets it) its Secrets Manager secret; locally
 * the runner's file beside the data (useLocalWebhookSigningKey).
 */
let localSigningKey: WebhookSigningKey | undefined;
let awsSigningKey: WebhookSigningKey | undefined;

export function useLocalWebhookSigningKey(key: WebhookSigningKey | undefined): void {
  localSigningKey = key;
}

export function webhookSigningKey(env: NodeJS.ProcessEnv = process.env): WebhookSigningKey {
  if (env.WEBHOOK_SIGNING_KEY_ARN) {
    awsSigningKey ??= secretsManagerPepper(new SecretsManagerClient({}), env.WEBHOOK_SIGNING_KEY_ARN);
    return awsSigningKey;
  }
  if (localSigningKey) return localSigningKey;
  throw new Error("No webhook signing key: WEBHOOK_SIGNING_KEY_ARN (on AWS), or the local runner's.");
}

/** Set by the local runner's --allow-local-webhooks and by tests; never honoured on Lambda, whatever the environment says. */
export const ALLOW_LOCAL_WEBHOOKS_ENV = 'CU_LEDGER_ALLOW_LOCAL_WEBHOOKS';

export function webhookUrlRules(env: NodeJS.ProcessEnv = process.env): WebhookUrlRules {
  return { allowLocal: env[ALLOW_LOCAL_WEBHOOKS_ENV] === '1' && !env.AWS_LAMBDA_FUNCTION_NAME };
}

/**
 * On Lambda the environment is complete at import (TABLE_NAME comes with the function), so clients and config are
 * built during the init phase, where the CPU burst is free. Elsewhere they are built on first use: the local
 * runner imports the handlers before it knows its DynamoDB Local endpoint, and tests import them without
 * TABLE_NAME (a TABLE_NAME left in a developer's shell must not point import-time clients at AWS).
 */
function completeEnvironment(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.TABLE_NAME && env.AWS_LAMBDA_FUNCTION_NAME);
}

let fromEnvironment: LedgerDependencies | undefined = completeEnvironment(process.env)
  ? buildLedgerDependencies(dynamoDbSettingsFromEnv())
  : undefined;

/** The process-wide dependencies, built from TABLE_NAME and DYNAMODB_ENDPOINT. */
export function processDependencies(): LedgerDependencies {
  fromEnvironment ??= buildLedgerDependencies(dynamoDbSettingsFromEnv());
  return fromEnvironment;
}

/** The dependencies for one request, built on the process-wide ones. */
export function ledgerDependencies(signal: AbortSignal): LedgerDependencies {
  return forRequest(processDependencies(), signal);
}
