import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { HistorySettings } from '../lambdas/config/stream-config';
import type { Log } from '../src/ports/log';
import type { LocalCredentials } from './clients';
import {
  type Answer,
  exitText,
  hasOp,
  type LogLine,
  PendingCalls,
  type PlacementMode,
  placementFromEnv,
} from './ipc';

/**
 * Where the local runtime runs the execution environments of its push-heavy functions (the
 * fan-out and the connection sweeper): in its own process, or each in a process of its own, as
 * Lambda gives each environment its own share of CPU.
 */
export type FunctionEnvironmentMode = PlacementMode;

/** `TASKWIRE_FUNCTION_ENVIRONMENTS`: `inline` or `process`, else the fallback when unset. */
export const functionModeFromEnv = (
  fallback: FunctionEnvironmentMode,
  raw = process.env.TASKWIRE_FUNCTION_ENVIRONMENTS,
): FunctionEnvironmentMode => placementFromEnv('TASKWIRE_FUNCTION_ENVIRONMENTS', fallback, raw);

/** The functions that can run in environments of their own, with their own settings. */
export type EnvironmentFunction =
  | { readonly name: 'fanout' }
  | {
      readonly name: 'connectionSweeper';
      /** GetConnection calls per second (absent: the sweep's default). */
      readonly checksPerSecond?: number;
    };

/**
 * What an environment builds its ports from: the endpoints and names the cloud's function reads
 * from its environment variables, and the local artifact store's settings. Sent over IPC, so the
 * gateway's key pair and the link secret never appear in argv or the environment.
 */
export interface FunctionEnvironmentStart {
  readonly function: EnvironmentFunction;
  readonly dynamoEndpoint: string;
  readonly sqsEndpoint: string;
  readonly fanoutQueueUrl: string;
  readonly managementEndpoint: string;
  /** The key pair the gateway's `@connections` accepts. */
  readonly credentials: LocalCredentials;
  readonly pushConcurrency?: number;
  readonly inlineLimit?: number;
  /** The stream log's retention; absent, frames go out unsequenced (streamLog: false). */
  readonly history?: HistorySettings;
  readonly artifacts: {
    readonly root: string;
    readonly baseUrl: string;
    /** The download links' HMAC key, base64. */
    readonly secret: string;
  };
}

/** Runtime → environment. */
export type ToEnvironment =
  | { readonly op: 'start'; readonly settings: FunctionEnvironmentStart }
  | { readonly op: 'invoke'; readonly id: number; readonly event: unknown }
  | { readonly op: 'close' };

/** Environment → runtime. */
export type FromEnvironment =
  { readonly op: 'ready' } | { readonly op: 'failed'; readonly message: string } | LogLine | Answer;

/** Options of {@link functionEnvironments}. */
export interface FunctionEnvironmentsOptions {
  readonly settings: FunctionEnvironmentStart;
  readonly log: Log;
  /** The function's timeout: an invocation still running then is killed with its process. */
  readonly timeoutMs: number;
  /** How long a cold start may take (default 30 s). */
  readonly startTimeoutMs?: number;
}

/** A function's answer to one invocation, as it came over IPC. */
export type EnvironmentHandler = (event: unknown) => Promise<unknown>;

