import { Duration, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { WorkerSpec } from '../../lambdas/catalog';
import { TASK_QUEUE_SETTINGS } from '../../src/tasks/queues';
import type { TaskwireFunction } from './taskwire-function';

/** Properties of {@link TaskQueues}. */
export interface TaskQueuesProps {
  /** The worker of each task type (TASK_WORKERS): one queue per type, sized for its worker. */
  readonly workers: Readonly<Record<string, WorkerSpec>>;
  /** Timeout of the function that consumes the dead-letter queues. */
  readonly deadLetterConsumerTimeoutSeconds: number;
  readonly removalPolicy: RemovalPolicy;
}

/** A task type's queue and the dead-letter queue it redrives to. */
export interface TaskQueue {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

/** Dead letters are kept as long as SQS allows, so a failure can be inspected and redriven. */
const DEAD_LETTER_RETENTION = Duration.days(14);

/**
 * One SQS queue per task type, each with its own dead-letter queue: the hand-off between
 * whatever accepts a task (WeCom callback, HTTP, WebSocket submit) and the worker of that type.
 * Settings come from src/tasks/queues.ts, which the local runtime uses too: a message moves to
 * the DLQ after `maxReceiveCount` receives, and every visibility timeout is `visibilityFactor`
 * times its consumer's timeout, so a message is not redelivered while a batch still runs.
 * All queues use SQS-managed encryption and refuse non-TLS requests.
 */
export class TaskQueues extends Construct {
  /** Queues by task type. */
  public readonly byType: ReadonlyMap<string, TaskQueue>;

  public constructor(scope: Construct, id: string, props: TaskQueuesProps) {
    super(scope, id);
    const visibility = (timeoutSeconds: number) =>
      Duration.seconds(TASK_QUEUE_SETTINGS.visibilityFactor * timeoutSeconds);
    const byType = new Map<string, TaskQueue>();
    for (const [taskType, worker] of Object.entries(props.workers)) {
      const group = new Construct(this, taskType);
      const deadLetterQueue = new sqs.Queue(group, 'DeadLetterQueue', {
        retentionPeriod: DEAD_LETTER_RETENTION,
        visibilityTimeout: visibility(props.deadLetterConsumerTimeoutSeconds),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        removalPolicy: props.removalPolicy,
      });
      const queue = new sqs.Queue(group, 'Queue', {
        visibilityTimeout: visibility(worker.timeoutSeconds),
        deadLetterQueue: {
          queue: deadLetterQueue,
          maxReceiveCount: TASK_QUEUE_SETTINGS.maxReceiveCount,
        },
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        removalPolicy: props.removalPolicy,
      });
      byType.set(taskType, { queue, deadLetterQueue });
    }
    this.byType = byType;
  }

  /** The queues of a task type (fails synth for a type without a queue). */
  public of(taskType: string): TaskQueue {
    const queues = this.byType.get(taskType);
    if (!queues) throw new Error(`no task queue for task type "${taskType}"`);
    return queues;
  }

  /** Allows sending to every task queue (not to the dead-letter queues). */
  public grantSendMessages(grantee: iam.IGrantable): void {
    for (const { queue } of this.byType.values()) queue.grantSendMessages(grantee);
  }

  /** `{"<taskType>":"<queue URL>",…}` as one string: the TASK_QUEUES setting. */
  public urlsJson(): string {
    const urls = Object.fromEntries(
      [...this.byType].map(([taskType, { queue }]) => [taskType, queue.queueUrl]),
    );
    return Stack.of(this).toJsonString(urls);
  }

  /**
   * Makes `worker` the consumer of a task type's queue. Workers report partial batch failures,
   * so only the failed records of a batch are retried.
   */
  public subscribe(taskType: string, worker: TaskwireFunction, batchSize: number): void {
    worker.function.addEventSource(
      new SqsEventSource(this.of(taskType).queue, { batchSize, reportBatchItemFailures: true }),
    );
  }

  /** Makes `consumer` the consumer of every dead-letter queue (it marks those tasks failed). */
  public subscribeDeadLetters(consumer: TaskwireFunction): void {
    for (const { deadLetterQueue } of this.byType.values()) {
      consumer.function.addEventSource(
        new SqsEventSource(deadLetterQueue, { reportBatchItemFailures: true }),
      );
    }
  }
}
