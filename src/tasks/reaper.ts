import type { Clock } from '../ports/clock';
import type { Log } from '../ports/log';
import type { Task } from './task';
import type { TaskQueue } from './task-queue';

/**
 * The reaper: the recovery path for accepted tasks that nothing will move on any more. Every open
 * task carries a deadline (`deadlineAt`, in the tasks table's sparse openByDeadline index); a
 * task still queued or running past it has lost its message (an SQS send that failed after the
 * task was written, a dead-letter handler that gave up, queues that did not survive a restart)
 * or its worker. The reaper re-queues such a task, a few times, then fails it and says so.
 *
 * Re-queueing is safe to repeat: the claim is conditional on the deadline the reaper read, so two
 * reapers (EventBridge delivers at least once) re-queue a task once; and a task whose message
 * then arrives twice still runs once (the worker is idempotent on the task id) and ends once
 * (terminal transitions are conditional).
 */

/** The statuses a task is open in, which the reaper watches. */
export const OPEN_STATUSES = ['queued', 'running'] as const;
export type OpenStatus = (typeof OPEN_STATUSES)[number];

/**
 * How long a task may stay queued before the reaper queues it again: far longer than a message
 * waits on a healthy queue, short enough that a lost message costs minutes, not a day.
 */
export const QUEUED_DEADLINE_MS = 10 * 60_000;
/**
 * How long a task may stay running when its worker set no deadline of its own (the worker sets
 * its run budget plus a visibility timeout, see lambdas/workers/task-worker.ts).
 */
export const RUNNING_DEADLINE_MS = 15 * 60_000;
/** Re-queues a task gets before the reaper fails it. */
export const MAX_REAPS = 3;
/** Tasks handled per status and run: bounds one invocation; the next run takes the rest. */
export const REAP_LIMIT = 500;
/** Re-queues in flight at once. */
const REAP_CONCURRENCY = 10;

/** An open task as the openByDeadline index shows it. */
export interface OpenTask {
  readonly taskId: string;
  readonly taskType: string;
  readonly status: OpenStatus;
  /** The deadline the reaper read (ISO); its claim holds only while the task still has it. */
  readonly deadlineAt: string;
  /** Times the reaper re-queued the task so far. */
  readonly reaps: number;
}

/** The tasks table as the reaper uses it. */
export interface ReaperStore {
  /**
   * Open tasks of one status whose deadline is at or before `before` (ISO), earliest deadline
   * first, at most `limit`; read in full before anything is changed.
   */
  overdue(status: OpenStatus, before: string, limit: number): Promise<OpenTask[]>;
  /**
   * Claims a re-queue: gives the task `nextDeadlineAt` (and counts a reap when `countReap`),
   * only while it still has the status and deadline the reaper read.
   * @returns false when the task moved on meanwhile (another reaper, a worker).
   */
  claimReap(task: OpenTask, nextDeadlineAt: string, countReap: boolean): Promise<boolean>;
  /**
   * Marks the task failed with `error`, only while it still has the status and deadline the
   * reaper read. @returns the failed task, or undefined when it moved on meanwhile.
   */
  failOverdue(task: OpenTask, error: string): Promise<Task | undefined>;
}

/** What the reaper needs. */
export interface ReaperPorts {
  readonly tasks: ReaperStore;
  readonly queue: TaskQueue;
  /** Tells a task's audience (and its chat) that it failed. */
  readonly announce: (task: Task) => Promise<void>;
  readonly clock: Clock;
  readonly log: Log;
  /**
   * The lease sweep (src/tasks/socket/socket-workers.ts `sweepLapsedLease`): given an overdue
   * running task, takes it from the socket worker whose lease lapsed and returns true; false
   * when no socket worker holds it (then the reaper handles it as any stuck task).
   */
  readonly lapsedLease?: (taskId: string) => Promise<boolean>;
}

/** Options of one reaper run. */
export interface ReapOptions {
  /** Re-queues before a task is failed (default {@link MAX_REAPS}). */
  readonly maxReaps?: number;
  /** The deadline a re-queued task gets, from now (default {@link QUEUED_DEADLINE_MS}). */
  readonly queuedDeadlineMs?: number;
  /** Tasks per status and run (default {@link REAP_LIMIT}). */
  readonly limit?: number;
  /**
   * Re-queue every open task whatever its deadline, without counting a reap: for a start-up
   * after which no message and no invocation of the previous run can exist (the local runtime,
   * whose queues live in memory). Nothing is failed in this mode.
   */
  readonly everything?: boolean;
}

