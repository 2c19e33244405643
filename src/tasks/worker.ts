import type { ArtifactStore } from '../artifacts/artifact-store';
import type { ChatNotifier } from '../wecom/chat-notifier';
import { isAppError } from '../errors/app-error';
import type { Clock } from '../ports/clock';
import type { Log } from '../ports/log';
import { submitTask, type SubmitPorts, taskTypesOf } from './submit';
import { isTerminal, type Task } from './task';
import { chainDedupeKey } from './task-id';
import type { TaskMessage } from './task-queue';
import type { TaskStore } from './task-store';
import {
  PermanentTaskError,
  type ResolvedServer,
  TaskCancelledError,
  type TaskRunContext,
} from './types/task-type';
import { type ChatPorts, notifyChat } from './chat-notify';
import { publishTaskUpdate, type TaskUpdatePorts } from './updates';

export { MAX_CHAT_ATTEMPTS } from './chat-notify';

/** A message on a task queue: run the task, or (re)send its chat notification. */
export type WorkMessage = TaskMessage;

/** Results larger than this go to the artifact store; the frame carries a link instead. */
export const INLINE_RESULT_BYTES = 24 * 1024;
/** How long a result link works. */
export const RESULT_LINK_SECONDS = 60 * 60;
/** Progress frames are sent at most this often per task. */
export const PROGRESS_INTERVAL_MS = 250;

/** Everything a worker needs. */
export interface WorkerPorts {
  readonly tasks: TaskStore;
  readonly updates: TaskUpdatePorts;
  readonly submit: SubmitPorts;
  readonly artifacts: ArtifactStore;
  /** The download servers with their credentials (read from Secrets Manager in the cloud). */
  readonly servers: () => Promise<Readonly<Record<string, ResolvedServer>>>;
  readonly chat: ChatNotifier;
  /** Puts a notify message back on the task's queue after a delay (rate limit, failed post). */
  readonly requeueNotify: (task: Task, delaySeconds: number, attempt: number) => Promise<void>;
  readonly fetch: typeof fetch;
  readonly clock: Clock;
  readonly log: Log;
}

/** Which delivery of the message this is, as SQS counts it. */
export interface Delivery {
  readonly receiveCount: number;
  /** After this many receives SQS moves the message to the DLQ. */
  readonly maxReceiveCount: number;
  readonly signal: AbortSignal;
  /**
   * How long the task may stay `running` from now before the reaper takes it for stuck (see
   * reaper.ts); the store's default when absent.
   */
  readonly runningDeadlineMs?: number;
}

/** What handling a message did (for logs, metrics and tests). */
export type WorkOutcome = 'succeeded' | 'failed' | 'cancelled' | 'skipped' | 'notified';

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 1000);

/**
 * Handles one task-queue message. Safe to repeat: a task only moves forward, a terminal task
 * is never run again, and only the delivery that makes the terminal transition announces it.
 * @throws for a failure worth retrying (the queue redelivers; after the last receive the task
 *   is marked failed here, or by the dead-letter handler if the worker itself died).
 */
export async function handleWork(
  ports: WorkerPorts,
  message: WorkMessage,
  delivery: Delivery,
): Promise<WorkOutcome> {
  const task = await ports.tasks.get(message.taskId);
  if (!task) {
    ports.log.warn('message for an unknown task', { taskId: message.taskId });
    return 'skipped';
  }
  if (message.kind === 'notify') {
    await notifyChat(chatPortsOf(ports), task, message.attempt ?? 1);
    return 'notified';
  }
  if (isTerminal(task.status)) return 'skipped';
  const running = await ports.tasks.transition(task.taskId, {
    to: 'running',
    ...(delivery.runningDeadlineMs !== undefined
      ? {
          deadlineAt: new Date(
            ports.clock.now().getTime() + delivery.runningDeadlineMs,
          ).toISOString(),
        }
      : {}),
  });
  if (!running) return 'skipped';
  await announce(ports, running);

  // The types this worker submits are the ones it runs: one registry for both.
  const spec = taskTypesOf(ports.submit).get(running.taskType);
  const run = runContext(ports, running, delivery.signal, await ports.servers());
  let result: unknown;
  try {
    result = await spec.run(running.args as Record<string, unknown>, run.context);
  } catch (e) {
    if (run.cancelled()) {
      // Cancelled while it ran: the cancel told everyone; this run ends here, not retried.
      ports.log.info('task run stopped: cancelled', { taskId: running.taskId });
      return 'cancelled';
    }
    const permanent = e instanceof PermanentTaskError || isAppError(e);
    const lastTry = delivery.receiveCount >= delivery.maxReceiveCount;
    ports.log.warn('task run failed', {
      taskId: running.taskId,
      error: errorText(e),
      permanent,
      receiveCount: delivery.receiveCount,
    });
    if (!permanent && !lastTry) throw e;
    const reason = permanent
      ? errorText(e)
      : `${errorText(e)} (gave up after ${delivery.receiveCount} attempts)`;
    await finish(ports, running.taskId, { to: 'failed', error: reason });
    return 'failed';
  }
  if (run.cancelled()) return 'cancelled';
  // Conditional like every change: a task cancelled meanwhile keeps `cancelled`, its result is
  // dropped, and a follow-up it queued in the moment before is cancelled with it.
  const done = await finish(ports, running.taskId, {
    to: 'succeeded',
    result: await storeLargeResult(ports, running, result),
  });
  if (done) return 'succeeded';
  const now = await ports.tasks.get(running.taskId);
  if (now?.status !== 'cancelled') return 'skipped';
  await cancelChained(ports, run.chained);
  ports.log.info('task result dropped: cancelled', { taskId: running.taskId });
  return 'cancelled';
}

