// The synthesized templates hold the deployment's promises: every route behind an authorizer, every function on
// Node.js 22 arm64 with only the grants its registry entry names, a recoverable streaming table, a private bucket,
// jobs with retries and dead letters, and alarms. Checked on today's registries and on fixtures that use every kind.

import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ANALYTICS_GATEWAY_ANSWERS } from '../../infra/analytics-gateway-responses';
import { ANALYTICS_AUTHORIZER, API_AREAS, DASHBOARD, type DeployedFunction } from '../../infra/api-routes';
import { ANALYTICS_AUTHORIZER_CACHE } from '../../infra/constructs/analytics-api';
import { STREAM_BATCH_SIZE, STREAM_MAX_RECORD_AGE, STREAM_RETRY_ATTEMPTS, TABLE_STREAM_READ_ACTIONS } from '../../infra/constructs/background-job';
import { createLedgerTableInput } from '../../infra/local/dynamodb-local';
import { BACKGROUND_JOBS, type BackgroundJob } from '../../infra/scheduled-jobs';
import { LEDGER_STREAM_FILTERS, LEDGER_TABLE_DEFINITION } from '../../shared/adapters/dynamodb/ledger-table';
import { SERVICE_CALLERS_UNSET_WARNING } from '../../infra/stacks/stateless-stack';
import { SERVICE_CALLER_ARNS_ENV } from '../../shared/http/principal';
import { exportKeys, monthTarget } from '../../shared/domain/finance-export';
import { EVENT_COLUMNS } from '../../shared/domain/usage-rows';
import { onlyResource, resourcesOf, synthesize, TEST_JWT_CONTEXT as JWT, TEST_SERVICE_CALLERS_CONTEXT, type SynthesizedApp } from '../support/cdk-app';
import { EVERY_KIND, WITH_ANALYTICS_ROUTES } from './fixtures/registries';

const deployed = synthesize();
const everyKind = synthesize({ registries: EVERY_KIND });
/** Today's deployment once analytics routes exist (the usage routes): the authorizer as deployed, nothing added. */
const withAnalytics = synthesize({ registries: WITH_ANALYTICS_ROUTES });
const production = synthesize({ context: { stage: 'prod' } });

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

/** A function of the template by its name, as `[logicalId, resource]`. */
function functionNamed(template: Template, functionName: string) {
  const found = resourcesOf(template, 'AWS::Lambda::Function').find(([, resource]) => resource.Properties.FunctionName === functionName);
  if (!found) throw new Error(`No function named ${functionName}.`);
  return found;
}

/** The IAM statements attached to a function's role, found through the role the function runs as. */
function statementsOf(template: Template, functionName: string): Statement[] {
  const [, fn] = functionNamed(template, functionName);
  const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
  return resourcesOf(template, 'AWS::IAM::Policy')
    .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
    .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

const sortBy = (attributes: { AttributeName: string }[]) => [...attributes].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName));
const actionsOf = (statement: Statement) => [statement.Action].flat();

/** Each (action, resource) pair a function's role allows; policy minimization may merge statements, this undoes it. */
function grantsOf(template: Template, functionName: string): { action: string; resource: string }[] {
  return statementsOf(template, functionName).flatMap((statement) =>
    actionsOf(statement).flatMap((action) => [statement.Resource].flat().map((resource) => ({ action, resource: JSON.stringify(resource) }))),
  );
}
/** The REST API's methods by `METHOD /path`, the path put together from the resources' path parts. */
function restMethods(template: Template): Map<string, any> {
  const resources = new Map(resourcesOf(template, 'AWS::ApiGateway::Resource').map(([id, resource]) => [id, resource.Properties]));
  const pathOf = (parent: { Ref?: string }): string => {
    const resource = parent.Ref === undefined ? undefined : resources.get(parent.Ref);
    return resource ? `${pathOf(resource.ParentId)}/${resource.PathPart}` : '';
  };
  return new Map(resourcesOf(template, 'AWS::ApiGateway::Method').map(([, method]) => [`${method.Properties.HttpMethod} ${pathOf(method.Properties.ResourceId)}`, method.Properties]));
}
const isStream = (resource: string) => resource.includes('LedgerTable') && resource.includes('StreamArn');
const isTable = (resource: string) => resource.includes('LedgerTable') && !resource.includes('/index/') && !isStream(resource);
const readsStream = (job: BackgroundJob | undefined) => job !== undefined && 'tableStream' in job.trigger;

describe('every route', () => {
  it('has an authorizer: IAM for the service routes, none only on a public route (the OpenAPI document); analytics routes are on the Analytics API', () => {
    const routes = resourcesOf(deployed.statelessTemplate, 'AWS::ApiGatewayV2::Route');
    // Analytics areas the service calls too (analytics keys) are on both APIs: IAM on the HTTP API for the service.
    const httpApiRouteKeys = API_AREAS.filter((area) => area.auth !== 'analytics' || area.serviceToo === true).flatMap((area) => area.routeKeys);
    expect(routes.map(([, route]) => route.Properties.RouteKey).sort()).toEqual(httpApiRouteKeys.sort());
    const publicRouteKeys = API_AREAS.filter((area) => area.auth === 'public').flatMap((area) => area.routeKeys);
    expect(publicRouteKeys).toEqual(['GET /v1/openapi.json']);
    for (const [, route] of routes) {
      expect(route.Properties.AuthorizationType, route.Properties.RouteKey).toBe(publicRouteKeys.includes(route.Properties.RouteKey) ? 'NONE' : 'AWS_IAM');
    }
  });

  it('has the authorizer of its area: IAM for service, JWT for people, the analytics authorizer for analytics', () => {
    const expected = { service: 'AWS_IAM', human: 'JWT', public: 'NONE' } as const;
    const routes = new Map(resourcesOf(everyKind.statelessTemplate, 'AWS::ApiGatewayV2::Route').map(([, route]) => [route.Properties.RouteKey, route.Properties]));
    const [jwtAuthorizerId] = Object.keys(everyKind.statelessTemplate.findResources('AWS::ApiGatewayV2::Authorizer', { Properties: { AuthorizerType: 'JWT' } }));
    const [analyticsAuthorizerId] = Object.keys(everyKind.statelessTemplate.findResources('AWS::ApiGateway::Authorizer'));
    const methods = restMethods(everyKind.statelessTemplate);
    const analyticsRouteKeys = EVERY_KIND.areas.filter((area) => area.auth === 'analytics').flatMap((area) => area.routeKeys);
    expect([...methods.keys()].sort()).toEqual([...analyticsRouteKeys].sort());
    for (const area of EVERY_KIND.areas) {
      for (const routeKey of area.routeKeys) {
        if (area.auth === 'analytics') {
          expect(methods.get(routeKey)).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: analyticsAuthorizerId } });
          expect(routes.has(routeKey), `${routeKey} must not be on the HTTP API`).toBe(false);
          continue;
        }
        const route = routes.get(routeKey);
        expect(route?.AuthorizationType, routeKey).toBe(expected[area.auth]);
        if (area.auth === 'human') expect(route.AuthorizerId).toEqual({ Ref: jwtAuthorizerId });
      }
    }
    expect(routes.size).toBe(EVERY_KIND.areas.filter((area) => area.auth !== 'analytics').flatMap((area) => area.routeKeys).length);
    everyKind.statelessTemplate.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: JWT.jwtIssuer, Audience: [JWT.jwtAudience] },
    });
  });

  it('refuses to synthesize analytics routes without the analytics authorizer', () => {
    const { analyticsAuthorizer: _, ...withoutAuthorizer } = EVERY_KIND;
    expect(() => synthesize({ registries: withoutAuthorizer })).toThrow(/analytics authorizer/);
  });

  it('answers refused credentials with 401 and a Basic challenge, telling people to send a Bearer token, and caches checked credentials briefly', () => {
    everyKind.statelessTemplate.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseParameters: { 'gatewayresponse.header.WWW-Authenticate': Match.stringLikeRegexp("^'Basic realm=") },
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code":"unauthorized".*Authorization: Bearer <token>') },
    });
    const authorizer = onlyResource(everyKind.statelessTemplate, 'AWS::ApiGateway::Authorizer');
    expect(authorizer.Properties.Type).toBe('REQUEST');
    expect(authorizer.Properties.IdentitySource).toBe('method.request.header.Authorization');
    expect(authorizer.Properties.AuthorizerResultTtlInSeconds).toBe(ANALYTICS_AUTHORIZER_CACHE.toSeconds());
    expect(authorizer.Properties.AuthorizerResultTtlInSeconds).toBeLessThanOrEqual(300);
  });

  it('sits behind stage throttling and JSON access logs', () => {
    deployed.statelessTemplate.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
    });
    everyKind.statelessTemplate.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() })]),
    });
  });
});

