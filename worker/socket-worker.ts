import WebSocket from 'ws';
import {
  type BackoffOptions,
  type BaseFrame,
  type ClientFrame,
  TaskwireClient,
  type WebSocketConstructor,
} from '../client/src/index.js';
import type { ArtifactStore } from '../src/artifacts/artifact-store';
import { TASK_REGISTRY, type TaskRegistry } from '../src/tasks/registry';
import { MAX_WORKER_CONCURRENCY } from '../src/tasks/socket/placement';
import type { ResolvedServer } from '../src/tasks/types/task-type';
import { readAssignment } from './assign-frame';
import { jsonLineLog, type JsonLineLog } from './log';
import { type RunReport, TaskRun } from './task-run';

export type { RunOutcome, RunReport } from './task-run';
// What a bench or another host needs to run workers of its own (the CLI is the reference).
export { jsonLineLog, type JsonLineLog } from './log';
export { readServers } from './servers';

/** Options of {@link startSocketWorker}. */
export interface SocketWorkerOptions {
  /** The WebSocket URL (`ws://127.0.0.1:3001` locally, the stack's `WebSocketUrl`). */
  readonly url: string;
  /** A JWT with the `worker` (or `admin`) role, or a provider called on every connect. */
  readonly token: string | (() => string | Promise<string>);
  /** The task types this worker takes (each must be in the registry). */
  readonly taskTypes: readonly string[];
  /** Tasks of each type run at once, 1..32 (default 1). */
  readonly concurrency?: number;
  /** The task types it can run (default: the shipped ones). */
  readonly registry?: TaskRegistry;
  /** Where downloads store files and logic reads them. */
  readonly artifacts: ArtifactStore;
  /** The download servers with their credentials (default none). */
  readonly servers?: Readonly<Record<string, ResolvedServer>>;
  readonly fetch?: typeof fetch;
  /** JSON-lines log (default: stderr, level info). */
  readonly log?: JsonLineLog;
  /** The WebSocket constructor (default `ws`). */
  readonly WebSocket?: WebSocketConstructor;
  /** The registered clientType (default: the first type's `workerClientType`, or its name). */
  readonly clientType?: string;
  readonly backoff?: BackoffOptions;
  readonly heartbeatMs?: number;
  /** Called once per finished task (whatever its outcome). */
  readonly onTaskEnd?: (report: RunReport) => void;
  /** Called on every registration with the connection's id. */
  readonly onRegistered?: (connectionId: string) => void;
  /** Clock in epoch ms (tests). */
  readonly now?: () => number;
}

/** A running socket worker. */
export interface SocketWorker {
  /** Resolves with the connection id once the worker has registered the first time. */
  readonly ready: Promise<string>;
  /**
   * Resolves once the worker has stopped (`drain` or `close`); rejects when it cannot go on
   * (the token was refused, the server refused the registration).
   */
  readonly done: Promise<void>;
  /**
   * Takes no new task (offers are answered `fail` with `retryable: true`, so the server offers
   * them elsewhere at once), waits for the tasks in flight to end and be answered, then closes.
   */
  drain(): Promise<void>;
  /** Stops at once: runs are aborted and nothing more is sent (the server re-offers them). */
  close(): Promise<void>;
  /** Tasks running now. */
  running(): number;
  /** The connection id of the current registration, if any. */
  connectionId(): string | undefined;
}

/** Why a worker cannot go on (a bad token, a refused registration). */
export class SocketWorkerError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'SocketWorkerError';
  }
}

/** The requestIds the worker gives its own requests, so an error frame of another is known. */
const OWN_REQUEST_ID = /^w\d+$/;

/** Answer codes to a registration that a retry cannot fix. */
const FATAL_REGISTER_CODES: ReadonlySet<string> = new Set([
  'forbidden',
  'bad_request',
  'unknown_action',
]);

/**
 * Checks the options a worker cannot start without.
 * @throws SocketWorkerError naming what is wrong.
 */
