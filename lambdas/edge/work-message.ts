import * as z from '../../src/validation/zod';

/**
 * A task-queue message body (src/tasks/task-queue.ts's TaskMessage), as the task worker and the
 * dead-letter handler read it. Its own module, so the dead-letter handler need not import the
 * worker's handler (and its Powertools Batch and Idempotency) for it.
 */
export const workMessageSchema = z.object({
  taskId: z.string().check(z.minLength(1), z.maxLength(128)),
  taskType: z.string().check(z.minLength(1), z.maxLength(64)),
  kind: z.optional(z.enum(['run', 'notify'])),
  attempt: z.optional(z.number().check(z.int(), z.gte(0), z.lte(1000))),
  refusedBy: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
});
