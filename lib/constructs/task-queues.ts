import { Stack, type RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { WorkerSpec } from '../../lambdas/catalog';
import type { TaskwireFunction } from './taskwire-function';
import { WorkQueue } from './work-queue';

/** Properties of {@link TaskQueues}. */
export interface TaskQueuesProps {
  /** The worker of each task type (TASK_WORKERS): one queue per type, sized for its worker. */
  readonly workers: Readonly<Record<string, WorkerSpec>>;
  /** Timeout of the function that consumes the dead-letter queues. */
  readonly deadLetterConsumerTimeoutSeconds: number;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * One {@link WorkQueue} per task type: the hand-off between whatever accepts a task (WeCom
 * callback, HTTP, WebSocket submit) and the worker of that type. Their dead-letter queues share
 * one consumer, which marks the tasks failed, so no accepted task ends silently.
 */
export class TaskQueues extends Construct {
  /** Queues by task type. */
  public readonly byType: ReadonlyMap<string, WorkQueue>;

  public constructor(scope: Construct, id: string, props: TaskQueuesProps) {
    super(scope, id);
    this.byType = new Map(
      Object.entries(props.workers).map(([taskType, worker]) => [
        taskType,
        new WorkQueue(this, taskType, {
          consumerTimeoutSeconds: worker.timeoutSeconds,
          deadLetterConsumerTimeoutSeconds: props.deadLetterConsumerTimeoutSeconds,
          removalPolicy: props.removalPolicy,
        }),
      ]),
    );
  }

  /** The queues of a task type (fails synth for a type without a queue). */
  public of(taskType: string): WorkQueue {
    const queue = this.byType.get(taskType);
    if (!queue) throw new Error(`no task queue for task type "${taskType}"`);
    return queue;
  }

  /** Allows sending to every task queue (not to the dead-letter queues). */
  public grantSendMessages(grantee: iam.IGrantable): void {
    for (const queue of this.byType.values()) queue.grantSendMessages(grantee);
  }

  /** `{"<taskType>":"<queue URL>",…}` as one string: the TASK_QUEUES setting. */
  public urlsJson(): string {
    const urls = Object.fromEntries(
      [...this.byType].map(([taskType, { queue }]) => [taskType, queue.queueUrl]),
    );
    return Stack.of(this).toJsonString(urls);
  }

  /** Makes `consumer` the consumer of every task dead-letter queue. */
  public subscribeDeadLetters(consumer: TaskwireFunction): void {
    for (const queue of this.byType.values()) queue.subscribeDeadLetters(consumer);
  }
}
