import type { Task } from '../tasks/task';

/** Chat texts Taskwire answers with, bilingual like the help text. */
export const chatText = {
  accepted: (task: Task) =>
    `已接收 accepted: ${task.taskType} ${describeArgs(task)} → ${task.taskId}\n` +
    `查询 check: status ${task.taskId}`,
  status: (task: Task) => {
    const lines = [`${task.taskId} ${task.taskType}: ${task.status}`];
    if (task.progress !== undefined) lines.push(`progress ${Math.round(task.progress * 100)}%`);
    if (task.error) lines.push(`error: ${task.error}`);
    return lines.join('\n');
  },
  unknownTask: (taskId: string) => `找不到任务 no such task: ${taskId}`,
  unknownWord: (word: string, help: string) => `未知命令 unknown command "${word}".\n${help}`,
};

function describeArgs(task: Task): string {
  const a = task.args as Record<string, unknown>;
  if (task.taskType === 'download') {
    return [a.boxId, a.dsNumber, a.server].filter((v) => typeof v === 'string').join(' ');
  }
  return Array.isArray(a.args) ? a.args.join(' ') : '';
}
