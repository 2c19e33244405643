/**
 * The console's state, apart from the DOM: tasks keyed by taskId and messages keyed by frame id,
 * so a frame seen twice (a replay after a reconnect, the same frame on two streams) changes
 * nothing on screen, and a late update never moves a task back from a terminal status.
 */

/** A task as the console shows it. */
export interface TaskView {
  readonly taskId: string;
  readonly taskType: string;
  readonly status: string;
  readonly progress?: number;
  readonly note?: string;
  readonly result?: unknown;
  readonly error?: unknown;
  readonly parentTaskId?: string;
  /** ISO time of the last update applied. */
  readonly at?: string;
}

/** A message as the log shows it. */
export interface MessageView {
  readonly id: string;
  readonly at: string;
  readonly data: unknown;
  readonly to: string;
  readonly from?: string;
  /** A link to a payload too large for a frame (`dataUrl`). */
  readonly dataUrl?: string;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** Whether a status is terminal. */
export const isTerminalStatus = (status: string): boolean => TERMINAL.has(status);

/** Applies an update to the tasks; returns the task to show, or undefined when nothing changed. */
export function applyTaskUpdate(
  tasks: Map<string, TaskView>,
  update: Record<string, unknown>,
): TaskView | undefined {
  const taskId = typeof update.taskId === 'string' ? update.taskId : undefined;
  if (!taskId) return undefined;
  const seen = tasks.get(taskId);
  const status = typeof update.status === 'string' ? update.status : (seen?.status ?? 'queued');
  // A terminal task stays as it ended (a late or replayed update of an earlier state).
  if (seen && isTerminalStatus(seen.status) && !isTerminalStatus(status)) return undefined;
  const progress = typeof update.progress === 'number' ? update.progress : seen?.progress;
  const note = typeof update.note === 'string' ? update.note : seen?.note;
  const next: TaskView = {
    taskId,
    taskType: typeof update.taskType === 'string' ? update.taskType : (seen?.taskType ?? '?'),
    status,
    ...(progress !== undefined ? { progress: status === 'succeeded' ? 1 : progress } : {}),
    ...(status === 'succeeded' && progress === undefined ? { progress: 1 } : {}),
    ...(note !== undefined ? { note } : {}),
    ...('result' in update
      ? { result: update.result }
      : seen?.result !== undefined
        ? { result: seen.result }
        : {}),
    ...('error' in update
      ? { error: update.error }
      : seen?.error !== undefined
        ? { error: seen.error }
        : {}),
    ...(typeof update.parentTaskId === 'string'
      ? { parentTaskId: update.parentTaskId }
      : seen?.parentTaskId
        ? { parentTaskId: seen.parentTaskId }
        : {}),
    ...(typeof update.at === 'string' ? { at: update.at } : seen?.at ? { at: seen.at } : {}),
  };
  tasks.set(taskId, next);
  return next;
}

/** Adds a message frame; returns it when new, undefined when its id was seen (or it has none). */
export function addMessage(
  messages: Map<string, MessageView>,
  frame: Record<string, unknown>,
): MessageView | undefined {
  const id = typeof frame.id === 'string' ? frame.id : undefined;
  if (!id || messages.has(id)) return undefined;
  const to = frame.to as { user?: string; group?: string; all?: boolean } | undefined;
  const view: MessageView = {
    id,
    at: typeof frame.at === 'string' ? frame.at : new Date().toISOString(),
    data: frame.data,
    to: to?.user ? `user ${to.user}` : to?.group ? `group ${to.group}` : to?.all ? 'everyone' : '?',
    ...(typeof frame.from === 'string' ? { from: frame.from } : {}),
    ...(typeof frame.dataUrl === 'string' ? { dataUrl: frame.dataUrl } : {}),
  };
  messages.set(id, view);
  return view;
}

/** A command line (`download 12345`): the first word is the task type, the rest its args. */
export function parseCommand(line: string): { taskType: string; args: string[] } | undefined {
  const words = line.trim().split(/\s+/).filter(Boolean);
  const [taskType, ...args] = words;
  return taskType ? { taskType: taskType.toLowerCase(), args } : undefined;
}

/** The links in a task result: every http(s) URL among its values (artifacts, reports), by key. */
export function linksOf(value: unknown, prefix = '', depth = 0): { label: string; href: string }[] {
  if (depth > 3 || value === null || typeof value !== 'object') return [];
  const out: { label: string; href: string }[] = [];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const label = prefix ? `${prefix}.${key}` : key;
    if (typeof v === 'string' && /^https?:\/\//i.test(v)) out.push({ label, href: v });
    else out.push(...linksOf(v, label, depth + 1));
  }
  return out;
}

/** The token's claims (unverified: only to decide what to show; the server checks). */
export function claimsOf(token: string): { sub?: string; roles: string[]; exp?: number } {
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(json) as { sub?: unknown; roles?: unknown; exp?: unknown };
    return {
      ...(typeof claims.sub === 'string' ? { sub: claims.sub } : {}),
      roles: Array.isArray(claims.roles) ? claims.roles.map(String) : ['client'],
      ...(typeof claims.exp === 'number' ? { exp: claims.exp } : {}),
    };
  } catch {
    return { roles: [] };
  }
}
