import { afterEach, describe, expect, it, vi } from 'vitest';

/** Loads the composition root afresh, counting the DynamoDB clients it creates. */
async function loadComposition() {
  vi.resetModules();
  const created = vi.fn();
  vi.doMock('../../shared/adapters/dynamodb/client', async (importOriginal) => {
    const actual = await importOriginal<typeof import('../../shared/adapters/dynamodb/client')>();
    return { ...actual, createDynamoDbClient: (...args: Parameters<typeof actual.createDynamoDbClient>) => (created(), actual.createDynamoDbClient(...args)) };
  });
  const composition = await import('../../shared/composition');
  return { composition, created };
}

describe('clients at cold start', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.doUnmock('../../shared/adapters/dynamodb/client');
  });

  it('builds clients and config while the module loads on Lambda, once for every request after', async () => {
    vi.stubEnv('TABLE_NAME', 'ledger');
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'cu-ledger-dev-meter');
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    const { composition, created } = await loadComposition();
    expect(created).toHaveBeenCalledTimes(1);

    const first = composition.ledgerDependencies(new AbortController().signal);
    const second = composition.ledgerDependencies(new AbortController().signal);

    expect(created).toHaveBeenCalledTimes(1);
    expect(first.cache).toBe(second.cache);
  });

  it('imports without TABLE_NAME, and builds on first use once the environment is there (the local runner)', async () => {
    vi.stubEnv('TABLE_NAME', '');
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', '');
    const { composition, created } = await loadComposition();
    expect(created).not.toHaveBeenCalled();

    vi.stubEnv('TABLE_NAME', 'ledger');
    vi.stubEnv('DYNAMODB_ENDPOINT', 'http://127.0.0.1:1');
    composition.ledgerDependencies(new AbortController().signal);
    composition.ledgerDependencies(new AbortController().signal);

    expect(created).toHaveBeenCalledTimes(1);
  });
});
