// The Analytics API for BI tools: HTTP Basic with an org's analytics key, checked by a Lambda authorizer whose
// answer is cached briefly per Authorization header.
//
// It is a REST API, not part of the HTTP API: only REST APIs have gateway responses, and a 401 without
// `WWW-Authenticate: Basic` leaves browsers and BI connectors that wait for the challenge without a way to ask for
// credentials. REST APIs hand the Lambda the payload v1 event, so analytics handlers read that shape.
//
// The authorizer's contract: throw `Unauthorized` for a missing or wrong key (the gateway answers the challenge),
// and on success allow the whole API (`arn:...:<apiId>/<stage>/*`), not just `methodArn`, because its answer is
// cached per Authorization header and reused for every analytics route.

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  IdentitySource,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestAuthorizer,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../deployment-config';

/** How long a checked key stays trusted at the gateway: a revoked or rotated key stops working within this. */
export const ANALYTICS_AUTHORIZER_CACHE = Duration.seconds(60);

export interface AnalyticsRoute {
  readonly routeKey: string;
  readonly handler: IFunction;
}

export interface AnalyticsApiProps {
  readonly config: DeploymentConfig;
  readonly authorizer: IFunction;
  readonly routes: readonly AnalyticsRoute[];
}

export class AnalyticsApi extends Construct {
  readonly api: RestApi;

  constructor(scope: Construct, id: string, props: AnalyticsApiProps) {
    super(scope, id);
    const { config } = props;
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: config.logRetentionDays as RetentionDays, removalPolicy: RemovalPolicy.DESTROY });
    this.api = new RestApi(this, 'Api', {
      restApiName: `${config.prefix}-analytics`,
      description: 'CU Ledger Analytics API (HTTP Basic with an org analytics key, read-only)',
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
    // The handler checks every field and names the one at fault. The validator checks whatever parameters a method
    // declares (none yet), so the gateway can turn away malformed requests once they do.
    const validator = this.api.addRequestValidator('Validator', { validateRequestParameters: true, validateRequestBody: true });
    const authorizer = new RequestAuthorizer(this, 'AnalyticsKeyAuthorizer', {
      handler: props.authorizer,
      identitySources: [IdentitySource.header('Authorization')],
      resultsCacheTtl: ANALYTICS_AUTHORIZER_CACHE,
    });
    // The authorizer answers "Unauthorized" for a missing or wrong key; the gateway turns that into the challenge.
    this.api.addGatewayResponse('Unauthorized', {
      type: ResponseType.UNAUTHORIZED,
      statusCode: '401',
      responseHeaders: { 'WWW-Authenticate': `'Basic realm="CU Ledger Analytics", charset="UTF-8"'` },
      templates: {
        'application/json': JSON.stringify({
          error: { code: 'unauthorized', message: 'Send Authorization: Basic base64(<key>:<secret>) with an analytics key.' },
        }),
      },
    });
    for (const route of props.routes) {
      const [method, path] = route.routeKey.split(' ') as [string, string];
      this.api.root
        .resourceForPath(path)
        .addMethod(method, new LambdaIntegration(route.handler), { authorizer, authorizationType: AuthorizationType.CUSTOM, requestValidator: validator });
    }
  }
}
