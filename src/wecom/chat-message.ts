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
  return withinLimit(chatLines(task, types).join('\n'));
}

/** The message's lines, uncut. */
function chatLines(task: Task, types: TaskTypeLookup | undefined): string[] {
  const icon = task.status === 'succeeded' ? '✅' : task.status === 'cancelled' ? '⏹️' : '❌';
  const lines = [`${icon} **${task.taskType}** ${task.status} · \`${task.taskId}\``];
  const summary = chatSummaryOf(task, types);
  if (summary) lines.push(`> ${task.taskType} ${summary}`);
  if (task.error) lines.push(`> error: ${task.error}`);
  if (task.status === 'succeeded') lines.push(...resultLines(task, types));
  return lines;
}

/** Cut to {@link MAX_CHAT_BYTES}. */
function withinLimit(text: string): string {
  let cut = text;
  while (Buffer.byteLength(cut) > MAX_CHAT_BYTES) cut = cut.slice(0, Math.floor(cut.length * 0.9));
  return cut;
}

/** A robot message: WeCom's `markdown` or `markdown_v2` (both at most 4,096 bytes). */
export interface ChatPost {
  readonly msgtype: 'markdown' | 'markdown_v2';
  readonly content: string;
}

/** A result line `> name: value`, as chatResult and the generic rendering write them. */
const FIELD_LINE = /^> ([^:\n]{1,60}): (.+)$/;

/** A value in a markdown_v2 table cell: one line, `|` escaped. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');

/**
 * The robot message for a finished task, in the format that shows it better. A succeeded task
 * with result fields is `markdown_v2`, its fields in a two-column table (markdown has no tables:
 * the fields would be a column of quoted lines). Anything else is `markdown`, where the error is
 * coloured (`<font color="warning">`; markdown_v2 has no colours). Within
 * {@link MAX_CHAT_BYTES}: table rows that do not fit are dropped with a last row saying so.
 */
export function chatPostFor(task: Task, types?: TaskTypeLookup): ChatPost {
  const lines = chatLines(task, types);
  if (task.status !== 'succeeded') {
    const error = task.error ? `> error: ${task.error}` : undefined;
    const content = lines
      .map((l) =>
        l === error ? `> error: <font color="warning">${l.slice('> error: '.length)}</font>` : l,
      )
      .join('\n');
    return {
      msgtype: 'markdown',
      content:
        Buffer.byteLength(content) <= MAX_CHAT_BYTES ? content : withinLimit(lines.join('\n')),
    };
  }
  const [title = '', ...rest] = lines;
  const rows: string[] = [];
  const text: string[] = [title];
  for (const line of rest) {
    const field = FIELD_LINE.exec(line);
    if (field?.[1] && field[2]) rows.push(`| ${cell(field[1])} | ${cell(field[2])} |`);
    else text.push(line);
  }
  if (rows.length === 0) return { msgtype: 'markdown', content: withinLimit(lines.join('\n')) };
  const head = [...text, '', '| 字段 field | 值 value |', '| --- | --- |'];
  const size = (r: readonly string[]) => Buffer.byteLength([...head, ...r].join('\n'));
  const more = (n: number) => `| … | ${n} more |`;
  let kept = rows;
  if (size(kept) > MAX_CHAT_BYTES) {
    while (kept.length > 0 && size([...kept, more(rows.length - kept.length)]) > MAX_CHAT_BYTES) {
      kept = kept.slice(0, -1);
    }
    kept = [...kept, more(rows.length - kept.length)];
  }
  return { msgtype: 'markdown_v2', content: [...head, ...kept].join('\n') };
}
