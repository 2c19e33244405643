import { TaskwireClient, type ClientState, type StreamInfo } from '../../client/src/index.js';
import {
  addMessage,
  applyTaskUpdate,
  claimsOf,
  isTerminalStatus,
  linksOf,
  type MessageView,
  parseCommand,
  type TaskView,
} from './model.js';

/*
 * The Taskwire console (docs/protocol.md, "Console"): plain DOM over the client library. Tasks
 * are keyed by taskId and messages by frame id (model.ts), so a reconnect's replay neither
 * loses nor doubles a row. Tokens go on the WebSocket (as the contract says) and in
 * Authorization headers; never in a URL of the HTTP API.
 */

interface ConsoleConfig {
  readonly wsUrl: string;
  readonly token?: string;
}

const PRESENCE_EVERY_MS = 3000;
const SUBMIT_TIMEOUT_MS = 10 * 60 * 1000;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

/** An element with text and attributes. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

const show = (value: unknown): string =>
  typeof value === 'string' ? value : JSON.stringify(value, null, 2);

/** The HTTP API's base URL: the page is `{HttpApiUrl}/console/`. */
const apiBase = (): string => location.href.replace(/\/console(\/.*)?$/, '');

const tasks = new Map<string, TaskView>();
const messages = new Map<string, MessageView>();
let client: TaskwireClient | undefined;
let token = '';
let presenceTimer: ReturnType<typeof setInterval> | undefined;

function log(text: string): void {
  const line = el('li', {}, `${new Date().toLocaleTimeString()} ${text}`);
  const events = $('events');
  events.prepend(line);
  while (events.children.length > 50) events.lastElementChild?.remove();
}

function setState(state: ClientState | 'signed out'): void {
  const badge = $('state');
  badge.textContent = state;
  badge.dataset.state = state;
  document.body.dataset.state = state;
}

function renderStreams(streams: Readonly<Record<string, StreamInfo>>): void {
  const list = $('streams');
  list.replaceChildren(
    ...Object.entries(streams)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, info]) =>
        el(
          'li',
          { 'data-stream': name, 'data-recovered': String(info.recovered) },
          `${name} #${info.seq} `,
          el(
            'span',
            { class: info.recovered ? 'ok' : 'warn' },
            info.recovered ? 'recovered' : 'history lost',
          ),
        ),
      ),
  );
}

function renderTask(task: TaskView): void {
  const list = $('tasks');
  let row = list.querySelector<HTMLLIElement>(`li[data-task-id="${CSS.escape(task.taskId)}"]`);
  if (!row) {
    row = el('li', { class: 'task', 'data-task-id': task.taskId });
    list.prepend(row);
  }
  row.dataset.status = task.status;
  const bar = el('progress', { max: '1', class: 'bar' });
  if (task.progress !== undefined) bar.value = Math.max(0, Math.min(1, task.progress));
  else if (isTerminalStatus(task.status)) bar.value = 0;
  const head = el(
    'div',
    { class: 'task-head' },
    el('strong', {}, task.taskType),
    ' ',
    el('code', {}, task.taskId),
    ' ',
    el('span', { class: `status status-${task.status}` }, task.status),
  );
  if (task.parentTaskId) head.append(' ', el('small', {}, `from ${task.parentTaskId}`));
  const parts: Node[] = [head, bar];
  if (task.note) parts.push(el('div', { class: 'note' }, task.note));
  if (!isTerminalStatus(task.status)) {
    const cancel = el('button', { type: 'button', class: 'cancel' }, 'Cancel');
    cancel.addEventListener('click', () => void cancelTask(task.taskId, cancel));
    parts.push(cancel);
  }
  if (task.result !== undefined) {
    const links = linksOf(task.result);
    if (links.length) {
      parts.push(
        el(
          'div',
          { class: 'links' },
          ...links.map((l) =>
            el(
              'a',
              { class: 'artifact', href: l.href, target: '_blank', rel: 'noopener noreferrer' },
              l.label,
            ),
          ),
        ),
      );
    }
    parts.push(el('pre', { class: 'result' }, show(task.result)));
  }
  if (task.error !== undefined) parts.push(el('pre', { class: 'error' }, show(task.error)));
  row.replaceChildren(...parts);
}