/** One function's execution environments. */
export interface FunctionEnvironments {
  /**
   * One execution environment per call (the SQS poller's `createHandler`): its process is
   * forked at its first invocation (a cold start) and again after it died; it runs one
   * invocation at a time.
   */
  readonly createHandler: () => EnvironmentHandler;
  /** Invokes an idle environment, or a new one when all are busy (scheduled and on-demand runs). */
  invoke(event: unknown): Promise<unknown>;
  /** The process ids of the environments running now. */
  pids(): number[];
  /** Ends every environment (once the poller has stopped: nothing invokes them any more). */
  close(): Promise<void>;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** A forked environment and the invocations waiting for it. */
interface Running {
  readonly child: ChildProcess;
  readonly calls: PendingCalls;
  readonly exited: Promise<void>;
}

/**
 * A function's execution environments, each in a child process of its own
 * (local/function-environment-child.ts) built from the same composition as the cloud's. Lambda
 * runs each environment with its own CPU, so concurrent invocations do not share one event
 * loop: locally each gets its own process and core. An environment that dies mid-invocation
 * fails it (an SQS batch comes back after its visibility timeout, as in Lambda) and the next
 * invocation starts a fresh one; one that outlives the function's timeout is killed.
 */
export function functionEnvironments(options: FunctionEnvironmentsOptions): FunctionEnvironments {
  const { settings, log, timeoutMs } = options;
  const name = settings.function.name;
  const running = new Set<Running>();
  let closing = false;

  async function startEnvironment(): Promise<Running> {
    const child = fork(join(__dirname, 'function-environment-child.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const calls = new PendingCalls();
    let started: { resolve: () => void; reject: (e: Error) => void } | undefined;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        const e = new Error(`the ${name} execution environment ended (${exitText(code, signal)})`);
        calls.fail(e);
        started?.reject(e);
        running.delete(self);
        resolve();
        if (!closing) log.error(e.message, { pid: child.pid });
      });
    });
    const self: Running = { child, calls, exited };
    running.add(self);
    child.on('message', (m: unknown) => {
      if (!hasOp(m)) return;
      const message = m as FromEnvironment;
      switch (message.op) {
        case 'ready':
          return started?.resolve();
        case 'failed':
          return started?.reject(new Error(message.message));
        case 'log':
          return log[message.level](message.message, ...message.attributes);
        case 'answer':
          return calls.settle(message);
      }
    });
    // The channel's own errors (the child died mid-send) are reported by 'exit' above.
    child.on('error', (e) => log.debug('function environment error', { error: e.message }));
    const startTimeoutMs = options.startTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        started = { resolve, reject };
        timer = setTimeout(
          () => reject(new Error(`did not start within ${startTimeoutMs} ms`)),
          startTimeoutMs,
        );
        child.send({ op: 'start', settings } satisfies ToEnvironment);
      });
    } catch (e) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`the ${name} execution environment did not start: ${errorText(e)}`, {
        cause: e,
      });
    } finally {
      clearTimeout(timer);
      started = undefined;
    }
    return self;
  }

  const createHandler = (): EnvironmentHandler => {
    let current: Promise<Running> | undefined;
    return async (event) => {
      if (closing) throw new Error(`the ${name} environments are closed`);
      if (!current) {
        const starting = startEnvironment();
        current = starting;
        // A dead (or never started) environment is replaced at the next invocation, as Lambda
        // does: one listener per environment, not per invocation.
        const forget = () => {
          if (current === starting) current = undefined;
        };
        starting.then((env) => env.exited.then(forget), forget);
      }
      const env = await current;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        env.child.kill('SIGKILL');
      }, timeoutMs);
      try {
        return await env.calls.call((id) => {
          if (!env.child.connected) throw new Error(`the ${name} environment has ended`);
          env.child.send({ op: 'invoke', id, event } satisfies ToEnvironment);
        });
      } catch (e) {
        // Lambda's own words for an invocation cut off at the function's timeout.
        if (timedOut) {
          throw new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`, {
            cause: e,
          });
        }
        throw e;
      } finally {
        clearTimeout(timer);
      }
    };
  };

  /** Environments for invoke(): each runs one invocation at a time. */
  const pool: { handler: EnvironmentHandler; busy: boolean }[] = [];
  const invoke = async (event: unknown): Promise<unknown> => {
    let env = pool.find((e) => !e.busy);
    if (!env) {
      env = { handler: createHandler(), busy: false };
      pool.push(env);
    }
    env.busy = true;
    try {
      return await env.handler(event);
    } finally {
      env.busy = false;
    }
  };

  return {
    createHandler,
    invoke,
    pids: () => [...running].flatMap((r) => (r.child.pid === undefined ? [] : [r.child.pid])),
    close: async () => {
      closing = true;
      await Promise.all(
        [...running].map(async (r) => {
          const timer = setTimeout(() => r.child.kill('SIGKILL'), 5000);
          if (r.child.connected) r.child.send({ op: 'close' } satisfies ToEnvironment);
          else r.child.kill('SIGKILL');
          await r.exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}
