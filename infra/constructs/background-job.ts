// A background job's trigger with its safety net: an EventBridge Scheduler schedule or a rule on the service's
// bus, retried, and a dead-letter queue for what still fails (delivery or the function's own failure).

import { Duration } from 'aws-cdk-lib';
import { Rule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BackgroundJob } from '../scheduled-jobs';

/** Attempts to deliver a trigger to the function, and to re-run a run that failed, within the same event age. */
export const JOB_DELIVERY_RETRIES = 3;
export const JOB_RUN_RETRIES = 2;
export const JOB_MAX_EVENT_AGE = Duration.hours(6);

export interface BackgroundJobTriggerProps {
  readonly job: BackgroundJob;
  readonly prefix: string;
  readonly handler: IFunction;
  readonly deadLetterQueue: IQueue;
  readonly eventBus: IEventBus;
}

export class BackgroundJobTrigger extends Construct {
  readonly schedule: Schedule | undefined;

  constructor(scope: Construct, id: string, props: BackgroundJobTriggerProps) {
    super(scope, id);
    const { job, handler, deadLetterQueue } = props;
    const delivery = { deadLetterQueue, retryAttempts: JOB_DELIVERY_RETRIES, maxEventAge: JOB_MAX_EVENT_AGE };
    if ('schedule' in job.trigger) {
      this.schedule = new Schedule(this, 'Schedule', {
        scheduleName: `${props.prefix}-${job.name}`,
        description: job.description,
        schedule: ScheduleExpression.expression(job.trigger.schedule),
        target: new LambdaInvoke(handler, delivery),
      });
    } else {
      this.schedule = undefined;
      new Rule(this, 'Rule', {
        ruleName: `${props.prefix}-${job.name}`,
        description: job.description,
        eventBus: props.eventBus,
        eventPattern: { detailType: [...job.trigger.detailTypes] },
        targets: [new LambdaFunction(handler, delivery)],
      });
    }
  }
}
