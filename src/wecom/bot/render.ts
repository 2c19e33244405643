/**
 * What the bot's stream shows: a task (or a download → logic chain) as markdown, and the
 * template cards of its buttons. Pure.
 */
import { isTerminal, type Task } from '../../tasks/task';
import { chatMessageFor, chatSummaryOf, type TaskTypeLookup } from '../chat-message';

/** WeCom's limit on a stream's content. */
export const MAX_STREAM_BYTES = 20_480;

/** A text progress bar: `[██████░░░░] 60%`. */
export function progressBar(fraction: number, width = 10): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}] ${Math.round(f * 100)}%`;
}

const ICONS: Readonly<Record<Task['status'], string>> = {
  queued: '⏳',
  running: '🔄',
  succeeded: '✅',
  failed: '❌',
  cancelled: '⏹️',
};

/** The last note a worker gave (socket workers' `progress` frames carry one), if recorded. */
const noteOf = (task: Task): string | undefined => {
  const note = task.note;
  return note !== undefined && note !== ''
    ? note.replace(/[\r\n]+/g, ' ').slice(0, 300)
    : undefined;
};

/** One step's lines while the task is open. */
function stepLines(task: Task, types: TaskTypeLookup | undefined, step?: number): string[] {
  const summary = chatSummaryOf(task, types);
  const head =
    `${step !== undefined ? `${step}. ` : ''}${ICONS[task.status]} **${task.taskType}**` +
    `${summary ? ` ${summary}` : ''} · ${task.status} · \`${task.taskId}\``;
  const lines = [head];
  if (task.status === 'running' || task.progress !== undefined) {
    lines.push(`\`${progressBar(task.progress ?? 0)}\``);
  }
  const note = noteOf(task);
  if (note) lines.push(`> ${note}`);
  if (task.error) lines.push(`> error: ${task.error}`);
  return lines;
}

/** A task and, for a chain, its next step (read together by one refresh). */
export interface TaskView {
  readonly root: Task;
  /** The chained step (download → logic), once it exists. */
  readonly next?: Task;
}

/** Whether the view is over: the root failed/was cancelled, or the chain's last step ended. */
export function isFinal(view: TaskView, chains: boolean): boolean {
  if (!isTerminal(view.root.status)) return false;
  if (view.root.status !== 'succeeded' || !chains) return true;
  return view.next !== undefined && isTerminal(view.next.status);
}

/** The task's final status: the chain's last step's, or the root's. */
export const finalStatus = (view: TaskView): Task['status'] =>
  view.root.status === 'succeeded' && view.next ? view.next.status : view.root.status;

/** Cuts markdown to WeCom's byte limit, with a note of where the rest is. */
export function truncate(text: string, taskId: string, limit = MAX_STREAM_BYTES): string {
  if (Buffer.byteLength(text) <= limit) return text;
  const note = `\n\n… (truncated; full result: \`status ${taskId}\` or GET /tasks/${taskId})`;
  const budget = limit - Buffer.byteLength(note);
  let cut = text.slice(0, budget);
  while (Buffer.byteLength(cut) > budget) cut = cut.slice(0, Math.floor(cut.length * 0.95));
  return cut + note;
}

/** The markdown of a refresh: status, progress bar, last note; both steps of a chain. */
export function renderView(
  view: TaskView,
  types: TaskTypeLookup | undefined,
  chains: boolean,
): string {
  const final = isFinal(view, chains);
  const lines: string[] = [];
  if (!chains) {
    lines.push(...(final ? [chatMessageFor(view.root, types)] : stepLines(view.root, types)));
  } else {
    lines.push(
      ...(isTerminal(view.root.status)
        ? [`1. ${chatMessageFor(view.root, types)}`]
        : stepLines(view.root, types, 1)),
    );
    if (view.next) {
      lines.push(
        ...(isTerminal(view.next.status)
          ? [`2. ${chatMessageFor(view.next, types)}`]
          : stepLines(view.next, types, 2)),
      );
    } else if (view.root.status === 'queued' || view.root.status === 'running') {
      lines.push('2. ⏳ next step waits for this one');
    }
  }
  return truncate(lines.join('\n'), view.root.taskId);
}

/** The text a stream ends with when the task runs past WeCom's window. */
export const handOffText = (taskId: string) =>
  `\n\n⏱️ 仍在运行，结果稍后发送 still running: the result will follow in this chat (\`status ${taskId}\`).`;

/** The answer to a refresh of a stream no task of this bot has. */
export const NO_SUCH_STREAM = '找不到任务 no such task (this stream is unknown or has expired).';

/** A button on a card: its key says what and which task (`cancel:<taskId>`, `retry:<taskId>`). */
export type CardAction = 'cancel' | 'retry';
export const cardKey = (action: CardAction, taskId: string) => `${action}:${taskId}`;

/** Reads a button key back; undefined for any other key. */
export function readCardKey(key: string): { action: CardAction; taskId: string } | undefined {
  const m = /^(cancel|retry):([A-Za-z0-9_-]{1,128})$/.exec(key);
  return m ? { action: m[1] as CardAction, taskId: m[2] ?? '' } : undefined;
}

/** A `button_interaction` template card (WeCom's shape). */
export interface TemplateCard {
  readonly card_type: 'button_interaction';
  readonly main_title: { readonly title: string; readonly desc?: string };
  readonly sub_title_text?: string;
  readonly button_list?: readonly { text: string; style: number; key: string }[];
  readonly task_id: string;
}

/** A card for a task: a Cancel button while it runs, Retry once it failed or was cancelled. */
export function taskCard(
  task: Task,
  status: Task['status'],
  options: { readonly desc?: string; readonly nonce?: string } = {},
): TemplateCard {
  const open = status === 'queued' || status === 'running';
  const retry = status === 'failed' || status === 'cancelled';
  const button = open
    ? [{ text: '取消 Cancel', style: 2, key: cardKey('cancel', task.taskId) }]
    : retry
      ? [{ text: '重试 Retry', style: 1, key: cardKey('retry', task.taskId) }]
      : [];
  return {
    card_type: 'button_interaction',
    main_title: { title: `${task.taskType} ${status}`, desc: options.desc ?? task.taskId },
    ...(button.length ? { button_list: button } : {}),
    // WeCom's card id: unique per card, letters digits _-@ (≤ 128).
    task_id: `${task.taskId}-${options.nonce ?? status}`.slice(0, 128),
  };
}

/** A card that only says something (the answer to a click that could not run). */
export const noticeCard = (title: string, desc: string, id: string): TemplateCard => ({
  card_type: 'button_interaction',
  main_title: { title: title.slice(0, 36), desc: desc.slice(0, 300) },
  task_id: id.replace(/[^A-Za-z0-9_@-]/g, '_').slice(0, 128),
});
