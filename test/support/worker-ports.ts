import type { Clock } from '../../src/ports/clock';
import { silentLog } from '../../src/ports/log';
import { frameFactory } from '../../src/push/frames';
import type { Pusher } from '../../src/push/pusher';
import type { SubmitPorts } from '../../src/tasks/submit';
import type { TaskMessage } from '../../src/tasks/task-queue';
import type { ResolvedServer } from '../../src/tasks/types/task-type';
import type { WorkerPorts } from '../../src/tasks/worker';
import { ChatNotifier } from '../../src/wecom/chat-notifier';
import { MemoryConnectionStore } from '../unit/core/fakes';
import { MemoryRateLimiter } from './memory-rate-limiter';
import { MemoryArtifactStore } from './memory-stores';
import { MemoryTaskStore } from './memory-task-store';

/**
 * A clock that moves `stepMs` each time it is read, from 2030-01-01: every progress report a
 * worker makes is then written (they are throttled by time).
 */
export function steppingClock(stepMs = 300): Clock {
  let now = Date.parse('2030-01-01T00:00:00.000Z');
  return { now: () => new Date((now += stepMs)) };
}

/** The one download server of {@link memoryWorkerPorts} unless the test gives its own. */
const MAIN_SERVER: ResolvedServer = {
  name: 'main',
  baseUrl: 'http://127.0.0.1:9',
  path: '/{dsNumber}',
  timeoutMs: 5000,
  maxBytes: 1024 * 1024,
};

/** What {@link memoryWorkerPorts} takes; the fetch is the download's and the chat's. */
export interface MemoryWorkerOptions {
  readonly fetch: typeof fetch;
  readonly clock?: Clock;
  /** Task updates' pushes (default: one delivered). */
  readonly pushTo?: Pusher['pushTo'];
}

/**
 * The Lambda worker's ports on memory stores: its task store, the submit its chains go
 * through (queued messages collected in `queued`), one server `main`, a chat that posts
 * through `fetch`, and pushes that go to `pushTo`.
 */
export function memoryWorkerPorts(options: MemoryWorkerOptions) {
  const tasks = new MemoryTaskStore();
  const clock = options.clock ?? steppingClock();
  const queued: TaskMessage[] = [];
  const submit: SubmitPorts = {
    tasks,
    queue: { enqueue: async (m) => void queued.push(m) },
    clock,
    log: silentLog,
    args: { servers: [MAIN_SERVER.name], defaultServer: MAIN_SERVER.name },
  };
  const pushTo: Pusher['pushTo'] =
    options.pushTo ??
    (async () => ({ attempted: 1, delivered: 1, gone: 0, failed: 0, retried: 0 }));
  const worker: WorkerPorts = {
    tasks,
    updates: {
      pusher: { pushTo } as unknown as Pusher,
      store: new MemoryConnectionStore(),
      frames: frameFactory(clock),
    },
    submit,
    artifacts: new MemoryArtifactStore(),
    servers: async () => ({ [MAIN_SERVER.name]: MAIN_SERVER }),
    chat: new ChatNotifier({
      fetch: options.fetch,
      limiter: new MemoryRateLimiter(),
      log: silentLog,
    }),
    requeueNotify: async () => undefined,
    fetch: options.fetch,
    clock,
    log: silentLog,
  };
  return { tasks, queued, submit, worker };
}
