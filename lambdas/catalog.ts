import { TASK_TYPE_NAMES } from '../src/tasks/registry';

/**
 * The catalog of Taskwire's functions and WebSocket routes: the one list that both the CDK stack
 * and the local runtime read, so a function or route added here exists in the cloud and on a
 * laptop alike. (HTTP routes: the route table in lambdas/http/routes.ts, read the same way.)
 */

/** Logical names of the Lambda functions. */
export type FunctionName =
  | 'wsAuthorizer'
  | 'wsConnect'
  | 'wsDisconnect'
  | 'wsMessage'
  | 'httpApi'
  | 'wecomCallback'
  | 'wecomBot'
  | 'deadLetter'
  | 'fanout'
  | 'scheduler'
  | 'connectionSweeper'
  | 'taskReaper'
  | 'console';

/** A permission or setting a function needs; the stack maps each to grants and environment. */
export type Need =
  | 'connections:read'
  | 'connections:write'
  | 'push'
  | 'authSecret'
  | 'tasks:read'
  | 'tasks:write'
  | 'queues:send'
  | 'taskConfig'
  | 'wecomSecret'
  /** The intelligent bot's token and EncodingAESKey (a secret of its own). */
  | 'wecomBotSecret'
  | 'artifacts'
  | 'idempotency'
  | 'downloadCredentials'
  | 'chatWebhook'
  | 'messages'
  | 'fanoutQueue'
  /** The stream log: whoever pushes a frame appends it there, so a client can resume. */
  | 'streams'
  /** Schedules a connection's `session.expiring` notice before the gateway's 2-hour cap. */
  | 'sessionNotices'
  /** The WebSocket URL clients connect to (the stack's WebSocketUrl), for the console's page. */
  | 'webSocketUrl'
  /** Where each task type runs (`lambda`/`websocket`/`auto`) and socket workers' leases. */
  | 'placement';

/** What a function needs from the stack; the stack turns `needs` into least-privilege grants. */
export interface FunctionSpec {
  /** Handler file, relative to the project root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly needs: readonly Need[];
  /** An EventBridge schedule that invokes the function (e.g. `rate(1 minute)`). */
  readonly schedule?: string;
  /** The queue whose messages invoke the function (besides task queues, wired by type). */
  readonly consumes?: 'fanout';
  /** Records per invocation from the consumed queue. */
  readonly batchSize?: number;
  /**
   * Most concurrent invocations the queue may drive (the event source's maximum concurrency):
   * bounds the push rate a large broadcast puts on API Gateway (docs/architecture.md).
   */
  readonly maxConcurrency?: number;
}

/**
 * What every task worker needs: its queue's tasks, the chain, pushes (each appended to its
 * stream log), files and the chat.
 */
const WORKER_NEEDS: readonly Need[] = [
  'tasks:write',
  'queues:send',
  'taskConfig',
  'connections:write',
  'push',
  'streams',
  'artifacts',
  'idempotency',
  'downloadCredentials',
  'chatWebhook',
  // Dispatch to socket workers: their capacity items (connections table), `task.assign` (push).
  'placement',
];

