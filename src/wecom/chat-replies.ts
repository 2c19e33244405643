import { TASK_REGISTRY, type TaskRegistry } from '../tasks/registry';
import type { Task } from '../tasks/task';
import { chatSummaryOf } from './chat-message';

/** Chat texts Taskwire answers a callback with (passive replies), bilingual like the help. */
export const chatText = {
  /** The answer to a command that queued a task; the summary comes from the task's type. */
  accepted: (task: Task, types: TaskRegistry = TASK_REGISTRY) => {
    const summary = chatSummaryOf(task, types);
    return (
      `已接收 accepted: ${task.taskType}${summary ? ` ${summary}` : ''} → ${task.taskId}\n` +
      `查询 check: status ${task.taskId}`
    );
  },
  status: (task: Task) => {
    const lines = [`${task.taskId} ${task.taskType}: ${task.status}`];
    if (task.progress !== undefined) lines.push(`progress ${Math.round(task.progress * 100)}%`);
    if (task.error) lines.push(`error: ${task.error}`);
    return lines.join('\n');
  },
  unknownTask: (taskId: string) => `找不到任务 no such task: ${taskId}`,
  /** The answer to `cancel` that ended the task. */
  cancelled: (task: Task) => `已取消 cancelled: ${task.taskId} ${task.taskType}`,
  /** The answer to `cancel` of a task that had already ended: nothing changed. */
  alreadyEnded: (task: Task) =>
    `任务已结束 already ended: ${task.taskId} ${task.taskType}: ${task.status} (未更改 nothing changed)`,
  /** The answer to `cancel` of someone else's task. */
  notYourTask: (taskId: string) =>
    `无权取消 not allowed: only the person who asked for ${taskId} may cancel it.`,
  unknownWord: (word: string, help: string) => `未知命令 unknown command "${word}".\n${help}`,
};
