import type { ArtifactStore } from '../../artifacts/artifact-store';
import { AppError, badRequest } from '../../errors/app-error';
import type { Clock } from '../../ports/clock';
import type { FramePusher } from '../../push/frame-pusher';
import type { FrameFactory, ServerFrame } from '../../push/frames';
import { QUEUED_DEADLINE_MS, REAP_LIMIT, type ReaperStore } from '../reaper';
import { submitTask, taskTypesOf } from '../submit';
import { isTerminal, type Task } from '../task';
import { chainDedupeKey } from '../task-id';
import type { TaskMessage, TaskQueue } from '../task-queue';
import {
  announce,
  announceEnd,
  cancelChained,
  type FinishPorts,
  storeLargeResult,
} from '../worker';
import type { LeaseStore } from './lease-store';
import { type PlacementSettings, placementOf, placementRetrySeconds } from './placement';
import type { WorkerStore } from './worker-store';

/**
 * Socket workers (docs/protocol.md, "Workers over WebSocket"): dispatch from a task's queue to a
 * worker connection, the worker's answers (`progress`, `result`, `fail`), and what happens when
 * a worker goes away or lets its lease lapse. Every change of a task is one conditional write on
 * its record (lease-store.ts), so a task is held by one worker at a time and ends exactly once;
 * the end is told by the same code as a Lambda run's (worker.ts `announceEnd`).
 */

/** What socket-worker dispatch and answers need. */
export interface SocketWorkerPorts extends FinishPorts {
  readonly leases: LeaseStore;
  readonly workers: WorkerStore;
  /** The task queues: a task taken from a worker, or waiting for one, is queued again. */
  readonly queue: TaskQueue;
  /** Posts `task.assign`/`task.cancel` to one connection (in no stream: see docs). */
  readonly poster: Pick<FramePusher, 'post'>;
  readonly frames: FrameFactory;
  /** Where a result over the inline cap is stored (as a Lambda run's). */
  readonly artifacts: ArtifactStore;
  readonly clock: Clock;
  readonly settings: PlacementSettings;
  /** Offers a task gets before a lost lease fails it (the type's attempts). */
  readonly maxAttempts: number;
}

/** Workers a dispatch reads per task type (one Query page). */
export const CANDIDATE_LIMIT = 50;

/** The error of a task no socket worker took within the placement timeout. */
export const NO_WORKER_ERROR = 'no_worker';

/** What dispatching one queue message did. */
export type DispatchOutcome =
  /** Offered to a socket worker (`task.assign` delivered). */
  | 'assigned'
  /** Run it in Lambda (placement `lambda`, or `auto` with no free worker). */
  | 'lambda'
  /** No free worker yet (`websocket`): queued again after a delay. */
  | 'waiting'
  /** No free worker within the placement timeout: the task failed with `no_worker`. */
  | 'noWorker'
  /** Nothing to do: unknown, ended, or held by a worker already (a repeated message). */
  | 'skipped';

const ackFrame = (ports: Pick<SocketWorkerPorts, 'frames'>, taskId: string, requestId?: string) =>
  ports.frames.make('task.ack', { taskId, ...(requestId ? { requestId } : {}) });

const leaseLost = (taskId: string, why: string) =>
  new AppError('lease_lost', `task ${taskId} is no longer yours: ${why}`);

const iso = (ms: number) => new Date(ms).toISOString();

/** Why a task is not the connection's, for `lease_lost` (undefined: it is). */
function notHeldReason(task: Task | undefined, connectionId: string, nowMs: number) {
  if (!task) return 'no such task';
  if (isTerminal(task.status)) return `it has ended (${task.status})`;
  if (task.workerConnectionId !== connectionId) return 'it is not assigned to this connection';
  if (task.status !== 'running') return 'it was taken back';
  if (!task.leaseExpiresAt || Date.parse(task.leaseExpiresAt) <= nowMs) return 'its lease lapsed';
  return undefined;
}

/**
 * Dispatches one task-queue message by the type's placement. Safe to repeat: the lease is a
 * conditional write on a queued task, so a repeated message finds it held and is skipped.
 */
