// One host for both APIs (the customDomain* context values): the domain, the HTTP API behind its empty mapping, the
// Analytics API behind a routing rule per credential scheme, the outputs that name the URLs, and the values refused.

import { describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { DEPLOYED_REGISTRIES } from '../../infra/cu-ledger-app';
import { onlyResource, resourcesOf, synthesize, TEST_CUSTOM_DOMAIN_CONTEXT } from '../support/cdk-app';
import { EVERY_KIND } from './fixtures/registries';

const { customDomainHostedZoneId: ZONE, ...ONE_HOST } = TEST_CUSTOM_DOMAIN_CONTEXT;
const CERTIFICATE = ONE_HOST.customDomainCertificateArn;
/** What AWS allows in a header glob (the ValueGlob property of AWS::ApiGatewayV2::RoutingRule): no space among them. */
const HEADER_GLOB = /^[A-Za-z0-9*?\-!#$%&'.^_`|~]{1,127}$/;

const separate = synthesize();
const oneHost = synthesize({ context: ONE_HOST });
const withZone = synthesize({ context: TEST_CUSTOM_DOMAIN_CONTEXT });

const DOMAIN_TYPES = ['AWS::ApiGatewayV2::DomainName', 'AWS::ApiGatewayV2::ApiMapping', 'AWS::ApiGatewayV2::RoutingRule', 'AWS::Route53::RecordSet'];
const logicalIdOf = (template: Template, type: string) => {
  const [found, ...others] = resourcesOf(template, type);
  if (!found || others.length > 0) throw new Error(`Expected one ${type}.`);
  return found[0];
};
const outputsOf = (template: Template): Record<string, { Value: unknown; Description?: string }> => template.toJSON().Outputs;

/**
 * Where the domain sends a request with this Authorization header, read from the template as API Gateway reads it:
 * the rules by priority (a glob matches the whole value, case-sensitively), then the empty mapping.
 */
function targetOf(template: Template, authorization: string | undefined, path = '/v1/usage'): { api: unknown; stage: unknown } | undefined {
  const rules = resourcesOf(template, 'AWS::ApiGatewayV2::RoutingRule')
    .map(([, rule]) => rule.Properties)
    .sort((a, b) => a.Priority - b.Priority);
  const matches = (glob: string) => authorization !== undefined && new RegExp(`^${glob.split('*').map((part) => part.replace(/[.?+^$|()[\]{}\\]/g, '\\$&')).join('.*')}$`).test(authorization);
  for (const rule of rules) {
    // A base path is the path's first segment; a header condition's globs are matched against the Authorization header.
    const met = rule.Conditions.every((condition: any) =>
      condition.MatchBasePaths
        ? condition.MatchBasePaths.AnyOf.includes(path.split('/')[1])
        : condition.MatchHeaders.AnyOf.some(({ Header, ValueGlob }: { Header: string; ValueGlob: string }) => Header.toLowerCase() === 'authorization' && matches(ValueGlob)),
    );
    if (met) return { api: rule.Actions[0].InvokeApi.ApiId, stage: rule.Actions[0].InvokeApi.Stage };
  }
  const mapping = resourcesOf(template, 'AWS::ApiGatewayV2::ApiMapping').find(([, candidate]) => candidate.Properties.ApiMappingKey === '');
  return mapping && { api: mapping[1].Properties.ApiId, stage: mapping[1].Properties.Stage };
}

describe('without a custom domain', () => {
  it('creates no domain, mapping, rule or record', () => {
    for (const type of DOMAIN_TYPES) expect(resourcesOf(separate.statelessTemplate, type), type).toHaveLength(0);
    expect(Object.keys(separate.statelessTemplate.toJSON().Rules ?? {}).filter((name) => name.includes('Certificate'))).toEqual([]);
  });

  it('outputs both URLs, each saying which API and for whom, and no single base URL', () => {
    const outputs = outputsOf(separate.statelessTemplate);
    expect(outputs).not.toHaveProperty('BaseUrl');
    expect(outputs.ApiUrl!.Description).toMatch(/^HTTP API .*backend.*SigV4.*OpenAPI/);
    expect(JSON.stringify(outputs.ApiUrl!.Value)).toContain(logicalIdOf(separate.statelessTemplate, 'AWS::ApiGatewayV2::Api'));
    expect(outputs.AnalyticsApiUrl!.Description).toMatch(/^Analytics API .*BI tools.*people/);
    const analyticsUrl = JSON.stringify(outputs.AnalyticsApiUrl!.Value);
    expect(analyticsUrl).toContain(logicalIdOf(separate.statelessTemplate, 'AWS::ApiGateway::RestApi'));
    expect(analyticsUrl).toContain(logicalIdOf(separate.statelessTemplate, 'AWS::ApiGateway::Stage'));
    // The construct's own unnamed endpoint output is gone: one output per API.
    expect(Object.keys(outputs).filter((name) => name.includes('Endpoint'))).toEqual([]);
  });
});

describe('with a custom domain (customDomainName, customDomainCertificateArn)', () => {
  const template = oneHost.statelessTemplate;
  const httpApiId = logicalIdOf(template, 'AWS::ApiGatewayV2::Api');
  const httpStageId = logicalIdOf(template, 'AWS::ApiGatewayV2::Stage');
  const restApiId = logicalIdOf(template, 'AWS::ApiGateway::RestApi');
  const restStageId = logicalIdOf(template, 'AWS::ApiGateway::Stage');
  const domainId = logicalIdOf(template, 'AWS::ApiGatewayV2::DomainName');

  it('creates a regional domain with TLS 1.2 and the certificate, routing rules first and then API mappings', () => {
    expect(onlyResource(template, 'AWS::ApiGatewayV2::DomainName').Properties).toEqual({
      DomainName: 'api.example.com',
      DomainNameConfigurations: [{ CertificateArn: CERTIFICATE, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }],
      RoutingMode: 'ROUTING_RULE_THEN_API_MAPPING',
    });
  });

  it("maps the domain's root to the HTTP API's $default stage, after the stage exists", () => {
    const mapping = onlyResource(template, 'AWS::ApiGatewayV2::ApiMapping') as { Properties: any; DependsOn?: string[] };
    expect(mapping.Properties).toEqual({ DomainName: { Ref: domainId }, ApiId: { Ref: httpApiId }, Stage: '$default', ApiMappingKey: '' });
    expect(onlyResource(template, 'AWS::ApiGatewayV2::Stage').Properties.StageName).toBe('$default');
    expect(mapping.DependsOn).toContain(httpStageId);
  });

  it("sends the dashboard's path, then Basic and Bearer credentials to the Analytics API's stage, path unchanged, one rule each at 50, 100 and 200", () => {
    const rules = resourcesOf(template, 'AWS::ApiGatewayV2::RoutingRule').map(([, rule]) => rule.Properties);
    expect(rules.map((rule) => [rule.Priority, rule.Conditions])).toEqual([
      [50, [{ MatchBasePaths: { AnyOf: ['dashboard'] } }]],
      [100, [{ MatchHeaders: { AnyOf: [{ Header: 'Authorization', ValueGlob: 'Basic*' }] } }]],
      [200, [{ MatchHeaders: { AnyOf: [{ Header: 'Authorization', ValueGlob: 'Bearer*' }] } }]],
    ]);
    for (const rule of rules) {
      expect(rule.DomainNameArn).toEqual({ 'Fn::GetAtt': [domainId, 'DomainNameArn'] });
      expect(rule.Actions).toEqual([{ InvokeApi: { ApiId: { Ref: restApiId }, Stage: { Ref: restStageId }, StripBasePath: false } }]);
      for (const { ValueGlob } of rule.Conditions[0].MatchHeaders?.AnyOf ?? []) expect(ValueGlob).toMatch(HEADER_GLOB);
    }
  });

  it('takes a browser opening the dashboard (no credentials) to the Analytics API, and says where to sign in', () => {
    const analyticsApi = { api: { Ref: restApiId }, stage: { Ref: restStageId } };
    expect(targetOf(template, undefined, '/dashboard')).toEqual(analyticsApi);
    expect(targetOf(template, undefined, '/dashboard/app.js')).toEqual(analyticsApi);
    expect(targetOf(template, undefined, '/v1/openapi.json')).toEqual({ api: { Ref: httpApiId }, stage: '$default' });
    expect(outputsOf(template).DashboardUrl).toEqual({ Value: 'https://api.example.com/dashboard', Description: expect.stringMatching(/\/callback as a redirect URI of OIDC client cu-ledger-dashboard/) });
  });

  it('lets the credential decide the API: SigV4 and no credentials reach the HTTP API, keys and tokens the Analytics API', () => {
    const httpApi = { api: { Ref: httpApiId }, stage: '$default' };
    const analyticsApi = { api: { Ref: restApiId }, stage: { Ref: restStageId } };
    const signed = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc';
    expect(targetOf(template, signed)).toEqual(httpApi);
    expect(targetOf(template, undefined)).toEqual(httpApi);
    expect(targetOf(template, 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig')).toEqual(analyticsApi);
    expect(targetOf(template, 'Bearer ak_live_123:s3cret')).toEqual(analyticsApi);
    expect(targetOf(template, `Basic ${Buffer.from('ak_live_123:s3cret').toString('base64')}`)).toEqual(analyticsApi);
  });

  it('outputs the one base URL and where to point DNS', () => {
    const outputs = outputsOf(template);
    expect(outputs.BaseUrl).toEqual({ Value: 'https://api.example.com/v1', Description: expect.stringMatching(/both APIs/) });
    expect(outputs.CustomDomainTarget!.Value).toEqual({ 'Fn::GetAtt': [domainId, 'RegionalDomainName'] });
    expect(outputs.CustomDomainTargetHostedZoneId!.Value).toEqual({ 'Fn::GetAtt': [domainId, 'RegionalHostedZoneId'] });
    // The execute-api URLs stay: the REST API keeps its default endpoint, which the domain does not replace.
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'AnalyticsApiUrl']));
  });

  it("refuses to deploy in a region other than the certificate's", () => {
    const rules = template.toJSON().Rules;
    const [regionRule] = Object.entries<any>(rules).filter(([name]) => name.includes('Certificate'));
    expect(regionRule![1].Assertions).toEqual([{ Assert: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] }, AssertDescription: expect.stringContaining('eu-west-1') }]);
  });

  it('puts an alias record in the hosted zone when one is named, and none otherwise', () => {
    expect(resourcesOf(template, 'AWS::Route53::RecordSet')).toHaveLength(0);
    const zoneDomainId = logicalIdOf(withZone.statelessTemplate, 'AWS::ApiGatewayV2::DomainName');
    expect(onlyResource(withZone.statelessTemplate, 'AWS::Route53::RecordSet').Properties).toEqual({
      HostedZoneId: ZONE,
      Name: 'api.example.com.',
      Type: 'A',
      AliasTarget: { DNSName: { 'Fn::GetAtt': [zoneDomainId, 'RegionalDomainName'] }, HostedZoneId: { 'Fn::GetAtt': [zoneDomainId, 'RegionalHostedZoneId'] } },
    });
  });

  it('maps everything to the HTTP API, with no rules, while there is no Analytics API', () => {
    const registries = { ...DEPLOYED_REGISTRIES, areas: DEPLOYED_REGISTRIES.areas.filter((area) => area.auth !== 'analytics') };
    const httpOnly = synthesize({ context: ONE_HOST, registries }).statelessTemplate;
    expect(onlyResource(httpOnly, 'AWS::ApiGatewayV2::DomainName').Properties.RoutingMode).toBe('API_MAPPING_ONLY');
    expect(resourcesOf(httpOnly, 'AWS::ApiGatewayV2::RoutingRule')).toHaveLength(0);
    expect(targetOf(httpOnly, 'Bearer eyJ.e30.sig')).toEqual({ api: { Ref: logicalIdOf(httpOnly, 'AWS::ApiGatewayV2::Api') }, stage: '$default' });
    expect(outputsOf(httpOnly)).not.toHaveProperty('AnalyticsApiUrl');
  });

  it("refuses JWT routes on the HTTP API, which a Bearer token could no longer reach", () => {
    expect(() => synthesize({ context: ONE_HOST, registries: EVERY_KIND })).toThrow(/context "customDomainName": .*GET \/v1\/orgs\/\{orgId\}\/usage\/summary/);
  });
});