describe('the Analytics API', () => {
  it('serves exactly the analytics routes of today, each behind the analytics authorizer, or is not deployed while there are none', () => {
    const routeKeys = API_AREAS.filter((area) => area.auth === 'analytics').flatMap((area) => area.routeKeys);
    // Besides them, the dashboard's page and files (GET and HEAD), the only methods without an authorizer.
    const pageKeys = DASHBOARD.paths.flatMap((path) => [`GET ${path}`, `HEAD ${path}`]);
    const methods = restMethods(deployed.statelessTemplate);
    expect([...methods.keys()].sort()).toEqual([...routeKeys, ...pageKeys].sort());
    for (const [routeKey, method] of methods) expect(method.AuthorizationType, routeKey).toBe(pageKeys.includes(routeKey) ? 'NONE' : 'CUSTOM');
    expect(resourcesOf(deployed.statelessTemplate, 'AWS::ApiGateway::RestApi')).toHaveLength(routeKeys.length > 0 ? 1 : 0);
  });

  it('answers a denied request and a failed authorizer in the API\'s error shape, as the local runner does', () => {
    for (const [type, answer] of [
      ['UNAUTHORIZED', ANALYTICS_GATEWAY_ANSWERS.unauthorized],
      ['ACCESS_DENIED', ANALYTICS_GATEWAY_ANSWERS.accessDenied],
      ['AUTHORIZER_FAILURE', ANALYTICS_GATEWAY_ANSWERS.authorizerFailure],
    ] as const) {
      const responses = resourcesOf(everyKind.statelessTemplate, 'AWS::ApiGateway::GatewayResponse').filter(([, response]) => response.Properties.ResponseType === type);
      expect(responses, type).toHaveLength(1);
      expect(responses[0]![1].Properties.StatusCode).toBe(String(answer.statusCode));
      expect(JSON.parse(responses[0]![1].Properties.ResponseTemplates['application/json'])).toEqual(JSON.parse(answer.body));
    }
  });

  it("serves the dashboard's page and files from a function that may touch nothing, with the OIDC client from the context", () => {
    const [dashboardId, fn] = functionNamed(withAnalytics.statelessTemplate, `cu-ledger-dev-${DASHBOARD.name}`);
    const methods = restMethods(withAnalytics.statelessTemplate);
    for (const path of DASHBOARD.paths) {
      for (const verb of ['GET', 'HEAD']) {
        const method = methods.get(`${verb} ${path}`);
        expect(method.AuthorizationType, path).toBe('NONE');
        expect(JSON.stringify(method.Integration.Uri), path).toContain(dashboardId);
      }
    }
    expect(fn.Properties.Environment.Variables).toMatchObject({
      DASHBOARD_OIDC_ISSUER: JWT.jwtIssuer,
      DASHBOARD_OIDC_CLIENT_ID: 'cu-ledger-dashboard',
      DASHBOARD_OIDC_SCOPE: 'openid',
      ORG_CLAIM: 'org_id',
    });
    expect(fn.Properties.Environment.Variables).not.toHaveProperty('DASHBOARD_OIDC_AUDIENCE');
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(10);
    // Its role may write its own logs (and traces); no table, secret, bus or bucket.
    expect(grantsOf(withAnalytics.statelessTemplate, `cu-ledger-dev-${DASHBOARD.name}`).map((grant) => grant.action).filter((action) => !action.startsWith('logs:') && !action.startsWith('xray:'))).toEqual([]);
    const configured = synthesize({
      registries: WITH_ANALYTICS_ROUTES,
      context: { ...JWT, dashboardIssuer: 'https://sso.example.com/tenant', dashboardClientId: 'spa-123', dashboardScope: 'openid profile', dashboardAudience: 'cu-ledger', orgClaim: 'https://example.com/org' },
    });
    expect(functionNamed(configured.statelessTemplate, `cu-ledger-dev-${DASHBOARD.name}`)[1].Properties.Environment.Variables).toMatchObject({
      DASHBOARD_OIDC_ISSUER: 'https://sso.example.com/tenant',
      DASHBOARD_OIDC_CLIENT_ID: 'spa-123',
      DASHBOARD_OIDC_SCOPE: 'openid profile',
      DASHBOARD_OIDC_AUDIENCE: 'cu-ledger',
      ORG_CLAIM: 'https://example.com/org',
    });
    const dashboardUrl = JSON.stringify(withAnalytics.statelessTemplate.toJSON().Outputs.DashboardUrl.Value);
    expect(dashboardUrl).toContain('/dashboard');
    expect(() => synthesize({ registries: WITH_ANALYTICS_ROUTES, context: { ...JWT, dashboardIssuer: 'http://sso.example.com' } })).toThrow(/dashboardIssuer/);
    expect(() => synthesize({ registries: WITH_ANALYTICS_ROUTES, context: { ...JWT, dashboardClientId: 'has space' } })).toThrow(/dashboardClientId/);
  });

  it("gives the authorizer the identity provider's settings, the JWKS next to the issuer unless told", () => {
    const [, fn] = functionNamed(withAnalytics.statelessTemplate, `cu-ledger-dev-${ANALYTICS_AUTHORIZER.name}`);
    expect(fn.Properties.Environment.Variables).toMatchObject({
      JWT_ISSUER: JWT.jwtIssuer,
      JWT_AUDIENCE: JWT.jwtAudience,
      JWKS_URL: 'https://login.example.com/.well-known/jwks.json',
      ORG_CLAIM: 'org_id',
    });
    const configured = synthesize({
      registries: WITH_ANALYTICS_ROUTES,
      context: { jwtIssuer: 'https://idp.example.com/tenant', jwksUrl: 'https://idp.example.com/keys', orgClaim: 'https://platform.example.com/org' },
    });
    expect(functionNamed(configured.statelessTemplate, `cu-ledger-dev-${ANALYTICS_AUTHORIZER.name}`)[1].Properties.Environment.Variables).toMatchObject({
      JWT_ISSUER: 'https://idp.example.com/tenant',
      JWKS_URL: 'https://idp.example.com/keys',
      ORG_CLAIM: 'https://platform.example.com/org',
    });
  });

  it("lets the authorizer read keys' records and the pepper, and note a key's use and its failed attempts in the table: nothing else", () => {
    const grants = grantsOf(withAnalytics.statelessTemplate, `cu-ledger-dev-${ANALYTICS_AUTHORIZER.name}`);
    expect([...new Set(grants.map((grant) => grant.action.split(':')[0]))].sort()).toEqual(['dynamodb', 'logs', 'secretsmanager', 'xray']);
    expect(grants.filter((grant) => grant.action.startsWith('dynamodb:')).map((grant) => grant.action).sort()).toEqual(['dynamodb:UpdateItem']);
    expect(grants.filter((grant) => grant.action.startsWith('secretsmanager:')).map((grant) => grant.action).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:GetSecretValue',
    ]);
    const [, fn] = functionNamed(withAnalytics.statelessTemplate, `cu-ledger-dev-${ANALYTICS_AUTHORIZER.name}`);
    // The function trusts a key's record as long as the gateway trusts its answer: one revocation delay, not two.
    expect(fn.Properties.Environment.Variables).toMatchObject({ KEY_STORE_PREFIX: 'cu-ledger/dev/analytics-keys/', KEY_CACHE_SECONDS: String(ANALYTICS_AUTHORIZER_CACHE.toSeconds()) });
  });

  it("sends every route to its area's function (the export streaming), whose role may read the table and nothing more (the keys' area: its records too)", () => {
    const areas = WITH_ANALYTICS_ROUTES.areas.filter((area) => area.auth === 'analytics');
    expect(areas.map((area) => [area.name, area.auth === 'analytics' && area.streaming === true])).toEqual([
      ['analytics', false],
      ['export', true],
      ['analytics-keys', false],
      ['finance-exports', false],
      ['alerts', false],
      ['people-admin', false],
    ]);
    const methods = restMethods(withAnalytics.statelessTemplate);
    const pageKeys = DASHBOARD.paths.flatMap((path) => [`GET ${path}`, `HEAD ${path}`]);
    expect([...methods.keys()].filter((routeKey) => !pageKeys.includes(routeKey)).sort()).toEqual(areas.flatMap((area) => area.routeKeys).sort());
    for (const area of areas) {
      const [functionId] = functionNamed(withAnalytics.statelessTemplate, `cu-ledger-dev-${area.name}`);
      const streaming = area.auth === 'analytics' && area.streaming === true;
      for (const routeKey of area.routeKeys) {
        const integration = methods.get(routeKey).Integration;
        expect(JSON.stringify(integration.Uri), routeKey).toContain(functionId);
        // A streamed answer needs the streaming invocation; every other route is a buffered proxy answer.
        expect([routeKey, integration.ResponseTransferMode ?? 'BUFFERED']).toEqual([routeKey, streaming ? 'STREAM' : 'BUFFERED']);
        if (streaming) expect(JSON.stringify(integration.Uri)).toContain('response-streaming-invocations');
      }
      const actions = grantsOf(withAnalytics.statelessTemplate, `cu-ledger-dev-${area.name}`).map((grant) => grant.action);
      expect(actions.filter((action) => action.startsWith('dynamodb:')).sort()).toEqual([...area.needs.table, ...(area.needs.indexes ?? []).map(() => 'dynamodb:Query')].sort());
      // Readers read; the keys' area writes a key's listing and its activity entry, the exports' area files a request.
      const writes: Record<string, string[]> = { 'analytics-keys': ['dynamodb:PutItem', 'dynamodb:UpdateItem'], 'finance-exports': ['dynamodb:PutItem'] };
      // People's admin writes are the provisioning transaction: the org checked, a scope (or the org) updated, an entry put; no lists.
      const peopleAdmin = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'];
      // The alerts' area reads what fired (Query) and writes its own items, the thresholds and the webhook (each put
      // beside a check of the org; the webhook deleted), never anything else.
      const expected =
        area.name === 'alerts'
          ? ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem']
          : area.name === 'people-admin'
            ? peopleAdmin
            : ['dynamodb:GetItem', 'dynamodb:Query', ...(writes[area.name] ?? [])];
      expect(area.needs.table).toEqual(expected);
    }
  });

  it('refuses at synth two routes that name one path level differently, which a REST API cannot deploy', () => {
    const analytics = WITH_ANALYTICS_ROUTES.areas.find((area) => area.auth === 'analytics')!;
    const clashing = { ...analytics, routeKeys: ['GET /v1/orgs/{orgId}/activity', 'GET /v1/orgs/{id}/usage'] };
    const registries = { ...WITH_ANALYTICS_ROUTES, areas: WITH_ANALYTICS_ROUTES.areas.map((area) => (area === analytics ? clashing : area)) };
    expect(() => synthesize({ registries })).toThrow(/after \/v1\/orgs differently \(\{orgId\}, \{id\}\)/);
  });
});

