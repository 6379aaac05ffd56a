// The Analytics API: the read routes for people (an OIDC JWT as `Authorization: Bearer`) and, with a later issue,
// BI tools (HTTP Basic with an org's analytics key), both checked by one Lambda authorizer whose answer is cached
// briefly per Authorization header.
//
// It is a REST API, not part of the HTTP API: only REST APIs have gateway responses, and a 401 without
// `WWW-Authenticate: Basic` leaves browsers and BI connectors that wait for the challenge without a way to ask for
// credentials. REST APIs hand the Lambda the payload v1 event, so analytics handlers read that shape.
//
// The authorizer's contract: throw `Unauthorized` for missing or wrong credentials (the gateway answers the
// challenge), and on success allow the whole API (`arn:...:<apiId>/<stage>/*`), not just `methodArn`, because its
// answer is cached per Authorization header and reused for every analytics route.

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  IdentitySource,
  LambdaIntegration,
  ResponseTransferMode,
  LogGroupLogDestination,
  Method,
  MethodLoggingLevel,
  RequestAuthorizer,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ANALYTICS_GATEWAY_ANSWERS, type GatewayAnswer } from '../analytics-gateway-responses';
import type { DeploymentConfig } from '../deployment-config';

/**
 * How long checked credentials stay trusted at the gateway: an expired token may outlive its `exp` by up to this; a
 * revoked or rotated-out key secret stops working within twice this at worst (the authorizer caches key records as
 * long, and an answer cached from a record read just before the change lasts this long again).
 */
export const ANALYTICS_AUTHORIZER_CACHE = Duration.seconds(60);

/** A streamed answer may take as long as its function (API Gateway allows streaming integrations up to 15 minutes). */
export const STREAMING_INTEGRATION_TIMEOUT = Duration.minutes(5);

export interface AnalyticsRoute {
  readonly routeKey: string;
  readonly handler: IFunction;
  /** The function streams its answer (the CSV export): the integration invokes it with response streaming. */
  readonly streaming?: boolean;
}

/** Pages anyone may load (GET and HEAD, no authorizer): the usage dashboard's, which hold no data. */
export interface AnalyticsPages {
  readonly handler: IFunction;
  readonly paths: readonly string[];
}

export interface AnalyticsApiProps {
  readonly config: DeploymentConfig;
  readonly authorizer: IFunction;
  readonly routes: readonly AnalyticsRoute[];
  readonly pages?: AnalyticsPages;
}

export class AnalyticsApi extends Construct {
  readonly api: RestApi;
  /** The methods without an authorizer (the dashboard's pages). */
  readonly publicMethods: Method[] = [];

  constructor(scope: Construct, id: string, props: AnalyticsApiProps) {
    super(scope, id);
    const { config } = props;
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: config.logRetentionDays as RetentionDays, removalPolicy: RemovalPolicy.DESTROY });
    this.api = new RestApi(this, 'Api', {
      restApiName: `${config.prefix}-analytics`,
      description: 'CU Ledger Analytics API (read-only: people with a JWT, BI tools with an org analytics key)',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      // REST API stages can log (access or execution) only once the region's API Gateway account settings name a
      // CloudWatch role; this sets it, and keeps it when the stack goes since other APIs may rely on it.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: 'api',
        throttlingRateLimit: Math.max(1, Math.floor(config.apiRateLimit / 10)),
        throttlingBurstLimit: Math.max(1, Math.floor(config.apiBurstLimit / 10)),
        tracingEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
      },
    });
    // The stack outputs this URL beside the HTTP API's, named and described; the construct's own output would be neither.
    this.api.node.tryRemoveChild('Endpoint');
    // The handler checks every field and names the one at fault. The validator checks whatever parameters a method
    // declares (none yet), so the gateway can turn away malformed requests once they do.
    const validator = this.api.addRequestValidator('Validator', { validateRequestParameters: true, validateRequestBody: true });
    const authorizer = new RequestAuthorizer(this, 'AnalyticsAuthorizer', {
      handler: props.authorizer,
      identitySources: [IdentitySource.header('Authorization')],
      resultsCacheTtl: ANALYTICS_AUTHORIZER_CACHE,
    });
    // What the gateway answers by itself, in the API's error shape (the local runner answers the same).
    const answer = (id: string, type: ResponseType, { statusCode, headers, body }: GatewayAnswer) =>
      this.api.addGatewayResponse(id, {
        type,
        statusCode: String(statusCode),
        responseHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, `'${value}'`])),
        templates: { 'application/json': body },
      });
    answer('Unauthorized', ResponseType.UNAUTHORIZED, ANALYTICS_GATEWAY_ANSWERS.unauthorized);
    answer('AccessDenied', ResponseType.ACCESS_DENIED, ANALYTICS_GATEWAY_ANSWERS.accessDenied);
    answer('AuthorizerFailure', ResponseType.AUTHORIZER_FAILURE, ANALYTICS_GATEWAY_ANSWERS.authorizerFailure);
    assertOneVariablePerLevel(props.routes.map((route) => route.routeKey));
    for (const route of props.routes) {
      const [method, path] = route.routeKey.split(' ') as [string, string];
      this.api.root
        .resourceForPath(path)
        .addMethod(method, new LambdaIntegration(route.handler, route.streaming ? { responseTransferMode: ResponseTransferMode.STREAM, timeout: STREAMING_INTEGRATION_TIMEOUT } : {}), {
          authorizer,
          authorizationType: AuthorizationType.CUSTOM,
          requestValidator: validator,
        });
    }
    if (props.pages) {
      const integration = new LambdaIntegration(props.pages.handler);
      for (const path of props.pages.paths) {
        for (const method of ['GET', 'HEAD']) {
          this.publicMethods.push(this.api.root.resourceForPath(path).addMethod(method, integration, { authorizationType: AuthorizationType.NONE }));
        }
      }
    }
  }
}

/**
 * A REST API resource may have one variable child (`/v1/x/{id}`), so two routes that name one level differently
 * (`{id}` and `{orgId}`) cannot both deploy. API Gateway says so only at deploy time; this says it at synth.
 */
function assertOneVariablePerLevel(routeKeys: readonly string[]): void {
  const variables = new Map<string, Set<string>>();
  for (const routeKey of routeKeys) {
    const segments = routeKey.split(' ')[1]!.split('/');
    segments.forEach((segment, index) => {
      if (!segment.startsWith('{')) return;
      const parent = segments.slice(0, index).join('/');
      variables.set(parent, (variables.get(parent) ?? new Set()).add(segment));
    });
  }
  for (const [parent, names] of variables) {
    if (names.size > 1) throw new Error(`Analytics routes name the path level after ${parent || '/'} differently (${[...names].join(', ')}): a REST API allows one name there.`);
  }
}