function renderMessage(message: MessageView): void {
  const row = el(
    'li',
    { class: 'message', 'data-id': message.id },
    el('time', { datetime: message.at }, new Date(message.at).toLocaleTimeString()),
    ' ',
    el('span', { class: 'to' }, `→ ${message.to}`),
    message.from ? el('span', { class: 'from' }, ` from ${message.from}`) : '',
    ' ',
    el('span', { class: 'data' }, show(message.data)),
  );
  if (message.dataUrl) {
    row.append(
      ' ',
      el('a', { href: message.dataUrl, target: '_blank', rel: 'noopener noreferrer' }, 'payload'),
    );
  }
  $('messages').prepend(row);
}

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${apiBase()}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    cache: 'no-store',
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: shown as text
  }
  return { status: res.status, body: parsed };
}

interface PresenceAnswer {
  users?: { userId: string; connections: number; clientTypes: Record<string, number> }[];
  truncated?: boolean;
}

async function refreshPresence(): Promise<void> {
  if (!client) return;
  const list = $('presence');
  try {
    const { status, body } = await api('GET', '/presence');
    if (status !== 200) {
      list.replaceChildren(
        el('li', { class: 'muted' }, status === 403 ? 'admins only' : `HTTP ${status}`),
      );
      return;
    }
    const answer = body as PresenceAnswer;
    const users = answer.users ?? [];
    $('online-count').textContent = String(users.length);
    list.replaceChildren(
      ...users.map((u) =>
        el(
          'li',
          { 'data-user': u.userId, 'data-connections': String(u.connections) },
          el('strong', {}, u.userId),
          ` ${u.connections} × `,
          Object.entries(u.clientTypes)
            .map(([type, n]) => (n > 1 ? `${type} ${n}` : type))
            .join(', '),
        ),
      ),
      ...(answer.truncated ? [el('li', { class: 'muted' }, '… more')] : []),
    );
  } catch (e) {
    list.replaceChildren(el('li', { class: 'muted' }, `presence: ${String(e)}`));
  }
}

/** After a resume that lost history: re-read the user's tasks (admins; GET /tasks). */
async function rereadTasks(userId: string): Promise<void> {
  try {
    const { status, body } = await api(
      'GET',
      `/tasks?userId=${encodeURIComponent(userId)}&limit=20`,
    );
    const items = (body as { tasks?: Record<string, unknown>[] }).tasks;
    if (status !== 200 || !Array.isArray(items)) return;
    for (const task of items.reverse()) {
      const shown = applyTaskUpdate(tasks, task);
      if (shown) renderTask(shown);
    }
  } catch {
    // best effort
  }
}