describe('every function', () => {
  const cases = [
    ['today', deployed],
    ['every kind', everyKind],
  ] as const;

  it.each(cases)('runs Node.js 22 on arm64 with JSON logs into a log group with retention (%s)', (_, synthesized) => {
    const functions = resourcesOf(synthesized.statelessTemplate, 'AWS::Lambda::Function');
    expect(functions.length).toBe(synthesized.stateless.functions.size);
    for (const [, fn] of functions) {
      expect(fn.Properties.Runtime, fn.Properties.FunctionName).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', LogGroup: expect.anything() });
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
    for (const [, group] of resourcesOf(synthesized.statelessTemplate, 'AWS::Logs::LogGroup')) {
      expect(group.Properties.RetentionInDays).toBe(30);
    }
  });

  it('keeps source maps off the metering hot path only', () => {
    const environment = (name: string) =>
      resourcesOf(deployed.statelessTemplate, 'AWS::Lambda::Function').find(([, fn]) => fn.Properties.FunctionName === name)![1].Properties
        .Environment.Variables;
    expect(environment('cu-ledger-dev-meter').NODE_OPTIONS).toBeUndefined();
    expect(environment('cu-ledger-dev-admin').NODE_OPTIONS).toBe('--enable-source-maps');
  });

  it('reserves concurrency where a runaway would cost money, never on the hot path, and not at all when told', () => {
    const reserved = (synthesized: typeof deployed, name: string) =>
      resourcesOf(synthesized.statelessTemplate, 'AWS::Lambda::Function').find(([, fn]) => fn.Properties.FunctionName === name)![1].Properties
        .ReservedConcurrentExecutions;
    expect(reserved(deployed, 'cu-ledger-dev-admin')).toBe(20);
    expect(reserved(deployed, 'cu-ledger-dev-meter')).toBeUndefined();
    const smallAccount = synthesize({ context: { reserveConcurrency: 'false' } });
    expect(reserved(smallAccount, 'cu-ledger-dev-admin')).toBeUndefined();
  });

  it.each(cases)('has no IAM statement with a * action anywhere (%s)', (_, synthesized) => {
    const documents = [synthesized.statefulTemplate, synthesized.statelessTemplate].flatMap((template) => [
      ...resourcesOf(template, 'AWS::IAM::Policy').map(([, policy]) => policy.Properties.PolicyDocument),
      ...resourcesOf(template, 'AWS::IAM::ManagedPolicy').map(([, policy]) => policy.Properties.PolicyDocument),
      ...resourcesOf(template, 'AWS::IAM::Role').flatMap(([, role]) => (role.Properties.Policies ?? []).map((p: any) => p.PolicyDocument)),
    ]);
    expect(documents.length).toBeGreaterThan(0);
    for (const statement of documents.flatMap((document) => document.Statement as Statement[])) {
      for (const action of actionsOf(statement)) expect(action).not.toContain('*');
    }
  });

  it.each([...everyKind.stateless.functions.values()].map((ledgerFunction) => [ledgerFunction.spec.name, ledgerFunction.spec] as const))(
    'grants %s exactly the table actions, secrets, bus and bucket its entry needs',
    (name, spec: DeployedFunction) => {
      const grants = grantsOf(everyKind.statelessTemplate, `cu-ledger-dev-${name}`);
      const actionsOn = (matches: (resource: string) => boolean) => grants.filter((grant) => matches(grant.resource)).map((grant) => grant.action).sort();
      const actions = grants.map((grant) => grant.action);
      expect(actionsOn(isTable)).toEqual([...spec.needs.table].sort());
      for (const index of ['gsi1', 'gsi2', 'gsi3']) {
        expect(actionsOn((resource) => resource.includes(`/index/${index}"`)), index).toEqual(spec.needs.indexes?.includes(index as never) ? ['dynamodb:Query'] : []);
      }
      const resourcesFor = (prefix: string) => [...new Set(grants.filter((grant) => grant.action.startsWith(prefix)).map((grant) => grant.resource))];
      expect(actionsOn((resource) => resource.includes('KeyPepper'))).toEqual(spec.needs.pepper ? ['secretsmanager:GetSecretValue'] : []);
      expect(actionsOn((resource) => resource.includes(':secret:cu-ledger/dev/analytics-keys/*'))).toEqual(
        spec.needs.keyStore === 'write'
          ? [
              'secretsmanager:CreateSecret',
              'secretsmanager:DeleteSecret',
              'secretsmanager:DescribeSecret',
              'secretsmanager:GetSecretValue',
              'secretsmanager:PutSecretValue',
              'secretsmanager:TagResource',
              'secretsmanager:UpdateSecretVersionStage',
            ]
          : spec.needs.keyStore === 'read'
            ? ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']
            : [],
      );
      expect(actionsOn((resource) => resource.includes('WebhookSigningKey'))).toEqual(spec.needs.webhookSigningKey ? ['secretsmanager:GetSecretValue'] : []);
      expect(resourcesFor('secretsmanager:').length).toBe(Number(Boolean(spec.needs.pepper)) + Number(Boolean(spec.needs.keyStore)) + Number(Boolean(spec.needs.webhookSigningKey)));
      expect(resourcesFor('events:')).toEqual(spec.needs.eventBus ? ['{"Fn::GetAtt":["EventBus7B8748AA","Arn"]}'] : []);
      expect(resourcesFor('s3:')).toEqual(
        spec.needs.exportBucket ? [expect.stringMatching(/:s3:::cu-ledger-dev-exports-",\{"Ref":"AWS::AccountId"\},"-",\{"Ref":"AWS::Region"\},"\/exports\/\*"/)] : [],
      );
      expect(actionsOn(() => true).filter((action) => action.startsWith('s3:'))).toEqual(spec.needs.exportBucket ? ['s3:AbortMultipartUpload', 's3:PutObject'] : []);
      const job = EVERY_KIND.jobs.find((candidate) => candidate.name === name);
      expect(actionsOn(isStream)).toEqual(readsStream(job) ? [...TABLE_STREAM_READ_ACTIONS].sort() : []);
      expect(grants.filter((grant) => TABLE_STREAM_READ_ACTIONS.includes(grant.action) && !isStream(grant.resource))).toEqual([]);
      const ownQueue = job !== undefined;
      expect(resourcesFor('sqs:')).toEqual(ownQueue ? [expect.stringContaining('DeadLetterQueue')] : []);
      for (const action of actions) expect(action).toMatch(/^(logs|dynamodb|secretsmanager|events|s3|sqs|xray):[A-Za-z]+$/);
    },
  );
});

describe('the table', () => {
  it('is on demand with point-in-time recovery, with exactly the keys and index the local runner creates', () => {
    const local = createLedgerTableInput('any');
    const table = onlyResource(deployed.statefulTemplate, 'AWS::DynamoDB::Table').Properties;
    expect(table.BillingMode).toBe(local.BillingMode);
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.KeySchema).toEqual(local.KeySchema);
    expect(table.GlobalSecondaryIndexes).toEqual(local.GlobalSecondaryIndexes);
    expect(sortBy(table.AttributeDefinitions)).toEqual(sortBy(local.AttributeDefinitions));
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: LEDGER_TABLE_DEFINITION.timeToLiveAttribute, Enabled: true });
  });

  it('streams new and old images, like the table the local runner creates', () => {
    const local = createLedgerTableInput('any');
    const table = onlyResource(deployed.statefulTemplate, 'AWS::DynamoDB::Table').Properties;
    expect(local.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(table.StreamSpecification).toEqual({ StreamViewType: local.StreamSpecification.StreamViewType });
  });

  it('is retained and protected from deletion in production, and disposable in dev', () => {
    const prodTable = onlyResource(production.statefulTemplate, 'AWS::DynamoDB::Table');
    expect(prodTable.DeletionPolicy).toBe('Retain');
    expect(prodTable.Properties.DeletionProtectionEnabled).toBe(true);
    const devTable = onlyResource(deployed.statefulTemplate, 'AWS::DynamoDB::Table');
    expect(devTable.DeletionPolicy).toBe('Delete');
    expect(devTable.Properties.DeletionProtectionEnabled).toBe(false);
    for (const [, resource] of [
      ...resourcesOf(production.statefulTemplate, 'AWS::S3::Bucket'),
      ...resourcesOf(production.statefulTemplate, 'AWS::SecretsManager::Secret'),
    ]) {
      expect(resource.DeletionPolicy).toBe('Retain');
    }
  });
});

describe('the export bucket', () => {
  it('empties itself when a dev stack is destroyed, and never in production', () => {
    expect(resourcesOf(deployed.statefulTemplate, 'Custom::S3AutoDeleteObjects')).toHaveLength(2);
    expect(resourcesOf(production.statefulTemplate, 'Custom::S3AutoDeleteObjects')).toHaveLength(0);
  });

  it('is encrypted, blocks every public access and expires old exports', () => {
    const buckets = resourcesOf(deployed.statefulTemplate, 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(2); // exports and their access logs
    for (const [, bucket] of buckets) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      expect(bucket.Properties.LifecycleConfiguration.Rules.length).toBeGreaterThan(0);
    }
    deployed.statefulTemplate.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'export-bucket/' }),
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 2557, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } })]) },
    });
  });

  it('refuses every request that is not over TLS', () => {
    const policies = resourcesOf(deployed.statefulTemplate, 'AWS::S3::BucketPolicy');
    expect(policies).toHaveLength(2);
    for (const [, policy] of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });
});

