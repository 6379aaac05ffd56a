// The code and its wiring, redeployable at will: one Lambda per area behind the HTTP API, the background jobs and
// their triggers, the event bus, and the alarms that say when any of it misbehaves.

import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpNoneAuthorizer, HttpStage, LogGroupLogDestination, type HttpRoute, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ApiArea, DeployedFunction } from '../api-routes';
import { AnalyticsApi, STREAMING_INTEGRATION_TIMEOUT, type AnalyticsRoute } from '../constructs/analytics-api';
import { ApiCustomDomain } from '../constructs/api-custom-domain';
import { DASHBOARD_BASE_PATH } from '../../functions/dashboard/dashboard-page';
import { BackgroundJobTrigger } from '../constructs/background-job';
import { LedgerFunction, type Invocation, type LedgerResources } from '../constructs/ledger-function';
import { InvalidContextError, type DeploymentConfig } from '../deployment-config';
import { exportBucketName } from './stateful-stack';
import type { BackgroundJob } from '../scheduled-jobs';

export interface StatelessStackProps extends StackProps {
  readonly config: DeploymentConfig;
  readonly table: ITable;
  /** The table's stream, which stream jobs read. */
  readonly tableStreamArn: string;
  readonly pepper: ISecret;
  /** The key each org's cost-alert webhook secret is derived from. */
  readonly webhookSigningKey: ISecret;
  readonly keyStorePrefix: string;
  readonly areas: readonly ApiArea[];
  readonly jobs: readonly BackgroundJob[];
  /** The Analytics API's authorizer (people's JWTs, later analytics keys); required once an area's routes use `analytics` auth. */
  readonly analyticsAuthorizer?: DeployedFunction;
  /** The usage dashboard's page, served on the Analytics API without an authorizer (deployed with that API). */
  readonly dashboard?: DeployedFunction & { readonly paths: readonly string[] };
}

/** The id of the synth warning for a deployment without service caller roles (acknowledge it to keep `--strict`). */
export const SERVICE_CALLERS_UNSET_WARNING = 'cu-ledger:serviceCallerArnsUnset';

/** API Gateway gives an integration 30 s; the function stops first so the caller gets our answer, not a gateway 503. */
const HTTP_FUNCTION_TIMEOUT = Duration.seconds(25);
const JOB_FUNCTION_TIMEOUT = Duration.minutes(5);
const ALARM_PERIOD = Duration.minutes(5);
/** A stream job whose oldest unhandled record is this old is falling behind: refills and published events are late. */
const STREAM_LAG_ALARM = Duration.minutes(15);

export class StatelessStack extends Stack {
  readonly httpApi: HttpApi;
  readonly apiStage: HttpStage;
  /** Routes anyone may call, without credentials (`public` areas). */
  readonly publicRoutes: HttpRoute[] = [];
  readonly functions = new Map<string, LedgerFunction>();
  readonly deadLetterQueues: Queue[] = [];
  readonly analyticsApi: AnalyticsApi | undefined;
  /** Both APIs under one host, when the deployment names a custom domain. */
  readonly customDomain: ApiCustomDomain | undefined;
  readonly alarmTopic: Topic;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { config } = props;

