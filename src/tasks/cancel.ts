import { forbidden, notFound } from '../errors/app-error';
import type { SubmitPorts } from './submit';
import type { Task } from './task';

/** What a cancel did: the task as it is now, and whether this call ended it. */
export interface Cancelled {
  readonly task: Task;
  /** False when the task had already ended (then nothing changed; `task.status` says how). */
  readonly changed: boolean;
}

/** Who may cancel a task, and what to say to anyone else. */
export interface CancelAccess {
  readonly mayCancel: (task: Task) => boolean;
  /** The refusal (bilingual in the chat, plain on the APIs). */
  readonly refusal: string;
}

/**
 * Cancels a task that has not ended: one conditional write (queued | running → cancelled) that
 * a concurrent `succeeded` or `failed` either loses or beats, so the task ends exactly once. A
 * task that had already ended is answered with its status and left alone. The cancel is told
 * like every other end (`onCancelled`: the `task.update` to the task's audience and the chat
 * notification); a running Lambda worker learns of it at its next progress write and stops.
 * @throws AppError `not_found` (no such task) or `forbidden` (the caller may not cancel it).
 */
export async function cancelTask(
  ports: Pick<SubmitPorts, 'tasks' | 'log' | 'onCancelled'>,
  taskId: string,
  access: CancelAccess,
): Promise<Cancelled> {
  const task = await ports.tasks.get(taskId);
  if (!task) throw notFound(`no task ${taskId}`);
  if (!access.mayCancel(task)) throw forbidden(access.refusal);
  const cancelled = await ports.tasks.transition(taskId, { to: 'cancelled' });
  if (!cancelled) {
    // It ended (or was cancelled) since the read: the answer says how, nothing changes.
    const now = await ports.tasks.get(taskId);
    if (!now) throw notFound(`no task ${taskId}`);
    return { task: now, changed: false };
  }
  ports.log.info('task cancelled', { taskId, taskType: cancelled.taskType, was: task.status });
  await ports.onCancelled?.(cancelled).catch((e: unknown) =>
    // The cancel stands; only the news of it is missing (the record says cancelled).
    ports.log.warn('could not tell the task’s audience it was cancelled', {
      taskId,
      error: e instanceof Error ? e.message : String(e),
    }),
  );
  return { task: cancelled, changed: true };
}
