import { defineConfig } from 'vitest/config';

// Two groups, one after the other, so the CPU-heavy infra tests (cdk synth, esbuild, cfn-lint) never starve the
// tests that race hundreds of requests against DynamoDB Local:
// 1. `unit` (no network) and `ledger`: integration (one DynamoDB Local for the project) and e2e (real runners);
// 2. `infra`: CDK templates, cdk-nag and the real CLI synth.
// One file: `npx vitest run test/unit/limits.test.ts`; one project: `npx vitest run --project infra`.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    env: { LOG_LEVEL: 'silent' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'ledger',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/dynamodb-local.global-setup.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'infra', include: ['test/infra/**/*.test.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
