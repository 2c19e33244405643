/**
 * Queue settings shared by the stack and the local runtime. Every task type gets a queue named
 * after it and a dead-letter queue.
 */
export const TASK_QUEUE_SETTINGS = {
  /** Receives before a message goes to the DLQ (and its task is marked failed). */
  maxReceiveCount: 3,
  /** Visibility timeout as a multiple of the worker's timeout (AWS's advice: at least 6). */
  visibilityFactor: 6,
} as const;

/** The queue name of a task type (the stack prefixes it with the stack's name). */
export const queueNameOf = (taskType: string): string => `taskwire-${taskType}`;
