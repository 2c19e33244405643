/**
 * A task's life: queued → running → succeeded | failed, never backwards; a task not yet ended
 * may also be cancelled (from queued or running).
 */
export const TASK_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Terminal statuses: a task in one of them never changes again. */
export const isTerminal = (s: TaskStatus): boolean =>
  s === 'succeeded' || s === 'failed' || s === 'cancelled';

/** Where a task came from. */
export type TaskSource = 'wecom' | 'ws' | 'http' | 'chain';

/** Who asked for a task, and so who hears about it. */
export interface Requester {
  /** Taskwire user whose connections get `task.update` frames. */
  readonly userId?: string;
  /** The WeCom chat to answer in. */
  readonly wecom?: {
    readonly userId: string;
    readonly chatId?: string;
    readonly webhookUrl?: string;
  };
}

/** A task record (the tasks table's item, and `GET /tasks/{taskId}`'s answer). */
export interface Task {
  readonly taskId: string;
  readonly taskType: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly status: TaskStatus;
  readonly source: TaskSource;
  readonly requester: Requester;
  /** The task that queued this one (download → logic chain). */
  readonly parentTaskId?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Epoch seconds; DynamoDB TTL removes the record after this. */
  readonly expiresAt: number;
  /** ISO time the queue accepted the task's message. */
  readonly enqueuedAt?: string;
  readonly progress?: number;
  /** The socket worker's last `progress` note (what the chat's live view shows under the bar). */
  readonly note?: string;
  readonly result?: unknown;
  readonly error?: string;
  /** The socket worker's connection that holds the task's lease (placement websocket/auto). */
  readonly workerConnectionId?: string;
  /** ISO time the socket worker's lease lapses unless it renews it with `progress`. */
  readonly leaseExpiresAt?: string;
  /** Offers of the task to socket workers so far (the `attempt` of its last `task.assign`). */
  readonly attempt?: number;
}

/** How long task records are kept (14 days). */
export const TASK_TTL_SECONDS = 14 * 24 * 60 * 60;
