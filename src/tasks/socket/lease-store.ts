import type { Task, TaskStatus } from '../task';

/** A lease a socket worker takes on a queued task. */
export interface LeaseTerms {
  readonly connectionId: string;
  /** The offer's number: the task's last attempt plus one. */
  readonly attempt: number;
  /** ISO time the lease lapses (also the task's reaper deadline while it is held). */
  readonly leaseExpiresAt: string;
}

/** The terminal change a socket worker's answer makes. */
export interface LeasedEnd {
  readonly to: Extract<TaskStatus, 'succeeded' | 'failed'>;
  readonly result?: unknown;
  readonly error?: string;
}

/**
 * Leases on tasks, each a conditional write on the task record, so that a task is held by one
 * socket worker at a time, ends exactly once, and a late answer is refused.
 */
export interface LeaseStore {
  /**
   * queued → running, held by the connection, only while the task is queued with the attempt
   * count `previousAttempt` (0 when it never had one). @returns the task, or undefined.
   */
  takeLease(taskId: string, previousAttempt: number, terms: LeaseTerms): Promise<Task | undefined>;
  /**
   * Moves a held lease's expiry out (and records progress and the worker's last note, kept on
   * the record as `note` for the chat's status view), only while the connection holds an
   * unlapsed lease at `now` (ISO). @returns the task, or undefined (lease lost).
   */
  renewLease(
    taskId: string,
    connectionId: string,
    now: string,
    leaseExpiresAt: string,
    progress?: number,
    note?: string,
  ): Promise<Task | undefined>;
  /**
   * Ends a held task (succeeded/failed), only while the connection holds an unlapsed lease at
   * `now`. @returns the ended task, or undefined (lease lost: the answer is refused).
   */
  endLeased(
    taskId: string,
    connectionId: string,
    now: string,
    end: LeasedEnd,
  ): Promise<Task | undefined>;
  /**
   * Takes the task from the connection (running → queued, lease removed), only while that
   * connection holds it at `attempt`; `nextAttempt` is what the task's attempt count becomes
   * (the same for an offer that never reached the worker). @returns the queued task, or undefined.
   */
  releaseLease(
    taskId: string,
    connectionId: string,
    attempt: number,
    nextAttempt: number,
    deadlineAt: string,
  ): Promise<Task | undefined>;
  /**
   * Fails the task the connection holds at `attempt` (its last attempt was lost), whether or
   * not its lease has lapsed. @returns the failed task, or undefined when it moved on.
   */
  failLeased(
    taskId: string,
    connectionId: string,
    attempt: number,
    error: string,
  ): Promise<Task | undefined>;
}
