import { randomUUID } from 'node:crypto';
import type { ArtifactStore } from '../../src/artifacts/artifact-store';
import type { Clock } from '../../src/ports/clock';
import type { Log } from '../../src/ports/log';
import type { FramePusher } from '../../src/push/frame-pusher';
import { frameFactory } from '../../src/push/frames';
import { TASK_QUEUE_SETTINGS } from '../../src/tasks/queues';
import type { LeaseStore } from '../../src/tasks/socket/lease-store';
import type { PlacementSettings } from '../../src/tasks/socket/placement';
import {
  offerQueuedTask,
  type SocketWorkerPorts,
  tellWorkerCancelled,
} from '../../src/tasks/socket/socket-workers';
import type { WorkerStore } from '../../src/tasks/socket/worker-store';
import type { SubmitPorts } from '../../src/tasks/submit';
import type { Task } from '../../src/tasks/task';
import type { TaskQueue } from '../../src/tasks/task-queue';
import type { TaskStore } from '../../src/tasks/task-store';
import type { TaskUpdatePorts } from '../../src/tasks/updates';
import type { ChatNotifier } from '../../src/wecom/chat-notifier';
import { requeueNotifyOf } from './tasks';

/** What the socket-worker ports are built from. */
export interface SocketWorkerDeps {
  readonly tasks: TaskStore & LeaseStore;
  readonly workers: WorkerStore;
  readonly queue: TaskQueue;
  readonly updates: TaskUpdatePorts;
  readonly submit: SubmitPorts;
  readonly chat: ChatNotifier;
  readonly poster: Pick<FramePusher, 'post'>;
  readonly artifacts: ArtifactStore;
  readonly clock: Clock;
  readonly log: Log;
  readonly settings: PlacementSettings;
}

/**
 * The ports of dispatch to socket workers, their answers, and their failover (task worker,
 * message route, $disconnect, reaper). A task type gets as many offers as its queue gives a
 * Lambda run receives (TASK_QUEUE_SETTINGS.maxReceiveCount).
 */
export const buildSocketWorkerPorts = (deps: SocketWorkerDeps): SocketWorkerPorts => ({
  tasks: deps.tasks,
  leases: deps.tasks,
  workers: deps.workers,
  queue: deps.queue,
  updates: deps.updates,
  submit: deps.submit,
  chat: deps.chat,
  requeueNotify: requeueNotifyOf(deps.queue),
  poster: deps.poster,
  frames: frameFactory(deps.clock, randomUUID),
  artifacts: deps.artifacts,
  clock: deps.clock,
  log: deps.log,
  settings: deps.settings,
  maxAttempts: TASK_QUEUE_SETTINGS.maxReceiveCount,
});

/** What telling a socket worker of a cancel needs. */
export interface CancelNoticeDeps {
  readonly workers: WorkerStore;
  readonly poster: Pick<FramePusher, 'post'>;
  readonly clock: Clock;
  readonly log: Log;
}

/** `onCancelled`'s part for socket workers: `task.cancel` to the worker holding the task. */
export const workerCancelNotice =
  (deps: () => CancelNoticeDeps) =>
  async (task: Task): Promise<void> => {
    if (!task.workerConnectionId) return;
    const d = deps();
    await tellWorkerCancelled({ ...d, frames: frameFactory(d.clock, randomUUID) }, task);
  };

/** What offering a just-queued task at once is built from (every function that submits). */
export type OfferNowDeps = Pick<
  SocketWorkerDeps,
  'tasks' | 'workers' | 'updates' | 'poster' | 'clock' | 'log' | 'settings'
>;

/**
 * Submit's `offerNow`: a just-queued task of a `websocket`/`auto` type goes to a free socket
 * worker without waiting for its queue's poll. The deps are built at the first offer; when that
 * fails (settings) the submit still stands: its queue message places the task (and the task
 * worker reports the settings).
 */
export const offerNowOf =
  (deps: () => OfferNowDeps, log: Log) =>
  async (task: Task): Promise<boolean> => {
    let d: OfferNowDeps;
    try {
      d = deps();
    } catch (e) {
      log.error('could not offer a task at once; it is queued', {
        taskId: task.taskId,
        error: e instanceof Error ? e.message : String(e),
      });
      return false;
    }
    return offerQueuedTask(
      { ...d, leases: d.tasks, frames: frameFactory(d.clock, randomUUID) },
      task,
    );
  };
