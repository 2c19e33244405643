/** A socket worker as dispatch sees it: one (taskType, connection) with its free slots. */
export interface SocketWorker {
  readonly connectionId: string;
  readonly taskType: string;
  readonly concurrency: number;
  /** Slots not taken by a task it holds. */
  readonly free: number;
}

/** A task a socket worker held when it went away. */
export interface HeldTask {
  readonly taskType: string;
  readonly taskId: string;
}

/**
 * The live socket workers and their free capacity, kept where dispatch reads them with one
 * Query per task type (the DynamoDB adapter: items `pk = W#<taskType>`, `sk = <connectionId>`
 * in the connections table; docs/architecture.md, "Socket workers").
 */
export interface WorkerStore {
  /**
   * Records the connection as a worker of each type with `concurrency` slots (each type its
   * own). Registering again keeps what the connection holds.
   */
  register(
    connectionId: string,
    taskTypes: readonly string[],
    concurrency: number,
    expiresAt: number,
  ): Promise<void>;
  /** The live workers of a type with a free slot, least loaded first (at most `limit`). */
  candidates(taskType: string, limit: number): Promise<SocketWorker[]>;
  /** Takes a slot for the task: false when the worker has none free (or is gone). */
  takeSlot(taskType: string, connectionId: string, taskId: string): Promise<boolean>;
  /** Gives the task's slot back (a no-op when the worker is gone or held no such task). */
  releaseSlot(taskType: string, connectionId: string, taskId: string): Promise<void>;
  /** Removes the connection's worker records and returns the tasks it held ($disconnect). */
  unregister(connectionId: string): Promise<HeldTask[]>;
}
