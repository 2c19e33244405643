import * as z from '../src/validation/zod';
import { TASK_ID_PATTERN } from '../src/tasks/task-id';

/** A `task.assign` frame as a socket worker reads it (docs/protocol.md, "Workers over WebSocket"). */
export const taskAssignSchema = z.object({
  type: z.literal('task.assign'),
  taskId: z.string().check(z.regex(TASK_ID_PATTERN, 'not a task id')),
  taskType: z.string().check(z.minLength(1), z.maxLength(64)),
  args: z.record(z.string(), z.unknown()),
  /** The task this one was chained from (logic's artifact must be its parent's). */
  parentTaskId: z.optional(z.string().check(z.regex(TASK_ID_PATTERN, 'not a task id'))),
  attempt: z.number().check(z.int(), z.gte(1)),
  leaseSeconds: z.number().check(z.gt(0), z.lte(24 * 3600)),
});

/** An offer of a task, checked. */
export type TaskAssignment = z.infer<typeof taskAssignSchema>;

/** What reading an offer gave: the assignment, or why not (with the taskId when it was readable). */
export type ReadAssignment =
  | { readonly ok: true; readonly assignment: TaskAssignment }
  | { readonly ok: false; readonly problem: string; readonly taskId?: string };

/** Reads a `task.assign` frame; never throws. */
export function readAssignment(frame: unknown): ReadAssignment {
  const parsed = z.safeParse(taskAssignSchema, frame);
  if (parsed.success) return { ok: true, assignment: parsed.data };
  const issue = parsed.error.issues[0];
  const problem = `task.assign ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
  const taskId =
    typeof frame === 'object' && frame !== null && 'taskId' in frame
      ? (frame as { taskId: unknown }).taskId
      : undefined;
  return typeof taskId === 'string' && TASK_ID_PATTERN.test(taskId)
    ? { ok: false, problem, taskId }
    : { ok: false, problem };
}
