import type { Task } from '../tasks/task';

/** Longest markdown WeCom's robot accepts (4096 bytes); we stay under it. */
const MAX_CHAT_BYTES = 4000;

/**
 * The chat message for a finished task: markdown, short, with the figures people look for
 * (the logic report's type, size and counts; a download's file and the chained task).
 */
export function chatMessageFor(task: Task): string {
  const icon = task.status === 'succeeded' ? '✅' : '❌';
  const lines = [`${icon} **${task.taskType}** ${task.status} · \`${task.taskId}\``];
  const args = task.args as Record<string, unknown>;
  if (typeof args.dsNumber === 'string')
    lines.push(`> dsNumber: ${args.dsNumber} @ ${String(args.server)}`);
  if (task.error) lines.push(`> error: ${task.error}`);
  const result = task.result;
  if (result && typeof result === 'object') {
    for (const [k, v] of Object.entries(result as Record<string, unknown>)) {
      if (v === null || typeof v === 'object') continue;
      lines.push(`> ${k}: ${String(v).slice(0, 200)}`);
    }
  }
  let text = lines.join('\n');
  while (Buffer.byteLength(text) > MAX_CHAT_BYTES)
    text = text.slice(0, Math.floor(text.length * 0.9));
  return text;
}