/**
 * What finishing a task without running it needs (the dead-letter handler): no files, servers
 * or fetch, so that function bundles neither S3 nor the download credentials.
 */
export type FinishPorts = Pick<
  WorkerPorts,
  'tasks' | 'updates' | 'submit' | 'chat' | 'requeueNotify' | 'log'
>;

/**
 * Marks a task failed because its message reached the dead-letter queue (the worker crashed
 * or timed out on every try), and tells its audience. A task already finished is left alone.
 */
export async function failFromDeadLetter(
  ports: FinishPorts,
  message: WorkMessage,
  receiveCount: number,
): Promise<WorkOutcome> {
  if (message.kind === 'notify') {
    ports.log.error('chat notification given up', { taskId: message.taskId });
    return 'skipped';
  }
  const done = await finish(ports, message.taskId, {
    to: 'failed',
    error: `the worker did not finish after ${receiveCount} attempts (dead-letter queue)`,
  });
  return done ? 'failed' : 'skipped';
}

async function finish(
  ports: FinishPorts,
  taskId: string,
  change: Parameters<TaskStore['transition']>[1],
) {
  const done = await ports.tasks.transition(taskId, change);
  if (!done) return undefined;
  await announceEnd(ports, done);
  return done;
}

/**
 * Tells everyone a task has ended, whoever ended it (this worker, a socket worker's answer, a
 * lost lease): the log line, the `task.update` to its audience and the chat notification. Call
 * it once, after the conditional write that ended the task.
 */
export async function announceEnd(ports: FinishPorts, done: Task): Promise<void> {
  ports.log.info(`task ${done.status}`, {
    taskId: done.taskId,
    taskType: done.taskType,
    error: done.error,
  });
  await announce(ports, done);
  await notifyChat(chatPortsOf(ports), done);
}

/** Cancels the follow-ups a run queued for a task that was cancelled meanwhile. */
export async function cancelChained(
  ports: Pick<FinishPorts, 'tasks' | 'updates' | 'log'>,
  chained: readonly string[],
): Promise<void> {
  for (const childId of chained) {
    const child = await ports.tasks.transition(childId, { to: 'cancelled' });
    if (child) await announce(ports, child);
  }
}

/** The chat renders with the types this worker runs (their summary and result lines). */
const chatPortsOf = (ports: FinishPorts): ChatPorts => ({
  ...ports,
  types: taskTypesOf(ports.submit),
});

/** Pushes the task's current state (`task.update`) to its audience. */
export async function announce(
  ports: Pick<FinishPorts, 'updates' | 'log'>,
  task: Task,
): Promise<void> {
  const report = await publishTaskUpdate(ports.updates, task);
  ports.log.debug('task update pushed', { taskId: task.taskId, status: task.status, ...report });
}

/**
 * The result as a task record keeps it: inline up to {@link INLINE_RESULT_BYTES}, else stored
 * as an artifact and replaced by a link to it (for Lambda runs and socket workers alike).
 */
export async function storeLargeResult(
  ports: Pick<WorkerPorts, 'artifacts'>,
  task: Task,
  result: unknown,
): Promise<unknown> {
  const json = JSON.stringify(result ?? null);
  if (Buffer.byteLength(json) <= INLINE_RESULT_BYTES) return result;
  const ref = await ports.artifacts.put({
    key: `results/${task.taskId}.json`,
    name: `${task.taskId}.json`,
    body: Buffer.from(json),
    contentType: 'application/json',
  });
  return {
    stored: true,
    resultUrl: await ports.artifacts.link(ref.key, RESULT_LINK_SECONDS),
    artifact: ref,
  };
}

/** A run's context, and what the worker learns of the run through it. */
interface Run {
  readonly context: TaskRunContext;
  /** True once a conditional write found the task no longer running (it was cancelled). */
  readonly cancelled: () => boolean;
  /** The follow-up tasks the run queued. */
  readonly chained: readonly string[];
}

function runContext(
  ports: WorkerPorts,
  task: Task,
  signal: AbortSignal,
  servers: Readonly<Record<string, ResolvedServer>>,
): Run {
  let lastProgressAt = 0;
  // Aborted when the task turns out cancelled: the download's fetch stops reading at once.
  const stop = new AbortController();
  const chained: string[] = [];
  const stopped = (): never => {
    const error = new TaskCancelledError(task.taskId);
    stop.abort(error);
    throw error;
  };
  const context: TaskRunContext = {
    task,
    artifacts: ports.artifacts,
    servers,
    fetch: ports.fetch,
    log: ports.log,
    signal: AbortSignal.any([signal, stop.signal]),
    async progress(fraction: number) {
      if (stop.signal.aborted) stopped();
      const now = ports.clock.now().getTime();
      if (now - lastProgressAt < PROGRESS_INTERVAL_MS) return;
      lastProgressAt = now;
      // Conditional on `running`: the write that tells a cancel, with no read of its own.
      const updated = await ports.tasks.setProgress(
        task.taskId,
        Math.max(0, Math.min(1, fraction)),
      );
      if (!updated) stopped();
      else await announce(ports, updated);
    },
    async chain(taskType: string, args: Record<string, unknown>) {
      // A cancelled task queues nothing more (one conditional write per chain, not a read).
      if (stop.signal.aborted || !(await ports.tasks.stillRunning(task.taskId))) stopped();
      const { task: child } = await submitTask(ports.submit, {
        taskType,
        args,
        source: 'chain',
        requester: task.requester,
        parentTaskId: task.taskId,
        // A re-run of the parent queues the same child, not a second one.
        dedupeKey: chainDedupeKey(task.taskId, taskType),
      });
      chained.push(child.taskId);
      return child.taskId;
    },
  };
  return { context, cancelled: () => stop.signal.aborted, chained };
}