describe('the export catalog', () => {
  const table = () => onlyResource(deployed.statefulTemplate, 'AWS::Glue::Table').Properties;
  const [bucketId] = Object.keys(deployed.statefulTemplate.findResources('AWS::S3::Bucket', { Properties: { BucketName: Match.anyValue() } }));
  /** A template string with the bucket's Ref put back as `<bucket>`. */
  const withBucket = (value: unknown): string =>
    typeof value === 'string' ? value : (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part) === JSON.stringify({ Ref: bucketId }) ? '<bucket>' : JSON.stringify(part))).join('');

  it('is one Glue database with one events table, no crawler', () => {
    const database = onlyResource(deployed.statefulTemplate, 'AWS::Glue::Database').Properties;
    expect(database.DatabaseInput.Name).toBe('cu_ledger_dev_exports');
    expect(table().DatabaseName).toBe('cu_ledger_dev_exports');
    expect(table().TableInput.Name).toBe('events');
    expect(deployed.statefulTemplate.findResources('AWS::Glue::Crawler')).toEqual({});
  });

  it('reads the events CSVs of the export bucket in the order EVENT_COLUMNS writes them, skipping the header', () => {
    const input = table().TableInput;
    expect(input.StorageDescriptor.Columns.map((column: { Name: string }) => column.Name)).toEqual(EVENT_COLUMNS.map((column) => column.toLowerCase()));
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.serde2.OpenCSVSerde');
    expect(input.Parameters['skip.header.line.count']).toBe('1');
    expect(withBucket(input.StorageDescriptor.Location)).toBe('s3://<bucket>/exports/events/');
  });

  it('finds its partitions by projection: the org injected, the month a range of months up to now', () => {
    const input = table().TableInput;
    expect(input.PartitionKeys).toEqual([
      { Name: 'org_id', Type: 'string' },
      { Name: 'month', Type: 'string' },
    ]);
    expect(input.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.org_id.type': 'injected',
      'projection.month.type': 'date',
      'projection.month.format': 'yyyy-MM',
      'projection.month.range': '2020-01,NOW',
      'projection.month.interval': '1',
      'projection.month.interval.unit': 'MONTHS',
    });
    expect(withBucket(input.Parameters['storage.location.template'])).toBe('s3://<bucket>/exports/events/org_id=${org_id}/month=${month}/');
  });

  it('lays its location template over the very keys the export writes', () => {
    const template = withBucket(table().TableInput.Parameters['storage.location.template']);
    const written = `s3://<bucket>/${exportKeys('org_1', monthTarget('2026-05')).events}`;
    expect(written.startsWith(template.replace('${org_id}', 'org_1').replace('${month}', '2026-05'))).toBe(true);
  });
});

