import type { z } from 'zod';
import type { ArtifactStore } from '../../artifacts/artifact-store';
import type { Log } from '../../ports/log';
import type { Task } from '../task';

/** What reading a task's arguments may need to know. */
export interface ArgsContext {
  /** Names of the configured download servers. */
  readonly servers: readonly string[];
  /** The server a download uses when it names none. */
  readonly defaultServer: string;
}

/** A configured download server, with its credentials resolved. */
export interface ResolvedServer {
  readonly name: string;
  readonly baseUrl: string;
  /** Path under baseUrl with `{dsNumber}` (default `/{dsNumber}`). */
  readonly path: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly credentials?: { readonly username: string; readonly password: string };
}

/** What a running task may use. */
export interface TaskRunContext {
  readonly task: Task;
  /** Reports progress (0..1) to the task's audience; cheap to call, rate-limited inside. */
  progress(fraction: number, note?: string): Promise<void>;
  readonly artifacts: ArtifactStore;
  /** The configured download servers by name. */
  readonly servers: Readonly<Record<string, ResolvedServer>>;
  /** Queues a follow-up task (the download → logic chain); returns its id. */
  chain(taskType: string, args: Record<string, unknown>): Promise<string>;
  /** `fetch`, injectable for tests. */
  readonly fetch: typeof fetch;
  readonly log: Log;
  /** Aborted when the worker is about to time out. */
  readonly signal: AbortSignal;
}

/**
 * A failure that retrying cannot fix (a 404, a host off the allow-list, a file over the cap):
 * the task fails at once instead of going round the queue.
 */
export class PermanentTaskError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentTaskError';
  }
}

/**
 * A task type plug-in: its name, its argument schema, how to read positional words (a chat
 * command or a WebSocket `args` array) into those arguments, and how to run it.
 * See docs/task-types.md for adding one.
 */
export interface TaskTypeSpec<A extends Record<string, unknown> = Record<string, unknown>> {
  readonly name: string;
  readonly summary: string;
  /** Validates arguments given as an object (HTTP/WebSocket submit, chained tasks). */
  readonly argsSchema: z.ZodType<A>;
  /**
   * Argument fields that only a chained task (queued by the worker for its parent) may carry;
   * an outside submit (WebSocket, HTTP, WeCom) naming one is refused with `bad_request`.
   */
  readonly chainOnlyArgs?: readonly (keyof A & string)[];
  /**
   * Reads positional words into arguments.
   * @throws AppError `bad_request` with the usage line.
   */
  fromWords(words: readonly string[], context: ArgsContext): A;
  /** Checks arguments against configuration (e.g. a known server). @throws AppError. */
  checkArgs?(args: A, context: ArgsContext): void;
  /**
   * Runs the task and returns its result (JSON). Throw PermanentTaskError for failures that a
   * retry cannot fix; anything else is retried by the queue.
   */
  run(args: A, context: TaskRunContext): Promise<unknown>;
}
