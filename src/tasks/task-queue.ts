/** The message a worker receives: the task is read from the tasks table by id. */
export interface TaskMessage {
  readonly taskId: string;
  readonly taskType: string;
  /** `notify` re-sends the chat notification of a finished task (default `run`). */
  readonly kind?: 'run' | 'notify';
  /** Which try of a `notify` this is (1 for the first re-send). */
  readonly attempt?: number;
  /**
   * The socket worker's connection that just gave the task back with a retryable `fail` (a
   * draining worker refuses its offers so): this dispatch offers it to the others only.
   */
  readonly refusedBy?: string;
}

/** SQS holds a message back at most 15 minutes; every queue adapter caps delays at this. */
export const MAX_DELAY_SECONDS = 900;

/** The port through which tasks are queued for their workers. */
export interface TaskQueue {
  /** Sends the task to its type's queue. @throws when the type has no queue. */
  enqueue(message: TaskMessage, options?: { delaySeconds?: number }): Promise<void>;
}
