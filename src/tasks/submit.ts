import { badRequest } from '../errors/app-error';
import type { Clock } from '../ports/clock';
import type { Log } from '../ports/log';
import { assertJsonDepth } from '../push/json-depth';
import { readTaskArgs, TASK_REGISTRY, type TaskRegistry } from './registry';
import { TASK_TTL_SECONDS, type Requester, type Task, type TaskSource } from './task';
import { dedupedTaskId, newTaskId } from './task-id';
import type { TaskQueue } from './task-queue';
import type { TaskStore } from './task-store';
import type { ArgsContext, TaskTypeSpec } from './types/task-type';

/**
 * A creator that died between writing a task and queueing it leaves a claim behind; after this
 * long a retry may take the claim over and queue the task. Longer than the callback's own
 * timeout, so a live creator is never overtaken.
 */
export const ENQUEUE_CLAIM_STALE_MS = 10_000;

/** What submitting needs. */
export interface SubmitPorts {
  readonly tasks: TaskStore;
  readonly queue: TaskQueue;
  readonly clock: Clock;
  readonly log: Log;
  readonly args: ArgsContext;
  /** The task types submits may name and the worker runs (default: the shipped ones). */
  readonly types?: TaskRegistry;
  /**
   * Called once a new task is recorded, before it is queued (so before any worker can report
   * on it). Best effort: a failure is logged and the task is queued all the same.
   */
  readonly onCreated?: (task: Task) => Promise<void>;
  /** Called once a new task is queued, to push its `queued` update to the audience. */
  readonly onQueued?: (task: Task) => Promise<void>;
  /**
   * Offers a just-recorded task to a free socket worker before it is queued (placement
   * `websocket`/`auto`): true when a worker holds it (or another delivery took it), and then no
   * queue message is sent, since the lease brings it back to the queue if the worker drops it.
   * Never throws: false sends the message as usual.
   */
  readonly placeNow?: (task: Task) => Promise<boolean>;
  /**
   * Called once a task is cancelled (src/tasks/cancel.ts), to push its `cancelled` update to
   * the audience and send its chat notification, as the worker does for every other end.
   */
  readonly onCancelled?: (task: Task) => Promise<void>;
}

/** The task types of submit ports. */
export const taskTypesOf = (ports: Pick<SubmitPorts, 'types'>): TaskRegistry =>
  ports.types ?? TASK_REGISTRY;

/**
 * Submit ports, or a getter that builds them on first use: task settings are then read only
 * by the routes that submit, so /healthz or ping work even before tasks are configured.
 */
export type SubmitPortsSource = SubmitPorts | (() => SubmitPorts);

/** The submit ports of a source. */
export const submitPortsOf = (source: SubmitPortsSource): SubmitPorts =>
  typeof source === 'function' ? source() : source;

/** A request to run a task. */
export interface SubmitRequest {
  readonly taskType: string;
  /** A string array (positional words) or an object (the type's schema). */
  readonly args: unknown;
  readonly source: TaskSource;
  readonly requester: Requester;
  /**
   * Makes the submit idempotent: the same key always yields the same single task (per source).
   * Build a key of several parts with {@link idempotencyKey}, never by joining them.
   */
  readonly dedupeKey?: string;
  /** The task that queued this one; set (with source `chain`) only by the worker. */
  readonly parentTaskId?: string;
}

/**
 * An unambiguous dedupe key from its parts (a JSON array): `["alice:x","y"]` and
 * `["alice","x:y"]` differ, where joining with `:` would give both `alice:x:y` and hand one
 * user's retry the other user's task.
 */
export const idempotencyKey = (...parts: readonly string[]): string => JSON.stringify(parts);

/**
 * Arguments that only a chained task may carry (e.g. logic's `artifact`: files belong to the
 * task chain that made them, and a client that could name one could read anyone's). Checked on
 * the raw args, so the answer is this rule whatever shape the client gave the field.
 * @throws AppError `bad_request`.
 */
function refuseChainOnlyArgs(spec: TaskTypeSpec, request: SubmitRequest): void {
  const chained = request.source === 'chain' && request.parentTaskId !== undefined;
  const args = request.args;
  if (chained || typeof args !== 'object' || args === null || Array.isArray(args)) return;
  const field = spec.chainOnlyArgs?.find((name) => Object.hasOwn(args, name));
  if (field !== undefined) {
    throw badRequest(
      `args.${field}: set only by the task chain (download → ${spec.name}); a submit cannot name it`,
    );
  }
}

/** The submitted task, and whether this call created it. */
export interface Submitted {
  readonly task: Task;
  readonly created: boolean;
}

/**
 * Validates, records and queues a task. With a dedupe key, a repeated or concurrent submit
 * returns the one task and queues one message.
 * @throws AppError `bad_request` for an unknown type, bad arguments, arguments nested too deeply
 *   or arguments only a chained task may carry (nothing is written).
 */
export async function submitTask(ports: SubmitPorts, request: SubmitRequest): Promise<Submitted> {
  // First: zod and the task record's marshalling recurse.
  assertJsonDepth(request.args, 'args');
  const spec = taskTypesOf(ports).get(request.taskType);
  refuseChainOnlyArgs(spec, request);
  const args = readTaskArgs(spec, request.args, ports.args);
  const now = ports.clock.now();
  const task: Task = {
    taskId: request.dedupeKey ? dedupedTaskId(request.source, request.dedupeKey) : newTaskId(),
    taskType: spec.name,
    args,
    status: 'queued',
    source: request.source,
    requester: request.requester,
    ...(request.parentTaskId ? { parentTaskId: request.parentTaskId } : {}),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + TASK_TTL_SECONDS,
  };
  const { task: stored, created } = await ports.tasks.create(task);
  if (created && ports.onCreated) {
    await ports.onCreated(stored).catch((e: unknown) =>
      ports.log.warn('could not tell the submitter', {
        taskId: stored.taskId,
        error: e instanceof Error ? e.message : String(e),
      }),
    );
  }
  const mayEnqueue =
    created || (await ports.tasks.claimEnqueue(stored.taskId, ENQUEUE_CLAIM_STALE_MS));
  if (mayEnqueue) {
    if (ports.placeNow) {
      // `queued` first, so the audience sees queued → running in that order.
      await ports.onQueued?.(stored);
      if (await ports.placeNow(stored)) {
        ports.log.info('task placed on a socket worker', { taskId: stored.taskId, created });
        return { task: stored, created };
      }
    }
    await ports.queue.enqueue({ taskId: stored.taskId, taskType: stored.taskType });
    await ports.tasks.markEnqueued(stored.taskId);
    ports.log.info('task queued', { taskId: stored.taskId, taskType: stored.taskType, created });
    if (!ports.placeNow) await ports.onQueued?.(stored);
  } else {
    ports.log.info('duplicate submit', { taskId: stored.taskId, taskType: stored.taskType });
  }
  return { task: stored, created };
}