describe('secrets', () => {
  it('generates the pepper in Secrets Manager and never puts a secret value in a template', () => {
    deployed.statefulTemplate.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'cu-ledger/dev/pepper',
      GenerateSecretString: Match.objectLike({ PasswordLength: 64 }),
    });
    expect(JSON.stringify(deployed.statefulTemplate.toJSON())).not.toMatch(/"SecretString"/);
  });

  it('confines the key-store grants to the key-store prefix', () => {
    const keyStore = grantsOf(everyKind.statelessTemplate, `cu-ledger-dev-${ANALYTICS_AUTHORIZER.name}`).filter((grant) => grant.resource.includes('analytics-keys/'));
    for (const grant of keyStore) expect(grant.resource).toContain(':secret:cu-ledger/dev/analytics-keys/*');
    expect(keyStore.map((grant) => grant.action).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
  });
});

describe('background jobs', () => {
  const jobFunction = (name: string) => functionNamed(deployed.statelessTemplate, `cu-ledger-dev-${name}`);
  const [tableId] = Object.keys(deployed.statefulTemplate.findResources('AWS::DynamoDB::Table'));
  const deadLetterQueueArn = (name: string) => {
    const [queueId] = resourcesOf(deployed.statelessTemplate, 'AWS::SQS::Queue').find(([, queue]) => queue.Properties.QueueName === `cu-ledger-dev-${name}-dlq`)!;
    return { 'Fn::GetAtt': [queueId, 'Arn'] };
  };
  /** What a stateless `Fn::ImportValue` stands for: the value the stateful stack exports under that name. */
  const imported = (value: { 'Fn::ImportValue': string }) =>
    Object.values(deployed.statefulTemplate.toJSON().Outputs as Record<string, { Value: unknown; Export: { Name: string } }>).find(
      (output) => output.Export.Name === value['Fn::ImportValue'],
    )?.Value;

  it('deploys period rollover, top-up expiry, the ledger stream, the monthly export, the finance export and the alert webhook jobs on Node.js 22 arm64', () => {
    expect(BACKGROUND_JOBS.map((job) => job.name)).toEqual(['period-rollover', 'top-up-expiry', 'ledger-stream', 'monthly-export', 'finance-export', 'alert-webhook']);
    for (const job of BACKGROUND_JOBS) {
      const [, fn] = jobFunction(job.name);
      expect(fn.Properties.Runtime, job.name).toBe('nodejs22.x');
      expect(fn.Properties.Architectures, job.name).toEqual(['arm64']);
    }
  });

  it('runs rollover and expiry every five minutes, with retries and a dead-letter queue', () => {
    const schedules = new Map(resourcesOf(deployed.statelessTemplate, 'AWS::Scheduler::Schedule').map(([, schedule]) => [schedule.Properties.Name, schedule.Properties]));
    expect([...schedules.keys()].sort()).toEqual(['cu-ledger-dev-monthly-export', 'cu-ledger-dev-period-rollover', 'cu-ledger-dev-top-up-expiry']);
    for (const name of ['period-rollover', 'top-up-expiry']) {
      const schedule = schedules.get(`cu-ledger-dev-${name}`);
      expect(schedule.ScheduleExpression).toBe('rate(5 minutes)');
      expect(schedule.Target.Arn).toEqual({ 'Fn::GetAtt': [jobFunction(name)[0], 'Arn'] });
      expect(schedule.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 21600 });
      expect(schedule.Target.DeadLetterConfig.Arn).toEqual(deadLetterQueueArn(name));
    }
  });

  it('reads the table stream in order, halves a failing batch, and files what still fails in the job dead-letter queue', () => {
    const mapping = onlyResource(deployed.statelessTemplate, 'AWS::Lambda::EventSourceMapping').Properties;
    expect(mapping.FunctionName).toEqual({ Ref: jobFunction('ledger-stream')[0] });
    expect(imported(mapping.EventSourceArn)).toEqual({ 'Fn::GetAtt': [tableId, 'StreamArn'] });
    expect(mapping).toMatchObject({
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: STREAM_BATCH_SIZE,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: STREAM_RETRY_ATTEMPTS,
      MaximumRecordAgeInSeconds: STREAM_MAX_RECORD_AGE.toSeconds(),
      ParallelizationFactor: 1,
    });
    expect(mapping.DestinationConfig.OnFailure.Destination).toEqual(deadLetterQueueArn('ledger-stream'));
    const patterns = mapping.FilterCriteria.Filters.map((filter: { Pattern: string }) => JSON.parse(filter.Pattern));
    expect(patterns).toEqual(LEDGER_STREAM_FILTERS);
  });

  it('lets only the stream job publish on the bus, and read the stream on the stream alone', () => {
    const grants = (name: string) => grantsOf(deployed.statelessTemplate, `cu-ledger-dev-${name}`);
    expect(grants('ledger-stream').filter((grant) => grant.action === 'events:PutEvents').map((grant) => grant.resource)).toEqual([
      JSON.stringify({ 'Fn::GetAtt': [Object.keys(deployed.statelessTemplate.findResources('AWS::Events::EventBus'))[0], 'Arn'] }),
    ]);
    const streamReads = grants('ledger-stream').filter((grant) => TABLE_STREAM_READ_ACTIONS.includes(grant.action));
    expect(streamReads.map((grant) => grant.action).sort()).toEqual([...TABLE_STREAM_READ_ACTIONS].sort());
    for (const grant of streamReads) expect(imported(JSON.parse(grant.resource))).toEqual({ 'Fn::GetAtt': [tableId, 'StreamArn'] });
    expect(grants('ledger-stream').filter((grant) => isStream(grant.resource)).length).toBe(TABLE_STREAM_READ_ACTIONS.length);
    for (const name of ['period-rollover', 'top-up-expiry']) {
      expect(grants(name).map((grant) => grant.action), name).not.toContain('events:PutEvents');
      expect(grants(name).filter((grant) => isStream(grant.resource)), name).toEqual([]);
    }
  });

  it('gives the stream job no asynchronous retry settings: the mapping retries and files its failures', () => {
    const configured = resourcesOf(deployed.statelessTemplate, 'AWS::Lambda::EventInvokeConfig').map(([, config]) => config.Properties.FunctionName.Ref);
    expect(configured.sort()).toEqual(['period-rollover', 'top-up-expiry', 'monthly-export', 'finance-export', 'alert-webhook'].map((name) => jobFunction(name)[0]).sort());
  });

  it('runs the monthly export on the 1st of each month (UTC), a few times that day, with retries and a dead-letter queue', () => {
    const schedule = resourcesOf(deployed.statelessTemplate, 'AWS::Scheduler::Schedule').find(([, candidate]) => candidate.Properties.Name === 'cu-ledger-dev-monthly-export')![1].Properties;
    const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = /^cron\((.*)\)$/.exec(schedule.ScheduleExpression)![1]!.split(' ');
    expect({ dayOfMonth, month, dayOfWeek, year }).toEqual({ dayOfMonth: '1', month: '*', dayOfWeek: '?', year: '*' });
    expect(hours!.split(',').length).toBeGreaterThan(1);
    expect(Number(minutes)).toBeLessThan(60);
    expect(schedule.ScheduleExpressionTimezone ?? 'Etc/UTC').toBe('Etc/UTC');
    expect(schedule.Target.Arn).toEqual({ 'Fn::GetAtt': [jobFunction('monthly-export')[0], 'Arn'] });
    expect(schedule.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 21600 });
    expect(schedule.Target.DeadLetterConfig.Arn).toEqual(deadLetterQueueArn('monthly-export'));
    // It files requests and publishes them; the files are the finance-export job's to write.
    const grants = grantsOf(deployed.statelessTemplate, 'cu-ledger-dev-monthly-export');
    expect(grants.filter((grant) => grant.action === 'events:PutEvents')).toHaveLength(1);
    expect(grants.filter((grant) => grant.action.startsWith('s3:'))).toEqual([]);
  });

  it('runs the finance export on FinanceExportRequested, BillingPeriodReset and BillingPeriodRestarted, with retries and a dead-letter queue, writing only under exports/', () => {
    const rules = resourcesOf(deployed.statelessTemplate, 'AWS::Events::Rule').map(([, rule]) => rule.Properties);
    const rule = rules.find((candidate) => candidate.Name === 'cu-ledger-dev-finance-export')!;
    expect(rule.EventPattern).toEqual({ 'detail-type': ['FinanceExportRequested', 'BillingPeriodReset', 'BillingPeriodRestarted'] });
    expect(rule.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [jobFunction('finance-export')[0], 'Arn'] });
    expect(rule.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 21600 });
    expect(rule.Targets[0].DeadLetterConfig.Arn).toEqual(deadLetterQueueArn('finance-export'));
    const s3Grants = grantsOf(deployed.statelessTemplate, 'cu-ledger-dev-finance-export').filter((grant) => grant.action.startsWith('s3:'));
    expect(s3Grants.map((grant) => grant.action).sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
    for (const grant of s3Grants) expect(grant.resource).toMatch(/\/exports\/\*/);
    // Not the whole bucket, not `*`, by any statement of any role in either stack.
    const writes = (template: Template) =>
      resourcesOf(template, 'AWS::IAM::Policy')
        .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Statement[])
        .filter((statement) => actionsOf(statement).some((action) => ['s3:PutObject', 's3:*', '*'].includes(action)))
        .flatMap((statement) => [statement.Resource].flat().map((resource) => JSON.stringify(resource)));
    const everyWrite = [...writes(deployed.statelessTemplate), ...writes(deployed.statefulTemplate)];
    expect(everyWrite.length).toBeGreaterThan(0);
    for (const resource of everyWrite) {
      expect(resource).not.toBe('"*"');
      expect(resource).toMatch(/\/exports\/\*"\]\]\}$/);
    }
    // The route only files and publishes the request: no bucket access of its own.
    expect(grantsOf(deployed.statelessTemplate, 'cu-ledger-dev-finance-exports').filter((grant) => grant.action.startsWith('s3:'))).toEqual([]);
  });

  it('delivers cost alerts on UsageThresholdCrossed and ProjectedExhaustion: the rule retries, a failed run is re-run, then dead-lettered', () => {
    const rules = resourcesOf(deployed.statelessTemplate, 'AWS::Events::Rule').map(([, rule]) => rule.Properties);
    const rule = rules.find((candidate) => candidate.Name === 'cu-ledger-dev-alert-webhook')!;
    expect(rule.EventPattern).toEqual({ 'detail-type': ['UsageThresholdCrossed', 'ProjectedExhaustion'] });
    const [functionId, fn] = jobFunction('alert-webhook');
    expect(rule.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [functionId, 'Arn'] });
    // Delivery to the function is retried by the rule; the function's own failures (a webhook down after every try)
    // are re-run by Lambda, then filed with their error in the job's dead-letter queue.
    expect(rule.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 21600 });
    expect(rule.Targets[0].DeadLetterConfig.Arn).toEqual(deadLetterQueueArn('alert-webhook'));
    const invokeConfig = resourcesOf(deployed.statelessTemplate, 'AWS::Lambda::EventInvokeConfig').find(([, config]) => config.Properties.FunctionName.Ref === functionId)![1];
    expect(invokeConfig.Properties).toMatchObject({ MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: deadLetterQueueArn('alert-webhook') } } });
    // It reads the webhook and the signing key, and nothing more: no writes, no bus, no bucket, no other secret.
    const grants = grantsOf(deployed.statelessTemplate, 'cu-ledger-dev-alert-webhook').filter((grant) => !/^(logs|xray|sqs):/.test(grant.action));
    expect(grants.map((grant) => grant.action).sort()).toEqual(['dynamodb:GetItem', 'secretsmanager:GetSecretValue']);
    expect(grants.find((grant) => grant.action === 'secretsmanager:GetSecretValue')!.resource).toContain('WebhookSigningKey');
    expect(fn.Properties.Environment.Variables.WEBHOOK_SIGNING_KEY_ARN).toBeDefined();
    expect(fn.Properties.Environment.Variables.CU_LEDGER_ALLOW_LOCAL_WEBHOOKS).toBeUndefined();
  });

  it('generates the webhook signing key in Secrets Manager, apart from the pepper', () => {
    deployed.statefulTemplate.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'cu-ledger/dev/webhook-signing-key',
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
  });

  it('runs each schedule with retries and a dead-letter queue, in UTC', () => {
    const schedules = resourcesOf(everyKind.statelessTemplate, 'AWS::Scheduler::Schedule');
    expect(schedules.map(([, schedule]) => schedule.Properties.Name).sort()).toEqual(
      EVERY_KIND.jobs.filter((job) => 'schedule' in job.trigger).map((job) => `cu-ledger-dev-${job.name}`).sort(),
    );
    for (const [, schedule] of schedules) {
      expect(schedule.Properties.Target.DeadLetterConfig.Arn).toBeDefined();
      expect(schedule.Properties.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 21600 });
      expect(schedule.Properties.ScheduleExpressionTimezone ?? 'Etc/UTC').toBe('Etc/UTC');
    }
  });

  it('runs each bus rule with retries and a dead-letter queue', () => {
    const rules = resourcesOf(everyKind.statelessTemplate, 'AWS::Events::Rule');
    expect(rules.map(([, rule]) => rule.Properties.EventPattern).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      { 'detail-type': ['FinanceExportRequested', 'BillingPeriodReset', 'BillingPeriodRestarted'] },
      { 'detail-type': ['usage.threshold_crossed'] },
      { 'detail-type': ['UsageThresholdCrossed', 'ProjectedExhaustion'] },
    ]);
    for (const [, rule] of rules) {
      expect(rule.Properties.Targets[0].DeadLetterConfig.Arn).toBeDefined();
      expect(rule.Properties.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 21600 });
    }
  });

  it('sends a failed run to its dead-letter queue after retrying, where Lambda invokes it asynchronously (not from the stream)', () => {
    const configs = resourcesOf(everyKind.statelessTemplate, 'AWS::Lambda::EventInvokeConfig');
    expect(configs).toHaveLength(EVERY_KIND.jobs.filter((job) => !readsStream(job)).length);
    for (const [, config] of configs) {
      expect(config.Properties.MaximumRetryAttempts).toBe(2);
      expect(config.Properties.DestinationConfig.OnFailure.Destination).toBeDefined();
    }
  });
});

