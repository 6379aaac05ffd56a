// Every cdk-nag finding we accept, each with the reason it is right for this service, in one file to review.
// Anything not acknowledged here fails `npx cdk synth` and the infra tests.

import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { EXPORT_PREFIX, type Invocation } from './constructs/ledger-function';
import type { DeploymentConfig } from './deployment-config';
import type { StatefulStack } from './stacks/stateful-stack';
import type { StatelessStack } from './stacks/stateless-stack';

const FIXED_RUNTIME =
  'Node.js 22 is the runtime the service is built and tested on (a fixed project choice); moving on is a tested change of its own.';

/** Why no function has a classic dead-letter queue: where each kind of invocation sends its failures instead. */
const WHERE_FAILURES_GO: Record<Invocation['kind'], string> = {
  synchronous:
    'Invoked synchronously by API Gateway: the caller gets the error and retries with the same requestId; a dead-letter queue only ever sees asynchronous invocations.',
  asynchronous:
    'Failed asynchronous runs go to an on-failure destination (the job dead-letter queue), whose record carries the error too; a classic DLQ as well would file each failure twice.',
  stream:
    'Invoked by the event source mapping on the table stream, which Lambda never sends to a DLQ: the mapping retries the batch and files what still fails in the job dead-letter queue (its on-failure destination).',
};

export function acknowledgeNagFindings(config: DeploymentConfig, stateful: StatefulStack, stateless: StatelessStack): void {
  acknowledge(stateful.pepper, {
    'AwsSolutions-SMG4':
      'The pepper keys every stored analytics-key hash; rotating it would invalidate every issued key at once. Keys are rotated one by one through the keys API instead.',
  });
  acknowledge(stateful.webhookSigningKey, {
    'AwsSolutions-SMG4':
      "Every org's webhook secret is derived from this key; rotating it would break every receiver's verification at once. Orgs rotate their own secret through the webhook API (rotateSecret) instead.",
  });

  for (const ledgerFunction of stateless.functions.values()) {
    const { spec } = ledgerFunction;
    acknowledge(ledgerFunction, {
      'AwsSolutions-IAM5[Resource::*]':
        'Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
      'AwsSolutions-L1': FIXED_RUNTIME,
      'Serverless-LambdaLatestVersion': FIXED_RUNTIME,
    });
    acknowledge(ledgerFunction, { 'Serverless-LambdaDLQ': WHERE_FAILURES_GO[ledgerFunction.invocation] });
    if (ledgerFunction.invocation === 'asynchronous') {
      // The scheduler's invoke role (made by the Scheduler target construct, one per stack) names fn and fn:*.
      for (const schedulerRole of stateless.node.children.filter((child) => child.node.id.startsWith('SchedulerRoleForTarget'))) {
        acknowledge(schedulerRole, {
          [`AwsSolutions-IAM5[Resource::<${logicalId(ledgerFunction.function.node.defaultChild as CfnElement)}.Arn>:*]`]:
            'The scheduler may invoke this one function, any version of it (the `:*` qualifier); nothing else.',
        });
      }
    }
    if (spec.needs.keyStore) {
      acknowledge(ledgerFunction, {
        [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${stateful.keyStorePrefix}*]`]:
          'Analytics-key secrets are created at run time, one per org, and their ARNs end in a random suffix: the key-store prefix is the narrowest resource that names them.',
      });
    }
    if (spec.needs.exportBucket) {
      acknowledge(ledgerFunction, {
        [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${config.prefix}-exports-<AWS::AccountId>-<AWS::Region>/${EXPORT_PREFIX}*]`]:
          'Export object keys are named per org and month when the export runs; writes are confined to the exports/ prefix.',
      });
    }
  }

  acknowledge(stateless.alarmTopic, {
    'Serverless-SNSRedrivePolicy':
      'The only subscription is the on-call email; SNS retries its delivery, and a lost email loses no alarm: the alarm stays in ALARM in CloudWatch.',
  });

  for (const queue of stateless.deadLetterQueues) {
    acknowledge(queue, {
      'AwsSolutions-SQS3': 'This queue is itself a dead-letter queue (of a background job); it has no consumer to fail.',
      'Serverless-SQSRedrivePolicy': 'This queue is itself a dead-letter queue (of a background job); it has no consumer to fail.',
    });
  }

  if (stateless.analyticsApi) {
    acknowledge(stateless.analyticsApi, {
      'AwsSolutions-COG4':
        "People sign in with the platform's own identity provider (any OIDC issuer) and BI tools with an org analytics key over HTTP Basic; a Cognito authorizer accepts neither, so the Lambda authorizer verifies both.",
      'AwsSolutions-APIG3':
        'The read-only analytics API is authorizer-protected and throttled at its stage; a WAF web ACL is an account-wide choice (and cost) left to the deployer.',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]':
        "API Gateway's account-wide logging role, with the AWS policy made for exactly that role; REST API stages cannot log without it.",
    });
  }

  for (const method of stateless.analyticsApi?.publicMethods ?? []) {
    acknowledge(method, {
      'AwsSolutions-APIG4':
        "The usage dashboard's page, script and stylesheet hold no data (the page calls the API's routes with the person's token); its function has no grants, a concurrency ceiling and the stage throttle.",
      'AwsSolutions-COG4': "The dashboard's files are public: anyone may load the sign-in page.",
    });
  }

  for (const route of stateless.publicRoutes) {
    acknowledge(route, {
      'AwsSolutions-APIG4':
        'A public route serves what holds no data (the OpenAPI document, built from the route schemas); its function has no grants, a concurrency ceiling and the stage throttle.',
    });
  }

  const serviceCaller = stateless.node.tryFindChild('ServiceCallerPolicy');
  if (serviceCaller) {
    const api = logicalId(stateless.httpApi.node.defaultChild as CfnElement);
    acknowledge(serviceCaller, {
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${api}>/$default/*/v1/*]`]:
        'The org ids in the paths are data, unknown at deploy time; only IAM-authorized routes consult this policy, and those are exactly the service routes.',
    });
  }
}

function acknowledge(scope: IConstruct, findings: Record<string, string>): void {
  for (const [id, reason] of Object.entries(findings)) Validations.of(scope).acknowledge({ id, reason });
}

function logicalId(element: CfnElement): string {
  return Stack.of(element).getLogicalId(element);
}
