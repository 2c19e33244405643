import type { TaskTypeLookup } from '../wecom/chat-message';
import type { ChatNotifier } from '../wecom/chat-notifier';
import type { Log } from '../ports/log';
import type { Task } from './task';

/** A chat notification is tried this many times (about half an hour of retries), then dropped. */
export const MAX_CHAT_ATTEMPTS = 30;

/**
 * What sending a task's chat notification needs (a part of the worker's ports; its own module so
 * that the reaper can tell the chat without bundling the task types).
 */
export interface ChatPorts {
  readonly chat: ChatNotifier;
  /** Puts a notify message back on the task's queue after a delay (rate limit, failed post). */
  readonly requeueNotify: (task: Task, delaySeconds: number, attempt: number) => Promise<void>;
  readonly log: Log;
  /** The task types, for their chat lines; the reaper, which runs none, passes none. */
  readonly types?: TaskTypeLookup;
}

/**
 * Sends a finished task's chat notification, or puts it back on the queue for later (rate
 * limit, failed post) until {@link MAX_CHAT_ATTEMPTS}.
 */
export async function notifyChat(ports: ChatPorts, task: Task, attempt = 0): Promise<void> {
  const outcome = await ports.chat.notify(task, ports.types);
  if (outcome.kind === 'later' && attempt >= MAX_CHAT_ATTEMPTS) {
    // The task's result stays on its record and went out on WebSocket; only the chat misses it.
    ports.log.error('chat notification given up', {
      taskId: task.taskId,
      attempt,
      reason: outcome.reason,
    });
  } else if (outcome.kind === 'later') {
    ports.log.info('chat notification deferred', { taskId: task.taskId, attempt, ...outcome });
    await ports.requeueNotify(task, outcome.delaySeconds, attempt + 1);
  } else if (outcome.kind === 'skipped') {
    ports.log.debug('no chat notification', { taskId: task.taskId, reason: outcome.reason });
  }
}
