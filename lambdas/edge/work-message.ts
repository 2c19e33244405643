import { z } from 'zod';

/**
 * A task-queue message body (src/tasks/task-queue.ts's TaskMessage), as the task worker and the
 * dead-letter handler read it. Its own module, so the dead-letter handler need not import the
 * worker's handler (and its Powertools Batch and Idempotency) for it.
 */
export const workMessageSchema = z.object({
  taskId: z.string().min(1).max(128),
  taskType: z.string().min(1).max(64),
  kind: z.enum(['run', 'notify']).optional(),
  attempt: z.number().int().min(0).max(1000).optional(),
});
