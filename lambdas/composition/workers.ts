import type { ArtifactStore } from '../../src/artifacts/artifact-store';
import type { Clock } from '../../src/ports/clock';
import type { Log } from '../../src/ports/log';
import { type ChatPorts, notifyChat } from '../../src/tasks/chat-notify';
import type { ReaperPorts, ReaperStore } from '../../src/tasks/reaper';
import type { SubmitPorts } from '../../src/tasks/submit';
import type { Task } from '../../src/tasks/task';
import type { TaskQueue } from '../../src/tasks/task-queue';
import type { ResolvedServer } from '../../src/tasks/types/task-type';
import { publishTaskUpdate, type TaskUpdatePorts } from '../../src/tasks/updates';
import type { FinishPorts, WorkerPorts } from '../../src/tasks/worker';
import type { ChatNotifier } from '../../src/wecom/chat-notifier';
import { requeueNotifyOf } from './tasks';

/** What a task worker (and the dead-letter handler) is built from. */
export interface WorkerDeps {
  /** Submitting follow-up tasks (the chain); its task store is the worker's too. */
  readonly submit: SubmitPorts;
  readonly updates: TaskUpdatePorts;
  readonly artifacts: ArtifactStore;
  /** The download servers with their credentials. */
  readonly servers: () => Promise<Readonly<Record<string, ResolvedServer>>>;
  readonly chat: ChatNotifier;
  /** The task queues, for chat notifications put back for later. */
  readonly queue: TaskQueue;
  readonly fetch: typeof fetch;
  readonly clock: Clock;
  readonly log: Log;
}

/** What finishing tasks without running them (the dead-letter handler) is built from. */
export type FinishDeps = Pick<WorkerDeps, 'submit' | 'updates' | 'chat' | 'queue' | 'log'>;

/** The ports of the dead-letter handler: the worker's, less files, servers and fetch. */
export const buildFinishPorts = (deps: FinishDeps): FinishPorts => ({
  tasks: deps.submit.tasks,
  updates: deps.updates,
  submit: deps.submit,
  chat: deps.chat,
  requeueNotify: requeueNotifyOf(deps.queue),
  log: deps.log,
});

/** The ports of the task worker (the local runtime's dead-letter handler takes them too). */
export const buildWorkerPorts = (deps: WorkerDeps): WorkerPorts => ({
  ...buildFinishPorts(deps),
  artifacts: deps.artifacts,
  servers: deps.servers,
  fetch: deps.fetch,
  clock: deps.clock,
});

/** What announcing a failed task needs: its audience, and its chat. */
export interface AnnouncePorts extends ChatPorts {
  readonly updates: TaskUpdatePorts;
}

/** Tells a task's audience and its chat about its current state (the reaper's `announce`). */
export function announcer(ports: AnnouncePorts): (task: Task) => Promise<void> {
  return async (task) => {
    await publishTaskUpdate(ports.updates, task);
    await notifyChat(ports, task);
  };
}

/** What the task reaper is built from. */
export interface ReaperDeps {
  readonly tasks: ReaperStore;
  readonly queue: TaskQueue;
  readonly updates: TaskUpdatePorts;
  readonly chat: ChatNotifier;
  readonly clock: Clock;
  readonly log: Log;
  /** The lease sweep of socket workers (src/tasks/socket/socket-workers.ts). */
  readonly lapsedLease?: (taskId: string) => Promise<boolean>;
}

/** The reaper's ports: the tasks table, the task queues, and the audience and chat of a task. */
export const buildReaperPorts = (deps: ReaperDeps): ReaperPorts => ({
  tasks: deps.tasks,
  queue: deps.queue,
  announce: announcer({
    updates: deps.updates,
    chat: deps.chat,
    requeueNotify: requeueNotifyOf(deps.queue),
    log: deps.log,
  }),
  clock: deps.clock,
  log: deps.log,
  ...(deps.lapsedLease ? { lapsedLease: deps.lapsedLease } : {}),
});
