// cdk-nag's AwsSolutions and Serverless packs over both stacks: no finding may stand unacknowledged, and every
// acknowledgement must carry its reason. A control proves the packs do report what they find.

import { App, Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { nagPacks } from '../../infra/cu-ledger-app';
import { synthesize, TEST_CUSTOM_DOMAIN_CONTEXT, type SynthesizedApp } from '../support/cdk-app';
import { EVERY_KIND, WITH_ANALYTICS_ROUTES } from './fixtures/registries';

function findings(synthesized: Pick<SynthesizedApp, 'app' | 'stateful' | 'stateless'>): string[] {
  return nagPacks(synthesized.app).flatMap((pack) =>
    [synthesized.stateful, synthesized.stateless].flatMap((stack) =>
      pack.validateScope(stack).violations.map((violation) => `${violation.ruleName} at ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`),
    ),
  );
}

function acknowledgements(root: IConstruct): { id: string; reason: unknown }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, unknown>).map(([id, reason]) => ({ id, reason }))),
  );
}

describe('cdk-nag', () => {
  it.each([
    ['the deployed service (dev)', () => synthesize()],
    ['the deployed service (prod, with an alarm address)', () => synthesize({ context: { stage: 'prod', alarmEmail: 'oncall@example.com' } })],
    ['the deployed service with analytics routes (the Analytics API and its authorizer)', () => synthesize({ registries: WITH_ANALYTICS_ROUTES })],
    ['every kind of route, job and grant', () => synthesize({ registries: EVERY_KIND })],
    ['the deployed service on one host (custom domain, routing rules, alias record)', () => synthesize({ context: TEST_CUSTOM_DOMAIN_CONTEXT })],
  ])('finds nothing unacknowledged in %s', (_, build) => {
    expect(findings(build())).toEqual([]);
  });

  it('has a reason with every acknowledgement', () => {
    const { app } = synthesize({ registries: EVERY_KIND });
    const acknowledged = acknowledgements(app);
    expect(acknowledged.length).toBeGreaterThan(5);
    for (const { id, reason } of acknowledged) {
      const text = typeof reason === 'string' ? reason : JSON.stringify(reason);
      expect(text.length, id).toBeGreaterThan(40);
    }
  });

  it('reports what it finds (control: a bare bucket)', () => {
    const app = new App();
    const stack = new Stack(app, 'Control');
    new Bucket(stack, 'Bare');
    const reported = nagPacks(app).flatMap((pack) => pack.validateScope(stack).violations.map((violation) => violation.ruleName));
    expect(reported).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });
});
