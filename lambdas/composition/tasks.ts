import type { SQSClient } from '@aws-sdk/client-sqs';
import { SqsTaskQueue } from '../../src/adapters/sqs/task-queue';
import type { Clock } from '../../src/ports/clock';
import type { Log } from '../../src/ports/log';
import type { TaskRegistry } from '../../src/tasks/registry';
import type { SubmitPorts } from '../../src/tasks/submit';
import type { Task } from '../../src/tasks/task';
import type { TaskQueue } from '../../src/tasks/task-queue';
import type { TaskStore } from '../../src/tasks/task-store';
import type { ArgsContext } from '../../src/tasks/types/task-type';
import { publishTaskUpdate, type TaskUpdatePorts } from '../../src/tasks/updates';

/** The task queues on SQS: task type → queue URL. */
export const buildTaskQueue = (
  sqs: SQSClient,
  queueUrls: Readonly<Record<string, string>>,
): TaskQueue => new SqsTaskQueue(sqs, queueUrls);

/** What submitting tasks is built from. */
export interface SubmitDeps {
  readonly tasks: TaskStore;
  readonly queue: TaskQueue;
  readonly updates: TaskUpdatePorts;
  readonly clock: Clock;
  readonly log: Log;
  /** The task types (default: the shipped registry). */
  readonly types?: TaskRegistry;
  /** Tells the socket worker holding a cancelled task (`task.cancel`); none without workers. */
  readonly tellWorker?: (task: Task) => Promise<void>;
  /** Offers a just-recorded task to a free socket worker at once (placement websocket/auto). */
  readonly placeNow?: (task: Task) => Promise<boolean>;
}

/** Settings of submitting tasks. */
export interface SubmitSettings {
  /** The servers arguments may name, and the default one. */
  readonly args: ArgsContext;
}

/**
 * Everything submitting a task needs. Whoever queues a task tells its audience at once, so
 * `queued` is seen before `running`.
 */
export const buildSubmitPorts = (deps: SubmitDeps, settings: SubmitSettings): SubmitPorts => ({
  tasks: deps.tasks,
  queue: deps.queue,
  clock: deps.clock,
  log: deps.log,
  args: settings.args,
  ...(deps.types ? { types: deps.types } : {}),
  onQueued: async (task) => {
    await publishTaskUpdate(deps.updates, task);
  },
  ...(deps.placeNow ? { placeNow: deps.placeNow } : {}),
  onCancelled: async (task) => {
    await publishTaskUpdate(deps.updates, task);
    if (task.workerConnectionId && deps.tellWorker) await deps.tellWorker(task);
    // The chat hears of it from the task's worker, which holds the webhook settings and the
    // robot's rate limit: a `notify` message on the task's queue, as a deferred one is.
    if (task.requester.wecom) {
      await deps.queue.enqueue({ taskId: task.taskId, taskType: task.taskType, kind: 'notify' });
    }
  },
});

/** Puts a task's chat notification back on its queue after a delay (rate limit, failed post). */
export const requeueNotifyOf =
  (queue: TaskQueue) =>
  (task: Task, delaySeconds: number, attempt: number): Promise<void> =>
    queue.enqueue(
      { taskId: task.taskId, taskType: task.taskType, kind: 'notify', attempt },
      { delaySeconds },
    );