describe('alarms', () => {
  it('watches errors and throttles of every function, API 5xx, DLQ depth, stream lag and transaction conflicts', () => {
    const template = everyKind.statelessTemplate;
    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    const on = (metric: string, dimension: string, ref: string) =>
      alarms.filter((alarm) => alarm.MetricName === metric && alarm.Dimensions?.some((d: any) => d.Name === dimension && d.Value?.Ref === ref));
    for (const [id, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
      const isAuthorizer = fn.Properties.FunctionName === `cu-ledger-dev-${ANALYTICS_AUTHORIZER.name}`;
      // The authorizer refuses wrong credentials by failing; its Errors would page on every typo and expired token.
      expect(on('Errors', 'FunctionName', id), fn.Properties.FunctionName).toHaveLength(isAuthorizer ? 0 : 1);
      expect(on('Throttles', 'FunctionName', id), fn.Properties.FunctionName).toHaveLength(1);
      const streamJob = readsStream(EVERY_KIND.jobs.find((job) => `cu-ledger-dev-${job.name}` === fn.Properties.FunctionName));
      expect(on('IteratorAge', 'FunctionName', id), fn.Properties.FunctionName).toHaveLength(streamJob ? 1 : 0);
    }
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(EVERY_KIND.jobs.length);
    for (const [id] of queues) {
      const depth = alarms.filter(
        (alarm) =>
          alarm.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          alarm.Dimensions.some((d: any) => d.Name === 'QueueName' && JSON.stringify(d.Value).includes(id)),
      );
      expect(depth, id).toHaveLength(1);
      expect(depth[0].Threshold).toBe(1);
    }
    expect(alarms.filter((alarm) => alarm.Namespace === 'AWS/ApiGateway' && alarm.MetricName === '5xx')).toHaveLength(1);
    expect(alarms.filter((alarm) => alarm.Namespace === 'AWS/ApiGateway' && alarm.MetricName === '5XXError')).toHaveLength(1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'TransactionConflict',
      Namespace: 'AWS/DynamoDB',
      Dimensions: [{ Name: 'TableName', Value: Match.anyValue() }],
      Threshold: 100,
    });
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
  });
});

