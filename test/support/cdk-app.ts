// The CDK app as the CLI builds it (cdk.json's context), for assertions: bundling is skipped, since the templates do
// not depend on the bundle and the synth test runs the real CLI with bundling.

import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCuLedger, type CuLedgerRegistries, type CuLedgerStacks } from '../../infra/cu-ledger-app';
import { REPOSITORY_ROOT } from '../../infra/bundling';

export const CDK_CONTEXT: Record<string, unknown> = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'cdk.json'), 'utf8')).context;

/** The identity provider the tests deploy with: every deployment must name one, and cdk.json names none on purpose. */
export const TEST_JWT_CONTEXT = { jwtIssuer: 'https://login.example.com/', jwtAudience: 'cu-ledger-dashboard' } as const;

/** Both APIs under one host, with the alias record in a hosted zone (the customDomain* context values). */
export const TEST_CUSTOM_DOMAIN_CONTEXT = {
  customDomainName: 'api.example.com',
  customDomainCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
  customDomainHostedZoneId: 'Z0123456789ABCDEFGHIJ',
} as const;

/**
 * The platform backend's roles the tests deploy with, as `-c serviceCallerArns=…` hands them (one with a path). A
 * deployment may leave them out (the stack then warns); the tests of that case say so.
 */
export const TEST_SERVICE_CALLERS_CONTEXT = { serviceCallerArns: 'arn:aws:iam::123456789012:role/platform/cu-ledger-caller,arn:aws:iam::123456789012:role/cu-ledger-ops' } as const;

export interface SynthesizedApp extends CuLedgerStacks {
  readonly app: App;
  readonly stateful: CuLedgerStacks['stateful'];
  readonly statefulTemplate: Template;
  readonly statelessTemplate: Template;
}

export function synthesize(options: { context?: Record<string, unknown>; registries?: CuLedgerRegistries } = {}): SynthesizedApp {
  const app = new App({ context: { ...CDK_CONTEXT, ...TEST_JWT_CONTEXT, ...TEST_SERVICE_CALLERS_CONTEXT, ...options.context, 'aws:cdk:bundling-stacks': [] } });
  const stacks = buildCuLedger(app, options.registries);
  return {
    app,
    ...stacks,
    statefulTemplate: Template.fromStack(stacks.stateful),
    statelessTemplate: Template.fromStack(stacks.stateless),
  };
}

/** Every resource of a type in a template, as `[logicalId, resource]`. */
export function resourcesOf(template: Template, type: string): [string, { Properties: any; DeletionPolicy?: string; UpdateReplacePolicy?: string }][] {
  return Object.entries(template.findResources(type)) as any;
}

/** The one resource of a type in a template; fails when there is not exactly one. */
export function onlyResource(template: Template, type: string): { Properties: any; DeletionPolicy?: string } {
  const resources = resourcesOf(template, type);
  if (resources.length !== 1) throw new Error(`Expected one ${type}, found ${resources.length}.`);
  return resources[0]![1];
}