export async function dispatchTask(
  ports: SocketWorkerPorts,
  message: TaskMessage,
): Promise<DispatchOutcome> {
  const placement = placementOf(ports.settings, message.taskType);
  if (placement === 'lambda') return 'lambda';
  const task = await ports.tasks.get(message.taskId);
  if (!task || isTerminal(task.status)) return 'skipped';
  // Running: held by a socket worker (the sweep watches its lease) or by a Lambda run, which
  // its own redelivery continues.
  if (task.status === 'running') return task.workerConnectionId ? 'skipped' : 'lambda';

  // Not straight back to the worker that refused it (a draining one would refuse it again);
  // when it is the only one, the task waits a retry delay like any task without a worker.
  const workers = (await ports.workers.candidates(task.taskType, CANDIDATE_LIMIT)).filter(
    (w) => w.connectionId !== message.refusedBy,
  );
  for (const worker of workers) {
    const placed = await offer(ports, task, worker.connectionId);
    if (placed !== 'next') return placed;
  }
  if (placement === 'auto') return 'lambda';

  const waited = ports.clock.now().getTime() - Date.parse(task.createdAt);
  if (waited >= ports.settings.placementTimeoutSeconds * 1000) {
    const failed = await ports.tasks.transition(task.taskId, {
      to: 'failed',
      error: `${NO_WORKER_ERROR}: no socket worker for ${task.taskType} was free within ${ports.settings.placementTimeoutSeconds} s`,
    });
    if (!failed) return 'skipped';
    await announceEnd(ports, failed);
    return 'noWorker';
  }
  await ports.queue.enqueue(
    { taskId: task.taskId, taskType: task.taskType },
    { delaySeconds: placementRetrySeconds(ports.settings) },
  );
  return 'waiting';
}

/** Offers the task to one worker: a slot, the lease, then `task.assign`. */
async function offer(
  ports: OfferPorts,
  task: Task,
  connectionId: string,
): Promise<'assigned' | 'skipped' | 'next'> {
  if (!(await ports.workers.takeSlot(task.taskType, connectionId, task.taskId))) return 'next';
  const previous = task.attempt ?? 0;
  const attempt = previous + 1;
  const leaseSeconds = ports.settings.leaseSeconds;
  const leased = await ports.leases.takeLease(task.taskId, previous, {
    connectionId,
    attempt,
    leaseExpiresAt: iso(ports.clock.now().getTime() + leaseSeconds * 1000),
  });
  if (!leased) {
    // Another delivery took (or ended) it meanwhile.
    await ports.workers.releaseSlot(task.taskType, connectionId, task.taskId);
    return 'skipped';
  }
  const frame = ports.frames.make('task.assign', {
    taskId: task.taskId,
    taskType: task.taskType,
    args: task.args,
    // A chained task checks its input is its parent's (logic's artifact).
    ...(task.parentTaskId ? { parentTaskId: task.parentTaskId } : {}),
    attempt,
    leaseSeconds,
  });
  const { outcome } = await ports.poster.post(connectionId, Buffer.from(JSON.stringify(frame)));
  if (outcome === 'delivered') {
    ports.log.info('task assigned to a socket worker', {
      taskId: task.taskId,
      connectionId,
      attempt,
    });
    await announce(ports, leased);
    return 'assigned';
  }
  // Never reached the worker: as it was, and on to the next one.
  ports.log.warn('task offer not delivered', { taskId: task.taskId, connectionId, outcome });
  await ports.leases.releaseLease(
    task.taskId,
    connectionId,
    attempt,
    previous,
    iso(ports.clock.now().getTime() + QUEUED_DEADLINE_MS),
  );
  await ports.workers.releaseSlot(task.taskType, connectionId, task.taskId);
  return 'next';
}

/** `progress`: records progress and renews the lease. @throws AppError `lease_lost`. */
export async function workerProgress(
  ports: SocketWorkerPorts,
  connectionId: string,
  frame: { taskId: string; progress?: number; note?: string; requestId?: string },
): Promise<ServerFrame> {
  const now = ports.clock.now().getTime();
  const renewed = await ports.leases.renewLease(
    frame.taskId,
    connectionId,
    iso(now),
    iso(now + ports.settings.leaseSeconds * 1000),
    frame.progress,
    frame.note,
  );
  if (!renewed) {
    const task = await ports.tasks.get(frame.taskId);
    throw leaseLost(frame.taskId, notHeldReason(task, connectionId, now) ?? 'its lease lapsed');
  }
  if (frame.progress !== undefined) await announce(ports, renewed);
  return ackFrame(ports, frame.taskId, frame.requestId);
}

/**
 * `result`: queues the chained task (`next`), then ends the task `succeeded` (a result over
 * the inline cap stored as an artifact link, as a Lambda run's).
 * @throws AppError `bad_request` (a `next` of an unknown type or bad args) or `lease_lost`.
 */
