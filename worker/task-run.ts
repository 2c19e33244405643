import type { BaseFrame, ClientFrame } from '../client/src/index.js';
import { TaskwireServerError } from '../client/src/index.js';
import type { ArtifactStore } from '../src/artifacts/artifact-store';
import { isAppError } from '../src/errors/app-error';
import type { TaskRegistry } from '../src/tasks/registry';
import type { Task } from '../src/tasks/task';
import { chainedTaskId } from '../src/tasks/task-id';
import {
  PermanentTaskError,
  type ResolvedServer,
  TaskCancelledError,
  type TaskRunContext,
} from '../src/tasks/types/task-type';
import { PROGRESS_INTERVAL_MS } from '../src/tasks/worker';
import { MAX_CLIENT_FRAME_BYTES } from '../src/ws/client-frames';
import type { TaskAssignment } from './assign-frame';
import type { JsonLineLog } from './log';

/** What one run needs from the worker around it. */
export interface RunPorts {
  /** Sends an action and resolves with its answer (`TaskwireClient.request`). */
  readonly request: (frame: ClientFrame) => Promise<BaseFrame>;
  readonly registry: TaskRegistry;
  readonly artifacts: ArtifactStore;
  readonly servers: Readonly<Record<string, ResolvedServer>>;
  readonly fetch: typeof fetch;
  readonly log: JsonLineLog;
  readonly now: () => number;
}

/**
 * How a run ended, as the worker tells it:
 * `succeeded` (the server took the `result`), `failed` (it took a permanent `fail`), `retried`
 * (it took a retryable `fail`: the task is offered again), `dropped` (cancelled or the lease was
 * lost: nothing was sent, or the answer was refused with `lease_lost`), `unanswered` (the answer
 * could not be delivered: the server takes the task back when the lease lapses).
 */
export type RunOutcome = 'succeeded' | 'failed' | 'retried' | 'dropped' | 'unanswered';

/** One line per finished task (the CLI logs it; a bench or a test counts them). */
export interface RunReport {
  readonly taskId: string;
  readonly taskType: string;
  readonly attempt: number;
  readonly outcome: RunOutcome;
  /** The chained task the result named (`next`), by its id. */
  readonly chainedTaskId?: string;
  readonly error?: string;
  readonly durationMs: number;
}

/** A chained task as a `result` frame's `next` carries it. */
interface Next {
  readonly taskType: string;
  readonly args: Record<string, unknown>;
}

const errorText = (e: unknown): string => {
  const text = (e instanceof Error ? e.message || e.name : String(e)).slice(0, 1000);
  return text.length > 0 ? text : 'the task failed';
};

const isLeaseLost = (e: unknown): boolean =>
  e instanceof TaskwireServerError && e.code === 'lease_lost';

/** Answers the server refuses as a mistake of the worker (never a chance failure). */
const REFUSED_CODES: ReadonlySet<string> = new Set(['bad_request', 'too_large', 'forbidden']);

/**
 * One `task.assign` run to its end on a socket worker: the type's `run(args, ctx)` with a
 * context whose `progress` is the `progress` action (which renews the lease), a renewal timer
 * that keeps the lease while a long step reports nothing, a `chain` that records the `next` of
 * the result, and the one answer (`result` or `fail`) at the end. A `task.cancel` or a
 * `lease_lost` aborts `signal` and drops the outcome: the task is someone else's now.
 */
export class TaskRun {
  readonly #ports: RunPorts;
  readonly #assign: TaskAssignment;
  readonly #log: JsonLineLog;
  readonly #stop = new AbortController();
  readonly #startedAt: number;
  #lastProgressAt = 0;
  #lastSentAt: number;
  #next: Next | undefined;
  #stopReason: string | undefined;