export const FUNCTIONS: Readonly<Record<FunctionName, FunctionSpec>> = {
  wsAuthorizer: {
    entry: 'lambdas/ws/authorizer.ts',
    description: 'WebSocket $connect REQUEST authorizer: verifies the ?token= JWT',
    timeoutSeconds: 5,
    memoryMb: 256,
    needs: ['authSecret'],
  },
  wsConnect: {
    entry: 'lambdas/ws/connect.ts',
    description: 'WebSocket $connect: records the connection',
    timeoutSeconds: 10,
    memoryMb: 256,
    // sessionNotices: schedules the connection's `session.expiring` notice (messages table).
    needs: ['connections:write', 'sessionNotices'],
  },
  wsDisconnect: {
    entry: 'lambdas/ws/disconnect.ts',
    description: "WebSocket $disconnect: deletes the connection's records, frees its tasks",
    timeoutSeconds: 10,
    memoryMb: 256,
    // A socket worker's tasks are offered again (tasks, queues) or failed and told (push,
    // streams, chat); the task settings name the types.
    needs: [
      'connections:write',
      'tasks:write',
      'queues:send',
      'taskConfig',
      'push',
      'streams',
      'chatWebhook',
      'placement',
    ],
  },
  wsMessage: {
    entry: 'lambdas/ws/message.ts',
    description: 'WebSocket register/join/leave/ping/submit/$default routes',
    // A resume replays up to historySize frames, one PostToConnection each, before answering;
    // 29 s is API Gateway's integration timeout, so a longer Lambda timeout would buy nothing.
    timeoutSeconds: 29,
    memoryMb: 256,
    // Socket workers' answers end tasks as a Lambda run does: a large result goes to the
    // artifacts, the end to the chat.
    needs: [
      'connections:write',
      'push',
      'streams',
      'tasks:write',
      'queues:send',
      'taskConfig',
      'artifacts',
      'chatWebhook',
      'placement',
    ],
  },
  httpApi: {
    entry: 'lambdas/http/api.ts',
    description: 'HTTP API: health, tasks, push to users/groups/all, schedules, presence, stats',
    timeoutSeconds: 29,
    memoryMb: 512,
    needs: [
      'connections:write',
      'push',
      'streams',
      'authSecret',
      'tasks:write',
      'queues:send',
      'taskConfig',
      'messages',
      'fanoutQueue',
      'artifacts',
      // A task it queues goes to a free socket worker at once (placement websocket/auto).
      'placement',
    ],
  },
  wecomCallback: {
    entry: 'lambdas/http/wecom-callback.ts',
    description: 'WeCom callback: verifies, decrypts, answers commands and queues tasks',
    // WeCom gives up after 5 s and retries; answering within that matters more than anything.
    timeoutSeconds: 5,
    memoryMb: 512,
    needs: [
      'tasks:write',
      'queues:send',
      'taskConfig',
      'wecomSecret',
      'connections:write',
      'push',
      'streams',
      // A task it queues goes to a free socket worker at once (placement websocket/auto).
      'placement',
    ],
  },
  wecomBot: {
    entry: 'lambdas/http/wecom-bot.ts',
    description:
      'WeCom intelligent bot callback: verifies, decrypts, answers streams and cards, queues tasks',
    // WeCom's answer window is 5 s here too; a refresh is one read of the task and its step.
    timeoutSeconds: 5,
    memoryMb: 512,
    needs: [
      'tasks:write',
      'queues:send',
      'taskConfig',
      'wecomBotSecret',
      'connections:write',
      'push',
      'streams',
      // A task it queues goes to a free socket worker at once (placement websocket/auto).
      'placement',
    ],
  },
  deadLetter: {
    entry: 'lambdas/workers/dead-letter.ts',
    description: 'Marks tasks whose messages reached a dead-letter queue as failed and says so',
    timeoutSeconds: 30,
    memoryMb: 256,
    // A worker's, but it dispatches nothing: the placement settings would be read by no one.
    needs: WORKER_NEEDS.filter((need) => need !== 'placement'),
  },
  fanout: {
    entry: 'lambdas/workers/fanout.ts',
    description: 'Pushes batches of large deliveries and due scheduled messages',
    timeoutSeconds: 60,
    memoryMb: 512,
    needs: [
      'connections:write',
      'push',
      'streams',
      'messages',
      'fanoutQueue',
      'artifacts',
      'idempotency',
    ],
    consumes: 'fanout',
    batchSize: 2,
    maxConcurrency: 2,
  },
  scheduler: {
    entry: 'lambdas/workers/scheduler.ts',
    description: 'Every minute: queues scheduled messages that fall due',
    timeoutSeconds: 50,
    memoryMb: 256,
    needs: ['messages', 'fanoutQueue'],
    schedule: 'rate(1 minute)',
  },
  connectionSweeper: {
    entry: 'lambdas/workers/connection-sweeper.ts',
    description: 'Removes records of connections dropped without a $disconnect',
    timeoutSeconds: 300,
    memoryMb: 256,
    // `push` only for GetConnection (is a stale record's connection still open?): it sends no
    // frame, so it has no `streams`.
    needs: ['connections:write', 'push'],
    schedule: 'rate(15 minutes)',
  },
  taskReaper: {
    entry: 'lambdas/workers/task-reaper.ts',
    description:
      'Every minute: re-queues tasks stuck past their deadline or lease, fails them after retries',
    timeoutSeconds: 60,
    memoryMb: 256,
    // The tasks table (its open-task index, the claims, the chat rate limit), the task queues,
    // and the audience (and its streams) and chat of a task it fails.
    // Also the lease sweep: a socket worker's lapsed lease is its task's deadline, so the
    // reaper offers the task again (placement, the task settings for the chain's submit).
    needs: [
      'tasks:write',
      'queues:send',
      'connections:write',
      'push',
      'streams',
      'chatWebhook',
      'taskConfig',
      'placement',
    ],
    schedule: 'rate(1 minute)',
  },
  console: {
    entry: 'lambdas/http/console.ts',
    description: 'The console: serves the live page (HTML, CSS, JS) and its config.json',
    timeoutSeconds: 5,
    memoryMb: 128,
    // Static assets bundled in; it reads no table, secret or queue, only the WebSocket URL.
    needs: ['webSocketUrl'],
  },
};

/** A task type's worker: a function on the type's queue. */
export interface WorkerSpec extends FunctionSpec {
  /** Records per invocation (the event source mapping's batch size). */
  readonly batchSize: number;
}

/** Worker sizes that differ from the default, by task type. */
const WORKER_OVERRIDES: Readonly<Record<string, Partial<WorkerSpec>>> = {
  download: { timeoutSeconds: 120, memoryMb: 1024, batchSize: 2 },
};

/**
 * One worker per task type, derived from the task registry: a new type gets its queue, DLQ and
 * worker without touching this file (add an override only to size it differently).
 */
export const TASK_WORKERS: Readonly<Record<string, WorkerSpec>> = Object.fromEntries(
  TASK_TYPE_NAMES.map((taskType) => [
    taskType,
    {
      entry: 'lambdas/workers/task-worker.ts',
      description: `Runs ${taskType} tasks from their queue`,
      timeoutSeconds: 60,
      memoryMb: 512,
      batchSize: 5,
      needs: WORKER_NEEDS,
      ...WORKER_OVERRIDES[taskType],
    },
  ]),
);

/** WebSocket route key → function. Only $connect carries the authorizer. */
export const WS_ROUTES: Readonly<Record<string, FunctionName>> = {
  $connect: 'wsConnect',
  $disconnect: 'wsDisconnect',
  register: 'wsMessage',
  join: 'wsMessage',
  leave: 'wsMessage',
  ping: 'wsMessage',
  submit: 'wsMessage',
  $default: 'wsMessage',
};

/** The function that authorizes WebSocket upgrades on $connect. */
export const WS_AUTHORIZER: FunctionName = 'wsAuthorizer';

/* HTTP routes, with their functions and auth, are the route table in lambdas/http/routes.ts. */

export { ENV } from './config/env';