/** What one run did. */
export interface ReapReport {
  /** Tasks put back on their queue. */
  readonly requeued: number;
  /** Tasks failed after their last re-queue. */
  readonly failed: number;
  /** Tasks another reaper or a worker moved on before this one could. */
  readonly skipped: number;
  /** Tasks whose re-queue failed (they stay overdue, for the next run). */
  readonly errors: number;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The error a task failed by the reaper ends with. */
export function reapedError(status: OpenStatus, reaps: number): string {
  return status === 'queued'
    ? `no worker picked the task up: it was still queued after ${reaps} re-queues (reaper)`
    : `the worker never finished the task: it was still running after ${reaps} re-queues (reaper)`;
}

/**
 * One reaper run: re-queues the open tasks past their deadline, and fails those already
 * re-queued `maxReaps` times, telling their audience. Errors on one task are logged and left
 * for the next run; the run itself throws only when the store cannot be read.
 */
export async function reapTasks(
  ports: ReaperPorts,
  options: ReapOptions = {},
): Promise<ReapReport> {
  const maxReaps = options.maxReaps ?? MAX_REAPS;
  const limit = options.limit ?? REAP_LIMIT;
  const now = ports.clock.now();
  const nextDeadlineAt = new Date(
    now.getTime() + (options.queuedDeadlineMs ?? QUEUED_DEADLINE_MS),
  ).toISOString();
  // ISO times sort as strings; "9999" is after every deadline a task can have.
  const before = options.everything ? '9999-12-31T23:59:59.999Z' : now.toISOString();
  const report = { requeued: 0, failed: 0, skipped: 0, errors: 0 };

  const reapOne = async (task: OpenTask): Promise<void> => {
    // A socket worker's deadline is its lease: lapsed, the task goes to another worker.
    if (task.status === 'running' && ports.lapsedLease && !options.everything) {
      if (await ports.lapsedLease(task.taskId)) return;
    }
    if (!options.everything && task.reaps >= maxReaps) {
      const failed = await ports.tasks.failOverdue(task, reapedError(task.status, task.reaps));
      if (!failed) {
        report.skipped++;
        return;
      }
      report.failed++;
      ports.log.error('stuck task failed by the reaper', {
        taskId: task.taskId,
        taskType: task.taskType,
        was: task.status,
        reaps: task.reaps,
      });
      await ports.announce(failed).catch((e: unknown) =>
        ports.log.warn('could not announce a reaped task', {
          taskId: task.taskId,
          error: errorText(e),
        }),
      );
      return;
    }
    if (!(await ports.tasks.claimReap(task, nextDeadlineAt, !options.everything))) {
      report.skipped++;
      return;
    }
    try {
      await ports.queue.enqueue({ taskId: task.taskId, taskType: task.taskType });
      report.requeued++;
      // At a start every open task is queued again by design: that is not news per task.
      const logAt = options.everything ? ports.log.debug : ports.log.warn;
      logAt.call(ports.log, 'stuck task re-queued by the reaper', {
        taskId: task.taskId,
        taskType: task.taskType,
        was: task.status,
        deadlineAt: task.deadlineAt,
        reaps: options.everything ? task.reaps : task.reaps + 1,
      });
    } catch (e) {
      // The claim moved the deadline on, so the next run after it tries again.
      report.errors++;
      ports.log.error('reaper could not re-queue a task', {
        taskId: task.taskId,
        error: errorText(e),
      });
    }
  };

  for (const status of OPEN_STATUSES) {
    const overdue = await ports.tasks.overdue(status, before, limit);
    for (let i = 0; i < overdue.length; i += REAP_CONCURRENCY) {
      await Promise.all(
        overdue.slice(i, i + REAP_CONCURRENCY).map((task) =>
          reapOne(task).catch((e: unknown) => {
            report.errors++;
            ports.log.error('reaper could not handle a task', {
              taskId: task.taskId,
              error: errorText(e),
            });
          }),
        ),
      );
    }
  }
  return report;
}
