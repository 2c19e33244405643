import { forbidden } from '../errors/app-error';
import { hasRole } from '../auth/token';
import type { Connection } from '../connections/connection';
import type { FrameFactory, ServerFrame } from '../push/frames';
import { idempotencyKey, submitTask, type SubmitPorts } from '../tasks/submit';
import type { Task } from '../tasks/task';

/** What submitting from a WebSocket connection needs. */
export interface WsSubmitPorts {
  readonly submit: SubmitPorts;
  readonly frames: FrameFactory;
  /** Sends a frame to the submitting connection now (before any task.update). */
  readonly sendToConnection: (frame: ServerFrame) => Promise<void>;
}

/** A validated `submit` frame. */
export interface SubmitFrame {
  readonly taskType: string;
  readonly args: unknown;
  readonly requestId?: string;
}

const acceptedFrame = (frames: FrameFactory, task: Task, requestId: string | undefined) =>
  frames.make('task.accepted', {
    taskId: task.taskId,
    ...(requestId ? { requestId } : {}),
  });

/**
 * Submits a task for the connection's user. `task.accepted` reaches the client before the
 * task's first `task.update`: it is sent directly once the task is recorded, before it is
 * queued (if that send fails the task still runs; its updates still reach the user). A
 * repeated requestId from the same user returns the same task (a client's retry is safe); the
 * same requestId from another user is another task.
 * @returns the reply frame to send, or undefined when it was already sent.
 * @throws AppError `bad_request` (type or args) or `forbidden` (a token without the client role).
 */
export async function submitFromConnection(
  ports: WsSubmitPorts,
  conn: Connection,
  frame: SubmitFrame,
): Promise<ServerFrame | undefined> {
  if (!hasRole(conn, 'client') && !hasRole(conn, 'admin')) {
    throw forbidden('submitting tasks needs the client or admin role');
  }
  let sent = false;
  const { task } = await submitTask(
    {
      ...ports.submit,
      // Before the task is queued, so `task.accepted` always precedes its first update.
      onCreated: async (created) => {
        await ports.sendToConnection(acceptedFrame(ports.frames, created, frame.requestId));
        sent = true;
      },
    },
    {
      taskType: frame.taskType,
      args: frame.args,
      source: 'ws',
      requester: { userId: conn.userId },
      // Both parts may hold `:`, so they are encoded, never joined (see idempotencyKey).
      ...(frame.requestId ? { dedupeKey: idempotencyKey(conn.userId, frame.requestId) } : {}),
    },
  );
  return sent ? undefined : acceptedFrame(ports.frames, task, frame.requestId);
}
