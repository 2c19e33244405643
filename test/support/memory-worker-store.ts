import type { HeldTask, SocketWorker, WorkerStore } from '../../src/tasks/socket/worker-store';

/** One (taskType, connection) capacity record. */
interface Capacity {
  readonly concurrency: number;
  readonly held: Set<string>;
}

/**
 * An in-memory WorkerStore with the DynamoDB adapter's rules: a slot is taken only while one
 * is free and the task is not held already; candidates come least loaded first (ties in
 * registration order here, so tests are deterministic).
 */
export class MemoryWorkerStore implements WorkerStore {
  /** `${taskType} ${connectionId}` → capacity. */
  public readonly records = new Map<string, Capacity>();

  private static key(taskType: string, connectionId: string): string {
    return `${taskType} ${connectionId}`;
  }

  public async register(
    connectionId: string,
    taskTypes: readonly string[],
    concurrency: number,
    // Records here never expire: a test removes a worker with `unregister`.
    _expiresAt: number,
  ): Promise<void> {
    for (const taskType of taskTypes) {
      const key = MemoryWorkerStore.key(taskType, connectionId);
      if (!this.records.has(key)) this.records.set(key, { concurrency, held: new Set() });
    }
  }

  public async candidates(taskType: string, limit: number): Promise<SocketWorker[]> {
    return [...this.records]
      .filter(([key]) => key.startsWith(`${taskType} `))
      .map(([key, c]) => ({
        connectionId: key.slice(taskType.length + 1),
        taskType,
        concurrency: c.concurrency,
        free: c.concurrency - c.held.size,
      }))
      .filter((w) => w.free > 0)
      .sort((a, b) => a.concurrency - a.free - (b.concurrency - b.free))
      .slice(0, limit);
  }

  public async takeSlot(taskType: string, connectionId: string, taskId: string) {
    const c = this.records.get(MemoryWorkerStore.key(taskType, connectionId));
    if (!c || c.held.size >= c.concurrency || c.held.has(taskId)) return false;
    c.held.add(taskId);
    return true;
  }

  public async releaseSlot(taskType: string, connectionId: string, taskId: string) {
    this.records.get(MemoryWorkerStore.key(taskType, connectionId))?.held.delete(taskId);
  }

  public async unregister(connectionId: string): Promise<HeldTask[]> {
    const held: HeldTask[] = [];
    for (const [key, c] of [...this.records]) {
      const taskType = key.slice(0, key.indexOf(' '));
      if (key !== MemoryWorkerStore.key(taskType, connectionId)) continue;
      for (const taskId of c.held) held.push({ taskType, taskId });
      this.records.delete(key);
    }
    return held;
  }

  /** The task ids the connection holds for a type. */
  public heldBy(taskType: string, connectionId: string): string[] {
    return [...(this.records.get(MemoryWorkerStore.key(taskType, connectionId))?.held ?? [])];
  }
}