function checkOptions(options: SocketWorkerOptions, registry: TaskRegistry): void {
  if (options.taskTypes.length === 0) throw new SocketWorkerError('taskTypes: name at least one');
  const unknown = options.taskTypes.find((t) => !registry.find(t));
  if (unknown !== undefined) {
    throw new SocketWorkerError(
      `unknown task type "${unknown}"; known: ${registry.names.join(', ')}`,
    );
  }
  const n = options.concurrency ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKER_CONCURRENCY) {
    throw new SocketWorkerError(`concurrency: a whole number 1..${MAX_WORKER_CONCURRENCY}`);
  }
}

/**
 * Starts a socket worker (docs/protocol.md, "Workers over WebSocket") on the client library: it
 * registers with `worker: {taskTypes, concurrency}`, runs each `task.assign` with the task
 * type's `run` (see task-run.ts), reconnects and resumes like any client, stops a run on
 * `task.cancel`, and on `drain` finishes what it holds before it closes. A run whose
 * connection was replaced (a reconnect) is dropped: the server offers it again.
 * @throws SocketWorkerError for a bad option (unknown type, concurrency out of range).
 */
export function startSocketWorker(options: SocketWorkerOptions): SocketWorker {
  const registry = options.registry ?? TASK_REGISTRY;
  checkOptions(options, registry);
  const log = options.log ?? jsonLineLog(process.stderr);
  const now = options.now ?? Date.now;
  const first = registry.get(options.taskTypes[0] ?? '');
  const clientType = options.clientType ?? first.workerClientType ?? first.name;
  const token = options.token;
  const client = new TaskwireClient({
    url: options.url,
    token: typeof token === 'string' ? () => token : token,
    WebSocket: options.WebSocket ?? (WebSocket as unknown as WebSocketConstructor),
    clientType,
    worker: { taskTypes: [...new Set(options.taskTypes)], concurrency: options.concurrency ?? 1 },
    ...(options.backoff ? { backoff: options.backoff } : {}),
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    // The answers of a long queue of tasks may wait while offline; none is dropped for room.
    outboxLimit: 10_000,
  });

  /** Runs in flight by taskId, with the connection they were offered on. */
  const runs = new Map<string, { run: TaskRun; connectionId: string | undefined }>();
  /** Everything still to finish before a drain may close: runs and refusals. */
  const pending = new Set<Promise<unknown>>();
  let serial = 0;
  let current: string | undefined;
  let draining = false;
  let closing: Promise<void> | undefined;
  let resolveReady: (id: string) => void = () => undefined;
  const ready = new Promise<string>((resolve) => {
    resolveReady = resolve;
  });
  let settleDone: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const done = new Promise<void>((resolve, reject) => {
    settleDone = { resolve, reject };
  });
  // A caller that only awaits `ready` must not see an unhandled rejection of `done`.
  done.catch(() => undefined);

  const request = (frame: ClientFrame): Promise<BaseFrame> =>
    client.request({ ...frame, requestId: `w${++serial}` });

  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  };

  const runPorts = {
    request,
    registry,
    artifacts: options.artifacts,
    servers: options.servers ?? {},
    fetch: options.fetch ?? fetch,
    log,
    now,
  };

  const finished = (report: RunReport) => {
    log.info('task finished', { ...report });
    try {
      options.onTaskEnd?.(report);
    } catch (e) {
      log.error('onTaskEnd threw', { error: e instanceof Error ? e.message : String(e) });
    }
  };

  /** Sends a `fail` that is no run's (draining, a bad offer); the worker waits for it to go. */
  const refuse = (taskId: string, error: string, retryable: boolean) => {
    void track(
      request({ action: 'fail', taskId, error, retryable }).then(
        () => log.info('task offer refused', { taskId, error, retryable }),
        (e: unknown) =>
          log.warn('task refusal not taken', {
            taskId,
            error: e instanceof Error ? e.message : String(e),
          }),
      ),
    );
  };

  client.on('task.assign', (frame) => {
    const read = readAssignment(frame);
    if (!read.ok) {
      log.error('bad task.assign', { problem: read.problem, taskId: read.taskId });
      if (read.taskId !== undefined) refuse(read.taskId, read.problem, false);
      return;
    }
    const assign = read.assignment;
    if (draining || closing) {
      refuse(assign.taskId, 'the worker is draining (shutting down)', true);
      return;
    }
    if (runs.get(assign.taskId)?.run.stopped === false) {
      // Offered again while it runs here (the same connection keeps the lease): one run. A
      // stopped run (its connection was replaced) is still winding down: the new offer replaces
      // it.
      log.warn('task offered again while it runs here', {
        taskId: assign.taskId,
        attempt: assign.attempt,
      });
      return;
    }
    const run = new TaskRun(runPorts, assign);
    runs.set(assign.taskId, { run, connectionId: current });
    void track(
      run.execute().then((report) => {
        if (runs.get(assign.taskId)?.run === run) runs.delete(assign.taskId);
        finished(report);
      }),
    );
  });

  client.on('task.cancel', (frame) => {
    const taskId = typeof frame.taskId === 'string' ? frame.taskId : '';
    runs.get(taskId)?.run.abort('the task was cancelled (task.cancel)');
  });

  client.on('registered', (frame) => {
    const id = frame.connectionId;
    if (current !== undefined && current !== id) {
      // The tasks of the old connection are lost with it (the server offers them again), so
      // what they would answer from this one would be refused: stop them now.
      for (const [taskId, held] of runs) {
        if (held.connectionId !== id) {
          held.run.abort('the connection was replaced; the server offers the task again');
          log.info('task left with the old connection', {
            taskId,
            connectionId: held.connectionId,
          });
        }
      }
    }
    current = id;
    log.info('registered', {
      connectionId: id,
      clientType,
      taskTypes: options.taskTypes,
      concurrency: options.concurrency ?? 1,
    });
    options.onRegistered?.(id);
    resolveReady(id);
  });

  const fatal = (message: string) => {
    log.error('socket worker cannot go on', { error: message });
    const error = new SocketWorkerError(message);
    void stop(() => settleDone?.reject(error));
  };

  client.on('error', (frame) => {
    const requestId = typeof frame.requestId === 'string' ? frame.requestId : '';
    // Errors of our own requests are handled where they were sent.
    if (OWN_REQUEST_ID.test(requestId)) return;
    // Only the first registration: a later one may carry a resume the server refuses, which
    // the client answers itself by registering afresh.
    if (current === undefined && FATAL_REGISTER_CODES.has(frame.code)) {
      fatal(`the server refused the registration: ${frame.code}: ${frame.message}`);
    } else {
      log.warn('error frame', { code: frame.code, message: frame.message });
    }
  });

  client.on('retry', (event) => {
    if (event.error?.unauthorized && typeof token === 'string') {
      // A fixed token that was refused stays refused: retrying would only hammer the server.
      fatal('the token was refused (401): check --token (expired, or signed with another secret)');
      return;
    }
    log.warn('reconnecting', {
      attempt: event.attempt,
      delayMs: event.delayMs,
      error: event.error?.message,
    });
  });

  client.on('state', (event) => {
    if (event.state === 'closed' && !closing) {
      fatal(`the client closed: ${event.error?.message ?? 'unknown reason'}`);
    }
  });

  const stop = (settle: () => void): Promise<void> => {
    closing ??= (async () => {
      for (const { run } of runs.values()) run.abort('the worker is closing');
      await client.close();
      settle();
    })();
    return closing;
  };

  void client.connect().catch(() => undefined);

  return {
    ready,
    done,
    running: () => runs.size,
    connectionId: () => current,
    close: () => stop(() => settleDone?.resolve()),
    async drain() {
      if (closing) return closing;
      if (!draining) {
        draining = true;
        log.info('draining', { inFlight: runs.size });
      }
      // New refusals may join while we wait; wait until nothing is left.
      while (pending.size > 0) await Promise.allSettled([...pending]);
      return stop(() => settleDone?.resolve());
    },
  };
}
