import type { Task } from '../tasks/task';

/** Who asks about a task in chat: the WeCom sender, and the group chat they wrote in. */
export interface ChatAsker {
  /** The sender's WeCom user id (FromUserName / From.UserId). */
  readonly userId: string;
  /** The group chat the question came from, when it came from one. */
  readonly chatId?: string;
}

/**
 * Whether a chat user may see a task (the `status` command). Only its requester may:
 * - the WeCom sender who asked for it, or anyone in the group chat it was asked in (its
 *   results are posted to that chat anyway);
 * - the Taskwire user it was asked for (WebSocket submit, HTTP submit with `userId`), when the
 *   sender has that user id: a WeCom sender is the Taskwire user of the same id, who also
 *   receives the `task.update` frames of their chat tasks (docs/protocol.md).
 * Chained tasks (download → logic) carry their parent's requester, so the same people see them.
 * Everyone else must get the same answer as for an unknown task, so a task's existence is not
 * revealed either.
 */
export function mayViewTask(task: Task, asker: ChatAsker): boolean {
  const { wecom, userId } = task.requester;
  if (wecom?.userId === asker.userId) return true;
  if (wecom?.chatId !== undefined && wecom.chatId === asker.chatId) return true;
  return userId !== undefined && userId === asker.userId;
}

/**
 * Whether a chat user may cancel a task (the `cancel` command): only its requester, the WeCom
 * sender who asked for it or the Taskwire user of the sender's id. Unlike `status`, the rest of
 * a group chat may not: seeing a task is not stopping someone else's work.
 */
export function mayCancelTask(task: Task, asker: ChatAsker): boolean {
  const { wecom, userId } = task.requester;
  return wecom?.userId === asker.userId || (userId !== undefined && userId === asker.userId);
}