async function cancelTask(taskId: string, button: HTMLButtonElement): Promise<void> {
  if (!client) return;
  button.disabled = true;
  try {
    const reply = await client.cancel(taskId);
    log(`cancel ${taskId}: ${String(reply.type)} ${String(reply.status ?? '')}`);
  } catch (e) {
    button.disabled = false;
    log(`cancel ${taskId} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function signIn(config: ConsoleConfig): Promise<void> {
  await signOut();
  token = $<HTMLInputElement>('token').value.trim();
  if (!token) return log('paste a token first');
  sessionStorage.setItem('taskwire.token', token);
  const claims = claimsOf(token);
  const admin = claims.roles.includes('admin');
  $('who').textContent = `${claims.sub ?? '?'} (${claims.roles.join(', ')})`;
  $('push-panel').hidden = !admin;
  document.body.dataset.signedIn = 'true';
  const c = new TaskwireClient({ url: config.wsUrl, token: () => token, clientType: 'viewer' });
  client = c;
  c.on('state', (e) => {
    setState(e.state);
    renderStreams(c.streams);
    if (e.error && e.state !== 'open') log(`connection: ${e.error.message}`);
  });
  c.on('registered', (f) => {
    document.body.dataset.connectionId = f.connectionId;
    $('conn-id').textContent = f.connectionId;
    renderStreams(c.streams);
    void refreshPresence();
  });
  c.on('resumed', (f) => {
    renderStreams(c.streams);
    const lost = Object.entries(f.streams).filter(([, o]) => !o.recovered);
    if (lost.length) {
      log(`history lost on ${lost.map(([s]) => s).join(', ')}: re-reading tasks`);
      if (admin && claims.sub) void rereadTasks(claims.sub);
    }
  });
  c.on('task.update', (f) => {
    const shown = applyTaskUpdate(tasks, f);
    if (shown) renderTask(shown);
    renderStreams(c.streams);
  });
  c.on('message', (f) => {
    const shown = addMessage(messages, f);
    if (shown) renderMessage(shown);
    renderStreams(c.streams);
  });
  c.on('error', (f) => log(`error ${String(f.code)}: ${String(f.message)}`));
  c.on('retry', (e) => log(`reconnecting in ${Math.round(e.delayMs)} ms`));
  presenceTimer = setInterval(() => void refreshPresence(), PRESENCE_EVERY_MS);
  try {
    await c.connect();
  } catch (e) {
    log(`sign-in failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function signOut(): Promise<void> {
  if (presenceTimer !== undefined) clearInterval(presenceTimer);
  presenceTimer = undefined;
  const c = client;
  client = undefined;
  if (c) await c.close();
  delete document.body.dataset.signedIn;
  setState('signed out');
}

function submitCommand(): void {
  const input = $<HTMLInputElement>('command');
  const command = parseCommand(input.value);
  if (!client || !command) return;
  input.value = '';
  log(`submit ${command.taskType} ${command.args.join(' ')}`);
  client.submit(command.taskType, command.args, { timeoutMs: SUBMIT_TIMEOUT_MS }).then(
    (end) => log(`${command.taskType} ${end.taskId} ended: ${end.status}`),
    (e: unknown) =>
      log(`${command.taskType} failed: ${e instanceof Error ? e.message : String(e)}`),
  );
}

async function push(): Promise<void> {
  const kind = $<HTMLSelectElement>('push-kind').value;
  const target = $<HTMLInputElement>('push-target').value.trim();
  const raw = $<HTMLInputElement>('push-data').value;
  let data: unknown = raw;
  try {
    data = JSON.parse(raw);
  } catch {
    // plain text
  }
  const path =
    kind === 'all'
      ? '/broadcast'
      : `/${kind === 'group' ? 'groups' : 'users'}/${encodeURIComponent(target)}/messages`;
  const { status, body } = await api('POST', path, { data });
  $('push-result').textContent = `${status} ${show(body)}`;
}

async function start(): Promise<void> {
  setState('signed out');
  const config = (await (
    await fetch('config.json', { cache: 'no-store' })
  ).json()) as ConsoleConfig;
  $('ws-url').textContent = config.wsUrl;
  const field = $<HTMLInputElement>('token');
  field.value = sessionStorage.getItem('taskwire.token') ?? config.token ?? '';
  $('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void signIn(config);
  });
  $('signout').addEventListener('click', () => void signOut());
  $('command-form').addEventListener('submit', (e) => {
    e.preventDefault();
    submitCommand();
  });
  $('push-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void push();
  });
  $<HTMLSelectElement>('push-kind').addEventListener('change', (e) => {
    $<HTMLInputElement>('push-target').disabled = (e.target as HTMLSelectElement).value === 'all';
  });
  document.body.dataset.ready = 'true';
}

void start();