export async function workerResult(
  ports: SocketWorkerPorts,
  connectionId: string,
  frame: {
    taskId: string;
    result: unknown;
    next?: { taskType: string; args: Record<string, unknown> };
    requestId?: string;
  },
): Promise<ServerFrame> {
  const types = taskTypesOf(ports.submit);
  if (frame.next && !types.find(frame.next.taskType)) {
    throw badRequest(`next.taskType: unknown task type "${frame.next.taskType}"`);
  }
  const now = ports.clock.now().getTime();
  const task = await ports.tasks.get(frame.taskId);
  const why = notHeldReason(task, connectionId, now);
  if (why !== undefined || !task) throw leaseLost(frame.taskId, why ?? 'no such task');
  const chained: string[] = [];
  if (frame.next) {
    const { task: child } = await submitTask(ports.submit, {
      taskType: frame.next.taskType,
      args: frame.next.args,
      source: 'chain',
      requester: task.requester,
      parentTaskId: task.taskId,
      // Whichever attempt finishes queues the same child, not a second one.
      dedupeKey: chainDedupeKey(task.taskId, frame.next.taskType),
    });
    chained.push(child.taskId);
  }
  const result = await storeLargeResult(ports, task, frame.result);
  const done = await ports.leases.endLeased(task.taskId, connectionId, iso(now), {
    to: 'succeeded',
    result,
  });
  if (!done) {
    const current = await ports.tasks.get(task.taskId);
    if (current?.status === 'cancelled') await cancelChained(ports, chained);
    throw leaseLost(task.taskId, notHeldReason(current, connectionId, now) ?? 'its lease lapsed');
  }
  await ports.workers.releaseSlot(task.taskType, connectionId, task.taskId);
  await announceEnd(ports, done);
  return ackFrame(ports, task.taskId, frame.requestId);
}

/** What offering a task at once needs: no queue, chat or artifacts (submit's `offerNow`). */
export type OfferPorts = Pick<
  SocketWorkerPorts,
  'tasks' | 'leases' | 'workers' | 'poster' | 'frames' | 'clock' | 'log' | 'settings' | 'updates'
>;

/**
 * Offers a queued task to a free socket worker at once, instead of after its queue's next
 * poll: a task placed `websocket`/`auto` skips that hop (submit, before queueing; a chained
 * task). The queue stays the way back: without a free worker the task is queued as usual (a
 * `websocket` task's wait and `no_worker` stay the queue's), and a held task that its worker
 * drops is taken back to the queue by its lease. A failure is logged, not thrown.
 * @returns true when the task is no longer queued for this (a worker holds it, or another
 *   delivery took it).
 */
export async function offerQueuedTask(ports: OfferPorts, task: Task): Promise<boolean> {
  if (task.status !== 'queued' || placementOf(ports.settings, task.taskType) === 'lambda') {
    return false;
  }
  try {
    for (const worker of await ports.workers.candidates(task.taskType, CANDIDATE_LIMIT)) {
      if ((await offer(ports, task, worker.connectionId)) !== 'next') return true;
    }
  } catch (e) {
    ports.log.warn('could not offer a task at once; it is queued', {
      taskId: task.taskId,
      error: e instanceof Error ? e.message : String(e),
    });
  }
  return false;
}

/**
 * `fail`: ends the task `failed`, or with `retryable` and attempts left, offers it again.
 * @throws AppError `lease_lost`.
 */
export async function workerFail(
  ports: SocketWorkerPorts,
  connectionId: string,
  frame: { taskId: string; error: string; retryable?: boolean; requestId?: string },
): Promise<ServerFrame> {
  const now = ports.clock.now().getTime();
  const task = await ports.tasks.get(frame.taskId);
  const why = notHeldReason(task, connectionId, now);
  if (why !== undefined || !task) throw leaseLost(frame.taskId, why ?? 'no such task');
  if (frame.retryable && (task.attempt ?? 1) < ports.maxAttempts) {
    const reason = `the worker failed it: ${frame.error}`;
    if (!(await takeBack(ports, task, connectionId, reason, { refused: true }))) {
      throw leaseLost(task.taskId, 'it was taken back');
    }
    return ackFrame(ports, task.taskId, frame.requestId);
  }
  const done = await ports.leases.endLeased(task.taskId, connectionId, iso(now), {
    to: 'failed',
    error: frame.error,
  });
  if (!done) {
    const current = await ports.tasks.get(task.taskId);
    throw leaseLost(task.taskId, notHeldReason(current, connectionId, now) ?? 'its lease lapsed');
  }
  await ports.workers.releaseSlot(task.taskType, connectionId, task.taskId);
  await announceEnd(ports, done);
  return ackFrame(ports, task.taskId, frame.requestId);
}

/**
 * Queues a task again that the connection held (attempt counted); true when it did. `refused`:
 * the worker gave it back itself, so the next dispatch offers it to the other workers.
 */
