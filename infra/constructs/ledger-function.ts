// One Lambda of the service with the defaults fixed once: Node.js 22 on arm64, bundled and minified by the local
// esbuild, JSON logs into its own log group with retention, X-Ray, and a role that holds only what the function's
// `needs` name.

import { Arn, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { servesServiceRoutes, type DeployedFunction } from '../api-routes';
import { bundleSettings, REPOSITORY_ROOT } from '../bundling';
import { JOB_MAX_EVENT_AGE, JOB_RUN_RETRIES } from './background-job';
import { ANALYTICS_AUTHORIZER_CACHE } from './analytics-api';
import type { DeploymentConfig } from '../deployment-config';
import { SERVICE_CALLER_ARNS_ENV } from '../../shared/http/principal';

/** Everything a function may be granted; `needs` picks from it. */
export interface LedgerResources {
  readonly table: ITable;
  readonly pepper: ISecret;
  readonly webhookSigningKey: ISecret;
  readonly keyStorePrefix: string;
  readonly eventBus: IEventBus;
  readonly exportBucket: IBucket;
}

/** Where exports are written inside the bucket; the only prefix a function may write to. */
export const EXPORT_PREFIX = 'exports/';

/**
 * How the function is invoked, which decides where a failure goes:
 * - `synchronous`: API Gateway; the caller gets the error;
 * - `asynchronous`: a schedule or a bus rule; Lambda retries the run, then files it in the dead-letter queue;
 * - `stream`: an event source mapping; it retries the batch itself and files it in its own on-failure destination
 *   (Lambda's async settings never apply to such an invocation, so the function gets none).
 */
export type Invocation =
  | { readonly kind: 'synchronous' }
  | { readonly kind: 'asynchronous'; readonly deadLetterQueue: IQueue }
  | { readonly kind: 'stream' };

export interface LedgerFunctionProps {
  readonly spec: DeployedFunction;
  readonly config: DeploymentConfig;
  readonly resources: LedgerResources;
  /** HTTP functions answer inside API Gateway's 30 s; jobs may run longer. */
  readonly timeout: Duration;
  /** Decides the function's asynchronous retry and on-failure settings. */
  readonly invocation: Invocation;
}

export class LedgerFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly spec: DeployedFunction;
  /** How it is invoked: where its failures go (the cdk-nag acknowledgements say so per kind). */
  readonly invocation: Invocation['kind'];

  constructor(scope: Construct, id: string, props: LedgerFunctionProps) {
    super(scope, id);
    const { spec, config, resources } = props;
    this.spec = spec;
    this.invocation = props.invocation.kind;
    const functionName = `${config.prefix}-${spec.name}`;
    const hotPath = spec.hotPath ?? false;
    const bundle = bundleSettings({ hotPath });

    const logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: config.logRetentionDays as RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `CU Ledger ${spec.name}: only what the function needs`,
    });
    this.role.addToPolicy(new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
    for (const statement of grantsFor(spec, resources, Stack.of(this))) this.role.addToPolicy(statement);

    this.function = new NodejsFunction(this, 'Function', {
      functionName,
      description: `CU Ledger: ${spec.name}`,
      entry: join(REPOSITORY_ROOT, spec.entry),
      handler: 'handler',
      projectRoot: REPOSITORY_ROOT,
      depsLockFilePath: join(REPOSITORY_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      // Lambda's CPU grows with memory; the hot path buys the faster cold start and TLS handshakes.
      memorySize: hotPath ? 1024 : 512,
      timeout: props.timeout,
      role: this.role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      tracing: Tracing.ACTIVE,
      ...(config.reserveConcurrency && !hotPath && spec.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: spec.reservedConcurrency }
        : {}),
      // An on-failure destination rather than a classic DLQ: its record carries the error as well as the event.
      ...(props.invocation.kind === 'asynchronous'
        ? { onFailure: new SqsDestination(props.invocation.deadLetterQueue), retryAttempts: JOB_RUN_RETRIES, maxEventAge: JOB_MAX_EVENT_AGE }
        : {}),
      environment: {
        TABLE_NAME: resources.table.tableName,
        ...(spec.needs.pepper ? { PEPPER_SECRET_ARN: resources.pepper.secretArn } : {}),
        // The authorizer trusts a key's record as read for as long as the gateway trusts its answer (see ANALYTICS_AUTHORIZER_CACHE).
        ...(spec.needs.keyStore ? { KEY_STORE_PREFIX: resources.keyStorePrefix, KEY_CACHE_SECONDS: String(ANALYTICS_AUTHORIZER_CACHE.toSeconds()) } : {}),
        ...(spec.needs.webhookSigningKey ? { WEBHOOK_SIGNING_KEY_ARN: resources.webhookSigningKey.secretArn } : {}),
        ...(spec.needs.eventBus ? { EVENT_BUS_NAME: resources.eventBus.eventBusName } : {}),
        ...(spec.needs.exportBucket ? { EXPORT_BUCKET: resources.exportBucket.bucketName, EXPORT_PREFIX } : {}),
        ...(spec.needs.personTokens
          ? { JWT_ISSUER: config.jwtIssuer, JWT_AUDIENCE: config.jwtAudience, JWKS_URL: config.jwksUrl, ORG_CLAIM: config.orgClaim }
          : {}),
        // Unset, the handler admits any IAM caller; the stack warns at synth (see the stateless stack).
        ...(spec.needs.dashboardSettings
          ? {
              DASHBOARD_OIDC_ISSUER: config.dashboardIssuer,
              DASHBOARD_OIDC_CLIENT_ID: config.dashboardClientId,
              DASHBOARD_OIDC_SCOPE: config.dashboardScope,
              ...(config.dashboardAudience ? { DASHBOARD_OIDC_AUDIENCE: config.dashboardAudience } : {}),
              ORG_CLAIM: config.orgClaim,
            }
          : {}),
        ...(servesServiceRoutes(spec) && config.serviceCallerArns ? { [SERVICE_CALLER_ARNS_ENV]: JSON.stringify(config.serviceCallerArns) } : {}),
        ...(bundle.sourcemap ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
      },
      bundling: {
        target: bundle.target,
        format: OutputFormat.ESM,
        minify: bundle.minify,
        sourceMap: bundle.sourcemap,
        sourcesContent: false,
        mainFields: [...bundle.mainFields],
        banner: bundle.banner,
        externalModules: [...bundle.external],
        forceDockerBundling: false,
        ...(spec.bundlesDashboardAssets ? { commandHooks: dashboardAssetsHook } : {}),
      },
    });
  }
}

