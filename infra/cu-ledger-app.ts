// The whole deployment as a function of a CDK app: the stateful and the stateless stack, built from the route and
// job registries. `infra/app.ts` runs it for the CDK CLI; the infra tests run it with fixture registries.

import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ANALYTICS_AUTHORIZER, API_AREAS, DASHBOARD, type ApiArea, type DeployedFunction } from './api-routes';
import { deploymentConfig, type DeploymentConfig } from './deployment-config';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import { BACKGROUND_JOBS, type BackgroundJob } from './scheduled-jobs';
import { StatefulStack } from './stacks/stateful-stack';
import { StatelessStack } from './stacks/stateless-stack';

export interface CuLedgerRegistries {
  readonly areas: readonly ApiArea[];
  readonly jobs: readonly BackgroundJob[];
  readonly analyticsAuthorizer?: DeployedFunction;
  /** The usage dashboard's page, on the Analytics API (deployed with it). */
  readonly dashboard?: DeployedFunction & { readonly paths: readonly string[] };
}

export interface CuLedgerStacks {
  readonly config: DeploymentConfig;
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
}

export const DEPLOYED_REGISTRIES: CuLedgerRegistries = { areas: API_AREAS, jobs: BACKGROUND_JOBS, analyticsAuthorizer: ANALYTICS_AUTHORIZER, dashboard: DASHBOARD };

export function buildCuLedger(app: App, registries: CuLedgerRegistries = DEPLOYED_REGISTRIES): CuLedgerStacks {
  const config = deploymentConfig((key) => app.node.tryGetContext(key));
  const stackName = (part: string) => `CuLedger-${config.stage}-${part}`;
  const stateful = new StatefulStack(app, stackName('Stateful'), {
    stackName: stackName('Stateful'),
    description: 'CU Ledger: ledger table, export bucket, secrets',
    config,
    terminationProtection: config.stage === 'prod',
  });
  const stateless = new StatelessStack(app, stackName('Stateless'), {
    stackName: stackName('Stateless'),
    description: 'CU Ledger: API, functions, schedules, alarms',
    config,
    table: stateful.table,
    tableStreamArn: stateful.tableStreamArn,
    pepper: stateful.pepper,
    webhookSigningKey: stateful.webhookSigningKey,
    keyStorePrefix: stateful.keyStorePrefix,
    ...registries,
  });
  acknowledgeNagFindings(config, stateful, stateless);
  return { config, stateful, stateless };
}

/** The rule packs the deployment is held to, on every synth and in the tests. */
export function nagPacks(app: App): [AwsSolutionsChecks, ServerlessChecks] {
  return [new AwsSolutionsChecks(app, { verbose: true }), new ServerlessChecks(app, { verbose: true })];
}

export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(...nagPacks(app));
}
