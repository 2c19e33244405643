import type { TaskRegistry } from '../tasks/registry';
import type { Task } from '../tasks/task';

/** Longest markdown WeCom's robot accepts (4096 bytes); we stay under it. */
const MAX_CHAT_BYTES = 4000;

/**
 * Where the chat finds a task's type. A type, not the registry module: whoever renders
 * without the task types bundled (the reaper) passes none and gets the generic rendering.
 */
export type TaskTypeLookup = Pick<TaskRegistry, 'find'>;

/** What the task's type says about its arguments (`chatSummary`), or '' (none, or it threw). */
export function chatSummaryOf(task: Task, types: TaskTypeLookup | undefined): string {
  const spec = types?.find(task.taskType);
  try {
    return spec?.chatSummary?.(task.args) ?? '';
  } catch {
    return '';
  }
}

/** The result's top-level scalar fields: for types without `chatResult`, and stored results. */
function genericResultLines(result: unknown): string[] {
  if (!result || typeof result !== 'object') return [];
  const lines: string[] = [];
  for (const [k, v] of Object.entries(result as Record<string, unknown>)) {
    if (v === null || typeof v === 'object') continue;
    lines.push(
      `> ${k}: ${String(v)
        .replace(/[\r\n]+/g, ' ')
        .slice(0, 200)}`,
    );
  }
  return lines;
}

/** A result too large for the record was stored; its link is what the chat can show. */
const isStoredResult = (result: unknown): boolean =>
  typeof result === 'object' && result !== null && (result as { stored?: unknown }).stored === true;

function resultLines(task: Task, types: TaskTypeLookup | undefined): readonly string[] {
  const render = types?.find(task.taskType)?.chatResult;
  if (render && !isStoredResult(task.result)) {
    try {
      return render(task.result);
    } catch {
      // A record of an older shape: the generic lines still say something.
    }
  }
  return genericResultLines(task.result);
}

/**
 * The chat message for a finished task: markdown, short, with what its type says about its
 * arguments (`chatSummary`) and its result (`chatResult`), or the result's plain fields.
 */
export function chatMessageFor(task: Task, types?: TaskTypeLookup): string {
  const icon = task.status === 'succeeded' ? '✅' : task.status === 'cancelled' ? '⏹️' : '❌';
  const lines = [`${icon} **${task.taskType}** ${task.status} · \`${task.taskId}\``];
  const summary = chatSummaryOf(task, types);
  if (summary) lines.push(`> ${task.taskType} ${summary}`);
  if (task.error) lines.push(`> error: ${task.error}`);
  if (task.status === 'succeeded') lines.push(...resultLines(task, types));
  let text = lines.join('\n');
  while (Buffer.byteLength(text) > MAX_CHAT_BYTES)
    text = text.slice(0, Math.floor(text.length * 0.9));
  return text;
}
