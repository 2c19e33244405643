import type { Task, TaskStatus } from './task';

/** The result of creating a task that may already exist. */
export interface CreateResult {
  readonly task: Task;
  /** False when a task with the same id was already there (a retry or a duplicate). */
  readonly created: boolean;
}

/** A change of a task's status (and what comes with it). */
export interface TaskChange {
  readonly to: TaskStatus;
  readonly progress?: number;
  readonly result?: unknown;
  readonly error?: string;
  /**
   * ISO time after which the reaper takes the (still open) task for stuck; the store's default
   * for the new status when absent. Terminal statuses have none.
   */
  readonly deadlineAt?: string;
}

/** The port through which the domain keeps tasks. */
export interface TaskStore {
  /** Creates the task unless its id exists; either way returns the stored task. */
  create(task: Task): Promise<CreateResult>;
  get(taskId: string): Promise<Task | undefined>;
  /**
   * Claims the right to enqueue the task: true for exactly one caller while the task has not
   * been enqueued and no other claim is younger than `staleAfterMs`.
   */
  claimEnqueue(taskId: string, staleAfterMs: number): Promise<boolean>;
  /** Records that the queue accepted the task's message. */
  markEnqueued(taskId: string): Promise<void>;
  /**
   * Moves the task forward (queued → running → succeeded | failed, or queued | running →
   * cancelled) with one conditional write; a change that would go backwards or leave a terminal
   * status is refused, so of two concurrent terminal changes exactly one wins.
   * @returns the updated task, or undefined when the change was refused.
   */
  transition(taskId: string, change: TaskChange): Promise<Task | undefined>;
  /** Records progress of a running task; undefined when the task is not running. */
  setProgress(taskId: string, progress: number): Promise<Task | undefined>;
  /**
   * Whether the task is still running, answered by a conditional write (it bumps `updatedAt`),
   * not a read: ordered with any cancel, so a false here means the task has ended.
   */
  stillRunning(taskId: string): Promise<boolean>;
  /** Tasks newest first, of a user and/or in a status (`GET /tasks`). */
  list(query: TaskListQuery): Promise<TaskListPage>;
  /** Tasks counted per status. */
  countByStatus(): Promise<Record<TaskStatus, number>>;
}

/** Where a listing stopped: the last task it gave (the next page starts after it). */
export interface TaskListPosition {
  readonly taskId: string;
  readonly createdAt: string;
}

/** What `GET /tasks` asks for: a user, a status or both (at least one). */
export interface TaskListQuery {
  readonly userId?: string;
  readonly status?: TaskStatus;
  /** At most this many tasks (1..100). */
  readonly limit: number;
  /** Continue after this task (from the previous page). */
  readonly after?: TaskListPosition;
}

/** A page of tasks, newest first. */
export interface TaskListPage {
  readonly tasks: readonly Task[];
  /** Where the next page starts; absent on the last page. */
  readonly next?: TaskListPosition;
}
