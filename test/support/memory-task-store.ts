import { isTerminal, TASK_STATUSES, type Task, type TaskStatus } from '../../src/tasks/task';
import type { LeasedEnd, LeaseStore, LeaseTerms } from '../../src/tasks/socket/lease-store';
import type {
  CreateResult,
  TaskChange,
  TaskListPage,
  TaskListQuery,
  TaskStore,
} from '../../src/tasks/task-store';

/**
 * An in-memory TaskStore with the same forward-only rules as the DynamoDB one, and the socket
 * workers' leases with the same conditions as its conditional writes.
 */
export class MemoryTaskStore implements TaskStore, LeaseStore {
  public readonly all = new Map<string, Task>();
  private readonly claims = new Map<string, number>();

  public async create(task: Task): Promise<CreateResult> {
    const existing = this.all.get(task.taskId);
    if (existing) return { task: existing, created: false };
    this.all.set(task.taskId, task);
    this.claims.set(task.taskId, Date.now());
    return { task, created: true };
  }

  public async get(taskId: string) {
    return this.all.get(taskId);
  }

  public async claimEnqueue(taskId: string, staleAfterMs: number) {
    const task = this.all.get(taskId);
    const claim = this.claims.get(taskId) ?? 0;
    if (!task || task.enqueuedAt || task.status !== 'queued' || claim > Date.now() - staleAfterMs)
      return false;
    this.claims.set(taskId, Date.now());
    return true;
  }

  public async markEnqueued(taskId: string) {
    const task = this.all.get(taskId);
    if (task && !task.enqueuedAt)
      this.all.set(taskId, { ...task, enqueuedAt: new Date().toISOString() });
  }

  public async transition(taskId: string, change: TaskChange) {
    const task = this.all.get(taskId);
    if (!task || change.to === 'queued' || isTerminal(task.status)) return undefined;
    const next: Task = {
      ...task,
      status: change.to,
      updatedAt: new Date().toISOString(),
      ...(change.progress !== undefined ? { progress: change.progress } : {}),
      ...(change.result !== undefined ? { result: change.result } : {}),
      ...(change.error !== undefined ? { error: change.error } : {}),
    };
    this.all.set(taskId, next);
    return next;
  }

  public async setProgress(taskId: string, progress: number) {
    const task = this.all.get(taskId);
    if (!task || task.status !== 'running') return undefined;
    const next = { ...task, progress };
    this.all.set(taskId, next);
    return next;
  }

  public async stillRunning(taskId: string) {
    const task = this.all.get(taskId);
    if (!task || task.status !== 'running') return false;
    this.all.set(taskId, { ...task, updatedAt: new Date().toISOString() });
    return true;
  }

  public async list(query: TaskListQuery): Promise<TaskListPage> {
    const newestFirst = [...this.all.values()]
      .filter((t) => query.userId === undefined || t.requester.userId === query.userId)
      .filter((t) => query.status === undefined || t.status === query.status)
      .sort((a, b) =>
        a.createdAt === b.createdAt
          ? b.taskId.localeCompare(a.taskId)
          : b.createdAt.localeCompare(a.createdAt),
      );
    const after = query.after;
    const start = after
      ? newestFirst.findIndex(
          (t) =>
            t.createdAt < after.createdAt ||
            (t.createdAt === after.createdAt && t.taskId < after.taskId),
        )
      : 0;
    const rest = start < 0 ? [] : newestFirst.slice(start);
    const tasks = rest.slice(0, query.limit);
    const last = tasks.at(-1);
    return rest.length > query.limit && last
      ? { tasks, next: { taskId: last.taskId, createdAt: last.createdAt } }
      : { tasks };
  }

  public async countByStatus() {
    const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<
      TaskStatus,
      number
    >;
    for (const t of this.all.values()) counts[t.status]++;
    return counts;
  }

  /* Leases (src/tasks/socket/lease-store.ts), as DynamoTaskStore's conditions. */

  /** Whether the connection holds an unlapsed lease on the task at `now` (ISO). */
  private holds(task: Task | undefined, connectionId: string, now: string): task is Task {
    return (
      task?.status === 'running' &&
      task.workerConnectionId === connectionId &&
      task.leaseExpiresAt !== undefined &&
      task.leaseExpiresAt > now
    );
  }

  public async takeLease(taskId: string, previousAttempt: number, terms: LeaseTerms) {
    const task = this.all.get(taskId);
    if (task?.status !== 'queued' || (task.attempt ?? 0) !== previousAttempt) return undefined;
    const next: Task = {
      ...task,
      status: 'running',
      workerConnectionId: terms.connectionId,
      leaseExpiresAt: terms.leaseExpiresAt,
      attempt: terms.attempt,
    };
    this.all.set(taskId, next);
    return next;
  }

  public async renewLease(
    taskId: string,
    connectionId: string,
    now: string,
    leaseExpiresAt: string,
    progress?: number,
    note?: string,
  ) {
    const task = this.all.get(taskId);
    if (!this.holds(task, connectionId, now)) return undefined;
    const next: Task = {
      ...task,
      leaseExpiresAt,
      ...(progress !== undefined ? { progress } : {}),
      ...(note !== undefined ? { note } : {}),
    };
    this.all.set(taskId, next);
    return next;
  }

  public async endLeased(taskId: string, connectionId: string, now: string, end: LeasedEnd) {
    const task = this.all.get(taskId);
    if (!this.holds(task, connectionId, now)) return undefined;
    const next: Task = {
      ...task,
      status: end.to,
      updatedAt: now,
      ...(end.result !== undefined ? { result: end.result } : {}),
      ...(end.error !== undefined ? { error: end.error } : {}),
    };
    this.all.set(taskId, next);
    return next;
  }

  public async releaseLease(
    taskId: string,
    connectionId: string,
    attempt: number,
    nextAttempt: number,
  ) {
    const task = this.all.get(taskId);
    if (
      task?.status !== 'running' ||
      task.workerConnectionId !== connectionId ||
      task.attempt !== attempt
    ) {
      return undefined;
    }
    const { workerConnectionId: _c, leaseExpiresAt: _l, ...rest } = task;
    const next: Task = { ...rest, status: 'queued', attempt: nextAttempt };
    this.all.set(taskId, next);
    return next;
  }

  public async failLeased(taskId: string, connectionId: string, attempt: number, error: string) {
    const task = this.all.get(taskId);
    if (
      task?.status !== 'running' ||
      task.workerConnectionId !== connectionId ||
      task.attempt !== attempt
    ) {
      return undefined;
    }
    const next: Task = { ...task, status: 'failed', error };
    this.all.set(taskId, next);
    return next;
  }
}
