// A background job's trigger with its safety net: an EventBridge Scheduler schedule or a rule on the service's
// bus, retried, and a dead-letter queue for what still fails (delivery or the function's own failure); or an event
// source mapping on the ledger table's stream, which retries a failing batch by halves and files what still fails
// in the same queue.

import { Duration } from 'aws-cdk-lib';
import { Rule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { EventSourceMapping, FilterCriteria, StartingPosition, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BackgroundJob, StreamTriggerSettings } from '../scheduled-jobs';

/** Attempts to deliver a trigger to the function, and to re-run a run that failed, within the same event age. */
export const JOB_DELIVERY_RETRIES = 3;
export { JOB_RUN_RETRIES } from '../scheduled-jobs';
export const JOB_MAX_EVENT_AGE = Duration.hours(6);

/** A stream job's batches: records per invocation, retries of a failing batch (halved each time), and the oldest record still worth handling. */
export const STREAM_BATCH_SIZE = 100;
export const STREAM_RETRY_ATTEMPTS = 10;
export const STREAM_MAX_RECORD_AGE = Duration.days(1);

/**
 * What the event source mapping needs of the stream, on the stream alone. CDK's `grantStreamRead` would add
 * ListStreams on `*`; AWS's own policy for a stream-reading Lambda names the stream for all four.
 */
export const TABLE_STREAM_READ_ACTIONS = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'];

export interface BackgroundJobTriggerProps {
  readonly job: BackgroundJob;
  readonly prefix: string;
  readonly handler: IFunction;
  readonly deadLetterQueue: IQueue;
  readonly eventBus: IEventBus;
  /** The ledger table's stream, for jobs it triggers. */
  readonly tableStreamArn: string;
}

export class BackgroundJobTrigger extends Construct {
  readonly schedule: Schedule | undefined;

  constructor(scope: Construct, id: string, props: BackgroundJobTriggerProps) {
    super(scope, id);
    const { job, handler, deadLetterQueue } = props;
    const delivery = { deadLetterQueue, retryAttempts: JOB_DELIVERY_RETRIES, maxEventAge: JOB_MAX_EVENT_AGE };
    const { trigger } = job;
    this.schedule =
      'schedule' in trigger
        ? new Schedule(this, 'Schedule', {
            scheduleName: `${props.prefix}-${job.name}`,
            description: job.description,
            schedule: ScheduleExpression.expression(trigger.schedule),
            target: new LambdaInvoke(handler, delivery),
          })
        : undefined;
    if ('detailTypes' in trigger) {
      new Rule(this, 'Rule', {
        ruleName: `${props.prefix}-${job.name}`,
        description: job.description,
        eventBus: props.eventBus,
        eventPattern: { detailType: [...trigger.detailTypes] },
        targets: [new LambdaFunction(handler, delivery)],
      });
    }
    if ('tableStream' in trigger) this.readTableStream(handler, props.tableStreamArn, trigger.tableStream, deadLetterQueue);
  }

  /**
   * One poller per shard, in order (parallelization 1: the records of one item must not overtake each other). A
   * failing batch is split and retried; the handler reports the records it could not handle, so the ones before
   * them are not handled twice. What still fails goes to the dead-letter queue as a pointer to the records.
   */
  private readTableStream(handler: IFunction, tableStreamArn: string, settings: StreamTriggerSettings, deadLetterQueue: IQueue): void {
    handler.addToRolePolicy(new PolicyStatement({ actions: TABLE_STREAM_READ_ACTIONS, resources: [tableStreamArn] }));
    new EventSourceMapping(this, 'StreamMapping', {
      target: handler,
      eventSourceArn: tableStreamArn,
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: STREAM_BATCH_SIZE,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: STREAM_RETRY_ATTEMPTS,
      maxRecordAge: STREAM_MAX_RECORD_AGE,
      parallelizationFactor: 1,
      onFailure: new SqsDlq(deadLetterQueue),
      filters: settings.filters.map((pattern) => FilterCriteria.filter(pattern)),
    });
  }
}