describe('service callers', () => {
  /** The roles TEST_SERVICE_CALLERS_CONTEXT names, in its order. */
  const listed = TEST_SERVICE_CALLERS_CONTEXT.serviceCallerArns.split(',');
  /** Each function's service caller list, by function name (undefined: none). */
  const callerLists = (synthesized: SynthesizedApp) =>
    Object.fromEntries(
      resourcesOf(synthesized.statelessTemplate, 'AWS::Lambda::Function').map(([, fn]) => [fn.Properties.FunctionName, fn.Properties.Environment?.Variables?.[SERVICE_CALLER_ARNS_ENV]]),
    );
  const unsetWarnings = (synthesized: SynthesizedApp) => Annotations.fromStack(synthesized.stateless).findWarning('*', Match.stringLikeRegexp(SERVICE_CALLERS_UNSET_WARNING));

  it.each([
    ['today', deployed, API_AREAS],
    ['every kind', everyKind, EVERY_KIND.areas],
  ] as const)('are handed to exactly the functions of service (IAM) routes, as a JSON array (%s)', (_, synthesized, areas) => {
    // The service routes' functions, and those of analytics areas the service calls too (on the HTTP API, over IAM).
    const serviceFunctions = areas.filter((area) => area.auth === 'service' || (area.auth === 'analytics' && area.serviceToo === true)).map((area) => `cu-ledger-dev-${area.name}`);
    expect(serviceFunctions.length).toBeGreaterThan(0);
    const lists = callerLists(synthesized);
    expect(Object.keys(lists).length).toBeGreaterThan(serviceFunctions.length);
    for (const [functionName, list] of Object.entries(lists)) {
      expect([functionName, list]).toEqual([functionName, serviceFunctions.includes(functionName) ? JSON.stringify(listed) : undefined]);
    }
    expect(unsetWarnings(synthesized)).toEqual([]);
  });

  it('are taken from -c as a JSON array or comma-separated, or from cdk.json as an array, alike', () => {
    for (const serviceCallerArns of [JSON.stringify(listed), ` ${listed.join(' , ')} `, listed]) {
      expect(callerLists(synthesize({ context: { serviceCallerArns } }))['cu-ledger-dev-meter']).toBe(JSON.stringify(listed));
    }
  });

  it('may be left out: no function gets a list (its handler admits any IAM caller), and the synth warns', () => {
    const unlisted = synthesize({ context: { serviceCallerArns: undefined } });
    expect(Object.values(callerLists(unlisted)).filter((list) => list !== undefined)).toEqual([]);
    expect(unsetWarnings(unlisted)).toHaveLength(1);
    expect(unsetWarnings(unlisted)[0]!.entry.data).toMatch(/any IAM principal of the account .* serviceCallerArns/);
  });

  it.each([
    ['an IAM user', 'arn:aws:iam::123456789012:user/backend', /context "serviceCallerArns\.0": must be an IAM role ARN: arn:aws:iam::<12-digit account>:role\/<optional path\/><name>/],
    ['a session ARN', 'arn:aws:sts::123456789012:assumed-role/backend/s1', /context "serviceCallerArns\.0": must be an IAM role ARN/],
    ['a bad second entry', 'arn:aws:iam::123456789012:role/backend,arn:aws:iam::1234:role/x', /context "serviceCallerArns\.1": must be an IAM role ARN/],
    ['a wildcard', 'arn:aws:iam::123456789012:role/*', /context "serviceCallerArns\.0": must be an IAM role ARN/],
    ['broken JSON', '["arn:aws:iam::123456789012:role/backend"', /context "serviceCallerArns": must be a JSON array or a comma-separated list of IAM role ARNs/],
    ['a JSON object (read as one comma-separated entry)', '{"arn":"arn:aws:iam::123456789012:role/backend"}', /context "serviceCallerArns\.0": must be an IAM role ARN/],
    ['nothing (an unset shell variable)', '', /context "serviceCallerArns": must name at least one IAM role ARN/],
    ['an empty JSON array', '[]', /context "serviceCallerArns": must name at least one IAM role ARN/],
  ])('stop the synth on %s, naming the entry at fault', (_, serviceCallerArns, message) => {
    expect(() => synthesize({ context: { serviceCallerArns } })).toThrow(message);
  });
});