    const eventBus = new EventBus(this, 'EventBus', { eventBusName: `${config.prefix}-events` });
    const resources: LedgerResources = {
      table: props.table,
      pepper: props.pepper,
      webhookSigningKey: props.webhookSigningKey,
      keyStorePrefix: props.keyStorePrefix,
      eventBus,
      exportBucket: Bucket.fromBucketName(this, 'ExportBucket', exportBucketName(config)),
    };
    this.alarmTopic = new Topic(this, 'AlarmTopic', { topicName: `${config.prefix}-alarms`, enforceSSL: true });
    if (config.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(config.alarmEmail));
    const alarm = (name: string, metric: IMetric, threshold: number, description: string) => {
      const created = new Alarm(this, `${name}Alarm`, {
        alarmName: `${config.prefix}-${name}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(this.alarmTopic));
    };
    // An authorizer refuses wrong credentials by failing the invocation: its Errors metric counts refusals, not faults.
    const deploy = (spec: DeployedFunction, timeout: Duration, options: { invocation?: Invocation; alarmOnErrors?: boolean } = {}) => {
      const { invocation = { kind: 'synchronous' }, alarmOnErrors = true } = options;
      const ledgerFunction = new LedgerFunction(this, `${pascal(spec.name)}Function`, { spec, config, resources, timeout, invocation });
      this.functions.set(spec.name, ledgerFunction);
      const fn = ledgerFunction.function;
      if (alarmOnErrors) alarm(`${pascal(spec.name)}Errors`, fn.metricErrors({ period: ALARM_PERIOD }), 1, `${spec.name}: invocations failed (crash or timeout)`);
      alarm(`${pascal(spec.name)}Throttles`, fn.metricThrottles({ period: ALARM_PERIOD }), 1, `${spec.name}: invocations throttled`);
      return fn;
    };

    // The HTTP API: every service and human route; throttled at the stage, access-logged as JSON.
    this.httpApi = new HttpApi(this, 'HttpApi', { apiName: `${config.prefix}-api`, createDefaultStage: false });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: config.logRetentionDays as RetentionDays, removalPolicy: RemovalPolicy.DESTROY });
    this.apiStage = new HttpStage(this, 'HttpApiStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.apiRateLimit, burstLimit: config.apiBurstLimit },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: httpAccessLogFormat() },
    });
    const authorizers = httpAuthorizers(config, props.areas);
    const analyticsRoutes: AnalyticsRoute[] = [];
    for (const area of props.areas) {
      const streaming = area.auth === 'analytics' && area.streaming === true;
      // A streamed export writes as it reads: it may take minutes, within its integration's own timeout.
      const fn = deploy(area, streaming ? STREAMING_INTEGRATION_TIMEOUT : HTTP_FUNCTION_TIMEOUT);
      if (area.auth === 'analytics') {
        analyticsRoutes.push(...area.routeKeys.map((routeKey) => ({ routeKey, handler: fn, streaming })));
        // Routes the service calls too (managing analytics keys) are on the HTTP API as well, with IAM.
        if (area.serviceToo !== true) continue;
      }
      // One invoke permission per function rather than per route: the resource policy stays small as routes grow.
      const integration = new HttpLambdaIntegration(`${pascal(area.name)}Integration`, fn, { scopePermissionToRoute: false });
      const authorizer = authorizers[area.auth === 'analytics' ? 'service' : area.auth];
      for (const routeKey of area.routeKeys) {
        const [method, path] = routeKey.split(' ') as [HttpMethod, string];
        const routes = this.httpApi.addRoutes({ path, methods: [method], integration, authorizer });
        if (area.auth === 'public') this.publicRoutes.push(...routes);
      }
    }
    alarm('Api5xx', this.apiStage.metricServerError({ period: ALARM_PERIOD }), 1, 'HTTP API answered 5xx');

    // A REST API cannot deploy without a method: the API and its authorizer come with the first analytics route.
    if (analyticsRoutes.length > 0) {
      if (!props.analyticsAuthorizer) throw new Error('Analytics routes need the analytics authorizer function (analyticsAuthorizer).');
      const authorizer = deploy(props.analyticsAuthorizer, Duration.seconds(10), { alarmOnErrors: false });
      const pages = props.dashboard ? { handler: deploy(props.dashboard, HTTP_FUNCTION_TIMEOUT), paths: props.dashboard.paths } : undefined;
      this.analyticsApi = new AnalyticsApi(this, 'AnalyticsApi', { config, authorizer, routes: analyticsRoutes, ...(pages ? { pages } : {}) });
      alarm('AnalyticsApi5xx', this.analyticsApi.api.metricServerError({ period: ALARM_PERIOD }), 1, 'Analytics API answered 5xx (the authorizer or a handler failed)');
    }

    for (const job of props.jobs) {
      const deadLetterQueue = new Queue(this, `${pascal(job.name)}DeadLetterQueue`, {
        queueName: `${config.prefix}-${job.name}-dlq`,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      this.deadLetterQueues.push(deadLetterQueue);
      const fromStream = 'tableStream' in job.trigger;
      const fn = deploy(job, JOB_FUNCTION_TIMEOUT, { invocation: fromStream ? { kind: 'stream' } : { kind: 'asynchronous', deadLetterQueue } });
      new BackgroundJobTrigger(this, `${pascal(job.name)}Trigger`, {
        job,
        prefix: config.prefix,
        handler: fn,
        deadLetterQueue,
        eventBus,
        tableStreamArn: props.tableStreamArn,
      });
      alarm(
        `${pascal(job.name)}DeadLetters`,
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: 'Maximum' }),
        1,
        `${job.name}: runs that failed after retries are waiting in the dead-letter queue`,
      );
      if (fromStream) {
        alarm(
          `${pascal(job.name)}StreamLag`,
          fn.metric('IteratorAge', { period: ALARM_PERIOD, statistic: 'Maximum' }),
          STREAM_LAG_ALARM.toMilliseconds(),
          `${job.name}: the oldest table-stream record it has not handled is ${STREAM_LAG_ALARM.toHumanString()} old or more`,
        );
      }
    }

    // Conflicts are retried by the service; a storm of them means one org is hotter than its items can take.
    alarm(
      'TransactionConflicts',
      props.table.metric('TransactionConflict', { period: ALARM_PERIOD, statistic: 'Sum' }),
      config.transactionConflictAlarmThreshold,
      'DynamoDB transaction conflicts on the ledger table (retried, but a sign of a hot org)',
    );

    // What the platform's backend role needs to call the service routes: attach this policy to it. Only IAM-authorized
    // routes consult it, so naming all of /v1 grants nothing on routes that take a JWT or an analytics key.
    if (props.areas.some((area) => area.auth === 'service')) {
      const serviceCaller = new ManagedPolicy(this, 'ServiceCallerPolicy', {
        managedPolicyName: `${config.prefix}-service-caller`,
        description: 'Lets the platform backend call the CU Ledger service routes (IAM SigV4)',
        statements: [new PolicyStatement({ actions: ['execute-api:Invoke'], resources: [this.serviceRoutesArn()] })],
      });
      new CfnOutput(this, 'ServiceCallerPolicyArn', { value: serviceCaller.managedPolicyArn, description: 'Attach to the platform backend role' });
      if (!config.serviceCallerArns) {
        Validations.of(this).addWarning(
          SERVICE_CALLERS_UNSET_WARNING,
          'No serviceCallerArns: the service routes admit any IAM principal of the account allowed execute-api:Invoke. Name the platform backend role(s) with -c serviceCallerArns=arn:aws:iam::<account>:role/<name> to refuse every other caller.',
        );
      }
    }

    // Each API keeps its execute-api URL, custom domain or not: the outputs say which is which.
    new CfnOutput(this, 'ApiUrl', { value: this.apiStage.url, description: 'HTTP API (the platform backend over IAM SigV4, and the public OpenAPI document)' });
    if (this.analyticsApi) {
      new CfnOutput(this, 'AnalyticsApiUrl', { value: this.analyticsApi.api.url, description: 'Analytics API (BI tools with an analytics key, people with a JWT)' });
      if (props.dashboard) {
        const host = config.customDomain ? `https://${config.customDomain.name}/` : this.analyticsApi.api.url;
        // An output's description must be a literal: the redirect URI to register is this URL followed by /callback.
        new CfnOutput(this, 'DashboardUrl', { value: `${host}dashboard`, description: `The usage dashboard; register this URL + /callback as a redirect URI of OIDC client ${config.dashboardClientId}` });
      }
    }
    if (config.customDomain) {
      // With one host, a Bearer token goes to the Analytics API: a JWT route on the HTTP API could not be reached.
      const humanRoutes = props.areas.filter((area) => area.auth === 'human').flatMap((area) => area.routeKeys);
      if (humanRoutes.length > 0) {
        throw new InvalidContextError(
          `Invalid CDK context "customDomainName": the custom domain sends every Bearer token to the Analytics API, so the HTTP API's JWT routes (${humanRoutes.join(', ')}) could not be reached through it; serve them on the Analytics API instead.`,
        );
      }
      this.customDomain = new ApiCustomDomain(this, 'CustomDomain', {
        domain: config.customDomain,
        httpApi: this.httpApi,
        httpStage: this.apiStage,
        analyticsStage: this.analyticsApi?.api.deploymentStage,
        // A browser opening the dashboard sends no Authorization header: its path takes it to the Analytics API.
        analyticsBasePaths: props.dashboard && this.analyticsApi ? [DASHBOARD_BASE_PATH] : [],
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn, description: 'Subscribe to alarm notifications' });
    new CfnOutput(this, 'EventBusName', { value: eventBus.eventBusName });
  }

  /** Every route under /v1 on the stage, for `execute-api:Invoke`. */
  serviceRoutesArn(): string {
    return this.httpApi.arnForExecuteApi('*', '/v1/*', '$default');
  }
}

/** One authorizer per kind of caller on the HTTP API (the deployment config always names the identity provider). */
function httpAuthorizers(config: DeploymentConfig, areas: readonly ApiArea[]): Record<'service' | 'human' | 'public', IHttpRouteAuthorizer | undefined> {
  const needsJwt = areas.some((area) => area.auth === 'human');
  return {
    service: new HttpIamAuthorizer(),
    human: needsJwt ? new HttpJwtAuthorizer('HumanJwtAuthorizer', config.jwtIssuer, { jwtAudience: [config.jwtAudience] }) : undefined,
    // Said outright, so a public route reads as one (and cdk-nag's finding on it is acknowledged route by route).
    public: new HttpNoneAuthorizer(),
  };
}

function httpAccessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: '$context.requestId',
      time: '$context.requestTime',
      routeKey: '$context.routeKey',
      status: '$context.status',
      latencyMs: '$context.responseLatency',
      integrationLatencyMs: '$context.integrationLatency',
      sourceIp: '$context.identity.sourceIp',
      caller: '$context.identity.userArn',
      integrationError: '$context.integrationErrorMessage',
      authorizerError: '$context.authorizer.error',
    }),
  );
}

function pascal(name: string): string {
  return name.replace(/(^|[-_])(\w)/g, (_, __, letter: string) => letter.toUpperCase());
}