/** Writes the dashboard's script and stylesheet beside the function's bundle, built by the local esbuild as the code is. */
const dashboardAssetsHook: ICommandHooks = {
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (inputDir, outputDir) => [`cd "${inputDir}" && node_modules/.bin/tsx infra/dashboard-assets.ts --out "${outputDir}"`],
};

/** The IAM statements for a function's needs: named actions on named resources, never a `*` action. */
function grantsFor(spec: DeployedFunction, resources: LedgerResources, stack: Stack): PolicyStatement[] {
  const { needs } = spec;
  const statements: PolicyStatement[] = [];
  if (needs.table.length > 0) {
    statements.push(new PolicyStatement({ actions: [...needs.table], resources: [resources.table.tableArn] }));
  }
  if (needs.indexes?.length) {
    statements.push(new PolicyStatement({ actions: ['dynamodb:Query'], resources: needs.indexes.map((index) => `${resources.table.tableArn}/index/${index}`) }));
  }
  if (needs.pepper) {
    statements.push(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [resources.pepper.secretArn] }));
  }
  if (needs.webhookSigningKey) {
    statements.push(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [resources.webhookSigningKey.secretArn] }));
  }
  if (needs.keyStore) {
    const read = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
    // A change is a new version, then AWSCURRENT moved to it (the compare-and-swap); a creation tags the key's org.
    const write = ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage', 'secretsmanager:DeleteSecret', 'secretsmanager:TagResource'];
    // Secret ARNs end in a random suffix, and the keys are created at run time: the prefix is as narrow as it gets.
    const keyStoreArn = Arn.format({ service: 'secretsmanager', resource: 'secret', resourceName: `${resources.keyStorePrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack);
    statements.push(new PolicyStatement({ actions: needs.keyStore === 'write' ? [...read, ...write] : read, resources: [keyStoreArn] }));
  }
  if (needs.eventBus) {
    statements.push(new PolicyStatement({ actions: ['events:PutEvents'], resources: [resources.eventBus.eventBusArn] }));
  }
  if (needs.exportBucket) {
    statements.push(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [resources.exportBucket.arnForObjects(`${EXPORT_PREFIX}*`)],
      }),
    );
  }
  return statements;
}