describe('context', () => {
  it('stops the synth on a bad value and names the key', () => {
    expect(() => synthesize({ context: { stage: 'staging' } })).toThrow(/context "stage"/);
    expect(() => synthesize({ context: { logRetentionDays: 31 } })).toThrow(/context "logRetentionDays"/);
    expect(() => synthesize({ context: { alarmEmail: 'not-an-address' } })).toThrow(/context "alarmEmail"/);
    expect(() => synthesize({ context: { exportRetentionDays: 100 } })).toThrow(/context "exportRetentionDays": must be more than 365/);
  });

  it('requires the identity provider that signs people in, over https, naming the keys at fault', () => {
    expect(() => synthesize({ context: { jwtIssuer: undefined, jwtAudience: undefined } })).toThrow(
      /context "jwtIssuer": is required: the issuer URL .*; context "jwtAudience": is required/,
    );
    expect(() => synthesize({ context: { jwtIssuer: 'login.example.com' } })).toThrow(/context "jwtIssuer": must be an https URL/);
    expect(() => synthesize({ context: { jwksUrl: 'http://login.example.com/keys' } })).toThrow(/context "jwksUrl": must be an https URL/);
    expect(() => synthesize({ context: { orgClaim: 'org id' } })).toThrow(/context "orgClaim": must be a claim name/);
  });

  it('subscribes the alarm address when one is given', () => {
    const withEmail = synthesize({ context: { alarmEmail: 'oncall@example.com' } });
    withEmail.statelessTemplate.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    expect(resourcesOf(deployed.statelessTemplate, 'AWS::SNS::Subscription')).toHaveLength(0);
  });
});
