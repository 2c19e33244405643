import { isTerminal, TASK_STATUSES, type Task, type TaskStatus } from '../../src/tasks/task';
import type {
  CreateResult,
  TaskChange,
  TaskListPage,
  TaskListQuery,
  TaskStore,
} from '../../src/tasks/task-store';

/** An in-memory TaskStore with the same forward-only rules as the DynamoDB one. */
export class MemoryTaskStore implements TaskStore {
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
}