  public constructor(ports: RunPorts, assign: TaskAssignment) {
    this.#ports = ports;
    this.#assign = assign;
    this.#startedAt = ports.now();
    // The offer itself started the lease.
    this.#lastSentAt = this.#startedAt;
    this.#log = ports.log.child({
      taskId: assign.taskId,
      taskType: assign.taskType,
      attempt: assign.attempt,
    });
  }

  public get taskId(): string {
    return this.#assign.taskId;
  }

  /** True once the run was told to stop (cancel, lost lease, worker closed). */
  public get stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /**
   * Stops the run: `signal` aborts, `progress`/`chain` throw TaskCancelledError, and whatever
   * the run returns is dropped (nothing is sent).
   */
  public abort(reason: string): void {
    if (this.#stop.signal.aborted) return;
    this.#stopReason = reason;
    this.#log.info('task run stopped', { reason });
    this.#stop.abort(new TaskCancelledError(this.#assign.taskId));
  }

  /** Runs the task and sends its answer; never throws. */
  public async execute(): Promise<RunReport> {
    const spec = this.#ports.registry.find(this.#assign.taskType);
    if (!spec) {
      return this.#fail(
        new PermanentTaskError(`this worker does not run task type "${this.#assign.taskType}"`),
      );
    }
    const parsed = spec.argsSchema.safeParse(this.#assign.args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue?.path.length ? `.${issue.path.join('.')}` : '';
      return this.#fail(new PermanentTaskError(`args${path}: ${issue?.message ?? 'invalid'}`));
    }
    this.#log.info('task run started');
    const renewal = this.#startRenewal();
    let result: unknown;
    try {
      result = await spec.run(parsed.data, this.#context());
    } catch (e) {
      clearInterval(renewal);
      if (this.stopped) return this.#report('dropped', { error: this.#stopReason });
      return this.#fail(e);
    }
    clearInterval(renewal);
    if (this.stopped) return this.#report('dropped', { error: this.#stopReason });
    return this.#succeed(result);
  }

  /** Renews the lease every third of it while the run reports nothing itself. */
  #startRenewal(): ReturnType<typeof setInterval> {
    const every = Math.max(PROGRESS_INTERVAL_MS, (this.#assign.leaseSeconds * 1000) / 3);
    return setInterval(() => {
      if (this.stopped || this.#ports.now() - this.#lastSentAt < every * 0.9) return;
      void this.#sendProgress({}).catch(() => undefined);
    }, every / 2);
  }

  /**
   * Sends `progress` (renewing the lease). @throws TaskCancelledError (after aborting the run)
   * when the server answers `lease_lost`; any other failure is logged, the renewal tries again.
   */
  async #sendProgress(fields: { progress?: number; note?: string }): Promise<void> {
    this.#lastSentAt = this.#ports.now();
    try {
      await this.#ports.request({ action: 'progress', taskId: this.#assign.taskId, ...fields });
    } catch (e) {
      if (isLeaseLost(e)) {
        this.abort(`the lease was lost: ${errorText(e)}`);
        throw new TaskCancelledError(this.#assign.taskId);
      }
      if (this.stopped) throw new TaskCancelledError(this.#assign.taskId);
      this.#log.warn('progress not delivered', { error: errorText(e) });
    }
  }

  #throwIfStopped(): void {
    if (this.stopped) throw new TaskCancelledError(this.#assign.taskId);
  }

  #context(): TaskRunContext {
    const now = new Date(this.#startedAt).toISOString();
    const assign = this.#assign;
    // What the record of an assigned task holds, as far as a worker may know it: a chained task
    // (one with a parent) came from the chain, which is what logic checks of its artifact.
    const task: Task = {
      taskId: assign.taskId,
      taskType: assign.taskType,
      args: assign.args,
      status: 'running',
      source: assign.parentTaskId !== undefined ? 'chain' : 'ws',
      requester: {},
      ...(assign.parentTaskId !== undefined ? { parentTaskId: assign.parentTaskId } : {}),
      createdAt: now,
      updatedAt: now,
      expiresAt: 0,
      attempt: assign.attempt,
    };
    return {
      task,
      artifacts: this.#ports.artifacts,
      servers: this.#ports.servers,
      fetch: this.#ports.fetch,
      log: this.#log,
      signal: this.#stop.signal,
      progress: async (fraction: number, note?: string) => {
        this.#throwIfStopped();
        const at = this.#ports.now();
        if (at - this.#lastProgressAt < PROGRESS_INTERVAL_MS) return;
        this.#lastProgressAt = at;
        const clamped = Number.isFinite(fraction) ? Math.max(0, Math.min(1, fraction)) : 0;
        await this.#sendProgress({
          progress: clamped,
          ...(note ? { note: note.slice(0, 500) } : {}),
        });
      },
      chain: async (taskType: string, args: Record<string, unknown>) => {
        this.#throwIfStopped();
        if (!this.#ports.registry.find(taskType)) {
          throw new PermanentTaskError(`chain: unknown task type "${taskType}"`);
        }
        if (this.#next && this.#next.taskType !== taskType) {
          throw new PermanentTaskError(
            `chain: a socket worker's result carries one chained task (already ${this.#next.taskType})`,
          );
        }
        // No round trip here: the chained task rides on the `result`, which the server refuses
        // (`lease_lost`, nothing queued) for a task cancelled meanwhile.
        this.#next = { taskType, args };
        return chainedTaskId(assign.taskId, taskType);
      },
    };
  }

  async #succeed(result: unknown): Promise<RunReport> {
    const frame: ClientFrame = {
      action: 'result',
      taskId: this.#assign.taskId,
      result: result ?? null,
      ...(this.#next ? { next: this.#next } : {}),
    };
    const bytes = Buffer.byteLength(JSON.stringify(frame));
    // Leave room for the requestId the client adds.
    if (bytes > MAX_CLIENT_FRAME_BYTES - 256) {
      return this.#fail(
        new PermanentTaskError(
          `the result (${bytes} bytes) does not fit a frame (${MAX_CLIENT_FRAME_BYTES} bytes)`,
        ),
      );
    }
    const chained = this.#next
      ? { chainedTaskId: chainedTaskId(this.#assign.taskId, this.#next.taskType) }
      : {};
    return this.#answer(frame, 'succeeded', chained);
  }

  /** Sends `fail`: permanent for PermanentTaskError (and an AppError), else retryable. */
  async #fail(e: unknown): Promise<RunReport> {
    const permanent = e instanceof PermanentTaskError || isAppError(e);
    const error = errorText(e);
    this.#log.warn('task run failed', { error, permanent });
    return this.#answer(
      { action: 'fail', taskId: this.#assign.taskId, error, retryable: !permanent },
      permanent ? 'failed' : 'retried',
      { error },
    );
  }

  async #answer(
    frame: ClientFrame,
    outcome: RunOutcome,
    extra: { error?: string; chainedTaskId?: string },
  ): Promise<RunReport> {
    try {
      await this.#ports.request(frame);
      return this.#report(outcome, extra);
    } catch (e) {
      if (isLeaseLost(e) || this.stopped) {
        return this.#report('dropped', { error: this.#stopReason ?? errorText(e) });
      }
      if (
        e instanceof TaskwireServerError &&
        REFUSED_CODES.has(e.code) &&
        frame.action === 'result'
      ) {
        // The server refused the result itself (e.g. a `next` of bad args): fail the task so it
        // does not wait for the lease to lapse.
        return this.#fail(new PermanentTaskError(`the server refused the result: ${e.message}`));
      }
      this.#log.error('task answer not delivered', { action: frame.action, error: errorText(e) });
      return this.#report('unanswered', { error: errorText(e) });
    }
  }

  #report(outcome: RunOutcome, extra: { error?: string; chainedTaskId?: string }): RunReport {
    return {
      taskId: this.#assign.taskId,
      taskType: this.#assign.taskType,
      attempt: this.#assign.attempt,
      outcome,
      ...(extra.chainedTaskId !== undefined ? { chainedTaskId: extra.chainedTaskId } : {}),
      ...(extra.error !== undefined ? { error: extra.error } : {}),
      durationMs: this.#ports.now() - this.#startedAt,
    };
  }
}
