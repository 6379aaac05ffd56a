// One host for both APIs: a regional custom domain whose routing rules send a request to the Analytics API when its
// Authorization header carries a person's or a BI tool's credentials (`Basic …`, `Bearer …`), and whose API mapping
// sends everything else (SigV4-signed service calls, the public OpenAPI document) to the HTTP API. The paths stay as
// they are (`/v1/...` on both), so one base URL serves both and the credential decides the API.
//
// Routing rules can only target REST API stages and an API mapping is the only way to an HTTP API; a domain in
// ROUTING_RULE_THEN_API_MAPPING mode evaluates every rule first, then the mappings
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-routing-mode.html). The REST API has no mapping
// of its own: AWS does not support routing rules on a domain whose mappings name both a REST and an HTTP API.

import { Aws, CfnOutput, CfnRule, Fn } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { CfnApiMapping, CfnDomainName, CfnRoutingRule, type HttpApi, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { ARecord, HostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayv2DomainProperties } from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import { CERTIFICATE_ARN, type CustomDomain } from '../deployment-config';

/**
 * The Authorization schemes the Analytics API takes, each a routing rule (priorities apart, as AWS advises, so one can
 * be put between). A header glob is case-sensitive and may not hold a space, so `Bearer*` stands for `Bearer <token>`.
 */
export const ANALYTICS_CREDENTIAL_RULES = [
  { scheme: 'Basic', priority: 100 },
  { scheme: 'Bearer', priority: 200 },
] as const;

export interface ApiCustomDomainProps {
  readonly domain: CustomDomain;
  readonly httpApi: HttpApi;
  readonly httpStage: HttpStage;
  /** The Analytics API's stage, once the API exists; without it every request goes to the HTTP API. */
  readonly analyticsStage: Stage | undefined;
  /**
   * First path segments that go to the Analytics API whatever the credentials: its pages that browsers open without
   * an Authorization header (the dashboard's).
   */
  readonly analyticsBasePaths?: readonly string[];
}

/** Before the credential rules: a page's path decides before its (absent) Authorization header could. */
export const ANALYTICS_PAGES_RULE_PRIORITY = 50;

export class ApiCustomDomain extends Construct {
  readonly domainName: CfnDomainName;

  constructor(scope: Construct, id: string, props: ApiCustomDomainProps) {
    super(scope, id);
    const { domain, analyticsStage } = props;
    this.domainName = new CfnDomainName(this, 'DomainName', {
      domainName: domain.name,
      domainNameConfigurations: [{ certificateArn: domain.certificateArn, endpointType: 'REGIONAL', securityPolicy: 'TLS_1_2' }],
      routingMode: analyticsStage ? 'ROUTING_RULE_THEN_API_MAPPING' : 'API_MAPPING_ONLY',
    });
    // A regional domain takes a certificate from its own region only; say so before CloudFormation creates anything.
    const certificateRegion = CERTIFICATE_ARN.exec(domain.certificateArn)![1]!;
    new CfnRule(this, 'CertificateInStackRegion', {
      assertions: [
        {
          assert: Fn.conditionEquals(Aws.REGION, certificateRegion),
          assertDescription: `customDomainCertificateArn is in ${certificateRegion}: a regional custom domain needs its certificate in the stack's region.`,
        },
      ],
    });

    const mapping = new CfnApiMapping(this, 'HttpApiMapping', {
      domainName: this.domainName.ref,
      apiId: props.httpApi.apiId,
      stage: props.httpStage.stageName,
      apiMappingKey: '',
    });
    // The stage's name is a literal (`$default`), so CloudFormation would not know to create the stage first.
    mapping.node.addDependency(props.httpStage);

    if (analyticsStage && props.analyticsBasePaths?.length) {
      new CfnRoutingRule(this, 'PagesToAnalyticsApi', {
        domainNameArn: this.domainName.attrDomainNameArn,
        priority: ANALYTICS_PAGES_RULE_PRIORITY,
        conditions: [{ matchBasePaths: { anyOf: [...props.analyticsBasePaths] } }],
        actions: [{ invokeApi: { apiId: analyticsStage.restApi.restApiId, stage: analyticsStage.stageName, stripBasePath: false } }],
      });
    }
    if (analyticsStage) {
      for (const { scheme, priority } of ANALYTICS_CREDENTIAL_RULES) {
        new CfnRoutingRule(this, `${scheme}ToAnalyticsApi`, {
          domainNameArn: this.domainName.attrDomainNameArn,
          priority,
          conditions: [{ matchHeaders: { anyOf: [{ header: 'Authorization', valueGlob: `${scheme}*` }] } }],
          // The Analytics API's paths are the full `/v1/...` ones: nothing to strip.
          actions: [{ invokeApi: { apiId: analyticsStage.restApi.restApiId, stage: analyticsStage.stageName, stripBasePath: false } }],
        });
      }
    }

    if (domain.hostedZoneId) {
      new ARecord(this, 'AliasRecord', {
        zone: HostedZone.fromHostedZoneId(this, 'Zone', domain.hostedZoneId),
        // Fully qualified (the trailing dot): the zone's own name is not known here.
        recordName: `${domain.name}.`,
        target: RecordTarget.fromAlias(new ApiGatewayv2DomainProperties(this.domainName.attrRegionalDomainName, this.domainName.attrRegionalHostedZoneId)),
      });
    }

    new CfnOutput(scope, 'BaseUrl', { value: `https://${domain.name}/v1`, description: 'The one base URL of both APIs (the backend, BI tools and people)' });
    new CfnOutput(scope, 'CustomDomainTarget', {
      value: this.domainName.attrRegionalDomainName,
      description: `Point ${domain.name} here: a CNAME, or a Route 53 alias with the hosted zone in CustomDomainTargetHostedZoneId`,
    });
    new CfnOutput(scope, 'CustomDomainTargetHostedZoneId', { value: this.domainName.attrRegionalHostedZoneId, description: 'The hosted zone of CustomDomainTarget, for an alias record' });
  }
}