describe('the custom domain context values', () => {
  it('takes both or neither of the domain and its certificate, and a hosted zone only with a domain', () => {
    expect(() => synthesize({ context: { customDomainName: 'api.example.com' } })).toThrow(/context "customDomainCertificateArn": is required with customDomainName/);
    expect(() => synthesize({ context: { customDomainCertificateArn: CERTIFICATE } })).toThrow(/context "customDomainName": is required with customDomainCertificateArn/);
    expect(() => synthesize({ context: { customDomainHostedZoneId: ZONE } })).toThrow(/context "customDomainName": is required with customDomainHostedZoneId/);
  });

  it.each([
    ['an IAM server certificate', 'arn:aws:iam::123456789012:server-certificate/api'],
    ['a short account', 'arn:aws:acm:eu-west-1:1234:certificate/0b1c2d3e'],
    ['no region', 'arn:aws:acm::123456789012:certificate/0b1c2d3e'],
    ['a certificate id alone', '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0'],
  ])('refuses a certificate ARN that is not ACM (%s)', (_, arn) => {
    expect(() => synthesize({ context: { ...ONE_HOST, customDomainCertificateArn: arn } })).toThrow(/context "customDomainCertificateArn": must be an ACM certificate ARN/);
  });

  it.each([['API.example.com'], ['api_v1.example.com'], ['localhost'], ['https://api.example.com'], ['api.example.com/v1'], ['-api.example.com'], ['']])(
    'refuses a domain name API Gateway cannot serve (%s)',
    (name) => {
      expect(() => synthesize({ context: { ...ONE_HOST, customDomainName: name } })).toThrow(/context "customDomainName": must be a lower-case domain name/);
    },
  );

  it('refuses a hosted zone id that is not one, and takes one from another partition', () => {
    expect(() => synthesize({ context: { ...ONE_HOST, customDomainHostedZoneId: 'example.com' } })).toThrow(/context "customDomainHostedZoneId": must be a Route 53 hosted zone id/);
    const china = synthesize({ context: { customDomainName: 'api.example.cn', customDomainCertificateArn: 'arn:aws-cn:acm:cn-north-1:123456789012:certificate/0b1c2d3e-4f50' } });
    expect(onlyResource(china.statelessTemplate, 'AWS::ApiGatewayV2::DomainName').Properties.DomainName).toBe('api.example.cn');
  });
});
