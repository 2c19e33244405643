import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TASK_QUEUE_SETTINGS } from '../../src/tasks/queues';
import type { TaskwireFunction } from './taskwire-function';

/** Properties of {@link WorkQueue}. */
export interface WorkQueueProps {
  /** Timeout of the function that consumes the queue. */
  readonly consumerTimeoutSeconds: number;
  /** Timeout of the function that consumes the dead-letter queue, if any. */
  readonly deadLetterConsumerTimeoutSeconds?: number;
  readonly removalPolicy: RemovalPolicy;
}

/** Dead letters are kept as long as SQS allows, so a failure can be inspected and redriven. */
export const DEAD_LETTER_RETENTION = Duration.days(14);

/**
 * An SQS queue with its own dead-letter queue, as every Taskwire queue is. Settings come from
 * src/tasks/queues.ts, which the local runtime uses too: a message moves to the DLQ after
 * `maxReceiveCount` receives, and a visibility timeout is `visibilityFactor` times its consumer's
 * timeout, so a message is not redelivered while a batch still runs. Both queues use
 * SQS-managed encryption and refuse requests without TLS.
 */
export class WorkQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  /** Raised while dead letters wait unhandled: a consumed DLQ drains in seconds. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;

  public constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    const visibility = (timeoutSeconds: number) =>
      Duration.seconds(TASK_QUEUE_SETTINGS.visibilityFactor * timeoutSeconds);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: DEAD_LETTER_RETENTION,
      ...(props.deadLetterConsumerTimeoutSeconds === undefined
        ? {}
        : { visibilityTimeout: visibility(props.deadLetterConsumerTimeoutSeconds) }),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      visibilityTimeout: visibility(props.consumerTimeoutSeconds),
      deadLetterQueue: {
        queue: this.deadLetterQueue,
        maxReceiveCount: TASK_QUEUE_SETTINGS.maxReceiveCount,
      },
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
    });
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLettersWaiting', {
      alarmDescription:
        'Messages have waited in this dead-letter queue for 15 minutes: a task or push batch ' +
        'failed every retry and was not handled. Inspect, fix, then redrive or purge.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Minimum',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Allows sending to the queue (not to its dead-letter queue). */
  public grantSendMessages(grantee: iam.IGrantable): void {
    this.queue.grantSendMessages(grantee);
  }

  /**
   * Makes `consumer` the consumer of the queue. Consumers report partial batch failures, so only
   * the failed records of a batch are retried.
   */
  public subscribe(consumer: TaskwireFunction, batchSize?: number, maxConcurrency?: number): void {
    consumer.function.addEventSource(
      new SqsEventSource(this.queue, {
        ...(batchSize === undefined ? {} : { batchSize }),
        ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
        reportBatchItemFailures: true,
      }),
    );
  }

  /** Makes `consumer` the consumer of the dead-letter queue. */
  public subscribeDeadLetters(consumer: TaskwireFunction): void {
    consumer.function.addEventSource(
      new SqsEventSource(this.deadLetterQueue, { reportBatchItemFailures: true }),
    );
  }
}