async function takeBack(
  ports: SocketWorkerPorts,
  task: Task,
  connectionId: string,
  reason: string,
  options: { refused?: boolean } = {},
): Promise<boolean> {
  const attempt = task.attempt ?? 1;
  const queued = await ports.leases.releaseLease(
    task.taskId,
    connectionId,
    attempt,
    attempt,
    iso(ports.clock.now().getTime() + QUEUED_DEADLINE_MS),
  );
  await ports.workers.releaseSlot(task.taskType, connectionId, task.taskId).catch(() => undefined);
  if (!queued) return false;
  ports.log.warn('task taken back from a socket worker', {
    taskId: task.taskId,
    connectionId,
    attempt,
    reason,
  });
  await ports.queue.enqueue({
    taskId: task.taskId,
    taskType: task.taskType,
    ...(options.refused ? { refusedBy: connectionId } : {}),
  });
  return true;
}

/**
 * A socket worker lost a task it held (it disconnected, or its lease lapsed): the task is
 * offered again (attempt + 1) while attempts are left, else it fails with the reason.
 * @returns what became of it.
 */
export async function loseTask(
  ports: SocketWorkerPorts,
  task: Task,
  reason: string,
): Promise<'requeued' | 'failed' | 'skipped'> {
  const connectionId = task.workerConnectionId;
  if (!connectionId || task.status !== 'running') return 'skipped';
  const attempt = task.attempt ?? 1;
  if (attempt < ports.maxAttempts) {
    return (await takeBack(ports, task, connectionId, reason)) ? 'requeued' : 'skipped';
  }
  const failed = await ports.leases.failLeased(
    task.taskId,
    connectionId,
    attempt,
    `${reason} (gave up after ${attempt} attempts)`,
  );
  await ports.workers.releaseSlot(task.taskType, connectionId, task.taskId).catch(() => undefined);
  if (!failed) return 'skipped';
  await announceEnd(ports, failed);
  return 'failed';
}

/** A worker connection went away ($disconnect): every task it held is lost. */
export async function workerGone(ports: SocketWorkerPorts, connectionId: string): Promise<number> {
  const held = await ports.workers.unregister(connectionId);
  let lost = 0;
  for (const { taskId } of held) {
    const task = await ports.tasks.get(taskId);
    if (task?.workerConnectionId !== connectionId) continue;
    if ((await loseTask(ports, task, 'the socket worker disconnected')) !== 'skipped') lost++;
  }
  return lost;
}

/**
 * The lease sweep, for the reaper: a running task past its deadline that a socket worker holds
 * has a lapsed lease (its deadline is the lease's expiry). @returns false when the task is no
 * socket worker's (the reaper handles it as before).
 */
export async function sweepLapsedLease(ports: SocketWorkerPorts, taskId: string): Promise<boolean> {
  const task = await ports.tasks.get(taskId);
  if (!task?.workerConnectionId || task.status !== 'running') return false;
  const expires = task.leaseExpiresAt ? Date.parse(task.leaseExpiresAt) : 0;
  // Renewed since the index was read: nothing lapsed.
  if (expires > ports.clock.now().getTime()) return true;
  await loseTask(ports, task, 'the socket worker let its lease lapse');
  return true;
}

/**
 * A task a socket worker held was cancelled: the worker is told (`task.cancel`) and its slot
 * freed. Best effort: a worker that misses it gets `lease_lost` on its next answer.
 */
export async function tellWorkerCancelled(
  ports: Pick<SocketWorkerPorts, 'workers' | 'poster' | 'frames' | 'log'>,
  task: Task,
): Promise<void> {
  const connectionId = task.workerConnectionId;
  if (!connectionId) return;
  const frame = ports.frames.make('task.cancel', { taskId: task.taskId });
  const { outcome } = await ports.poster.post(connectionId, Buffer.from(JSON.stringify(frame)));
  ports.log.info('socket worker told of a cancel', { taskId: task.taskId, connectionId, outcome });
  await ports.workers.releaseSlot(task.taskType, connectionId, task.taskId);
}

/**
 * A lease-only sweep (the local runtime runs it every half lease; the stack's reaper does the
 * same each minute): the running tasks past their deadline, by one Query of openByDeadline,
 * bounded; those a socket worker holds are taken back. @returns how many it took back.
 */
export async function sweepLeases(
  ports: SocketWorkerPorts,
  store: Pick<ReaperStore, 'overdue'>,
  limit: number = REAP_LIMIT,
): Promise<number> {
  const overdue = await store.overdue('running', ports.clock.now().toISOString(), limit);
  let taken = 0;
  for (const task of overdue) {
    try {
      if (await sweepLapsedLease(ports, task.taskId)) taken++;
    } catch (e) {
      ports.log.error('lease sweep could not take a task back', {
        taskId: task.taskId,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }
  return taken;
}
