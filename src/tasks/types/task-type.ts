import type { $ZodType, util } from 'zod/v4/core';
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
  /**
   * Reports progress (0..1) to the task's audience; cheap to call, rate-limited inside. The
   * write is conditional on the task still running: when it has ended (cancelled), this aborts
   * `signal` and throws {@link TaskCancelledError}, so calling it at each step is how a task
   * stops.
   */
  progress(fraction: number, note?: string): Promise<void>;
  readonly artifacts: ArtifactStore;
  /** The configured download servers by name. */
  readonly servers: Readonly<Record<string, ResolvedServer>>;
  /**
   * Queues a follow-up task (the download → logic chain); returns its id.
   * @throws TaskCancelledError when the task has ended meanwhile (nothing is queued).
   */
  chain(taskType: string, args: Record<string, unknown>): Promise<string>;
  /** `fetch`, injectable for tests. */
  readonly fetch: typeof fetch;
  readonly log: Log;
  /** Aborted when the worker is about to time out, or when the task was cancelled. */
  readonly signal: AbortSignal;
}

/**
 * The task ended (it was cancelled) while it ran: the run stops and its result is dropped; the
 * worker neither retries nor finishes it. Thrown by `progress` and `chain`; a task type lets it
 * through.
 */
export class TaskCancelledError extends Error {
  public constructor(taskId: string) {
    super(`task ${taskId} is no longer running (cancelled)`);
    this.name = 'TaskCancelledError';
  }
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
 * A task type's argument schema: zod/mini, as the shipped types write it (src/validation/zod.ts
 * keeps classic zod out of the bundles), or classic zod: either is a zod core schema with
 * `safeParse`.
 */
export type ArgsSchema<A> = $ZodType<A> & {
  safeParse(data: unknown): util.SafeParseResult<A>;
};

/**
 * A task type plug-in: everything about one kind of task in one module. Its name and aliases
 * (the chat's command words), how positional words read into its arguments (the chat and a
 * WebSocket `args` array), its usage line, its argument schema (objects from HTTP, WebSocket and
 * the task chain), what the chat says about it, and how to run it. The command parser, the help
 * text, submit validation, the chat messages, the worker and the stack all go through the
 * registry (src/tasks/registry.ts) and know nothing of a particular type.
 * See docs/task-types.md for adding one.
 */
export interface TaskTypeSpec<
  A extends Record<string, unknown> = Record<string, unknown>,
  R = unknown,
> {
  /** The `taskType` clients send and the chat's command word; names the queue and the worker. */
  readonly name: string;
  /** One line for people; the chat's help shows it after the usage line. */
  readonly summary: string;
  /** The positional form, e.g. `download [boxId] <dsNumber> [server]` (help, argument errors). */
  readonly usage: string;
  /**
   * More chat words for this type (e.g. `下载`): the default aliases. A configured alias map
   * (`COMMAND_ALIASES`) replaces the defaults of every type.
   */
  readonly aliases?: readonly string[];
  /**
   * The `clientType` a worker process of this type registers with over WebSocket; registering
   * as it needs the `worker` or `admin` role. Default: the type's name.
   */
  readonly workerClientType?: string;
  /** Validates arguments given as an object (HTTP/WebSocket submit, chained tasks). */
  readonly argsSchema: ArgsSchema<A>;
  /**
   * Argument fields that only a chained task (queued by the worker for its parent) may carry;
   * an outside submit (WebSocket, HTTP, WeCom) naming one is refused with `bad_request`.
   */
  readonly chainOnlyArgs?: readonly (keyof A & string)[];
  /**
   * Reads positional words (what follows the command word in the chat, or a WebSocket `args`
   * array) into arguments. The words are as typed: fold or normalise them here if the type
   * wants to.
   * @throws AppError `bad_request` saying what is wrong; callers append the usage line.
   */
  fromWords(words: readonly string[], context: ArgsContext): A;
  /** Checks arguments against configuration (e.g. a known server). @throws AppError. */
  checkArgs?(args: A, context: ArgsContext): void;
  /**
   * The arguments as the chat shows them, in the words a user would type (e.g. `box7 12345 cn`):
   * in the "accepted" reply and the result message. Default: nothing.
   */
  chatSummary?(args: A): string;
  /**
   * Markdown lines for the chat message of a succeeded task, from what `run` returned (after a
   * JSON round trip). Default: the result's top-level scalar fields. A renderer that throws
   * gets the default too, so a record of an older shape still reaches the chat.
   */
  chatResult?(result: R): readonly string[];
  /**
   * Runs the task and returns its result (JSON). Throw PermanentTaskError for failures that a
   * retry cannot fix; anything else is retried by the queue.
   */
  run(args: A, context: TaskRunContext): Promise<R>;
}

/** The usage error both front ends answer for bad words (bilingual, like all chat text). */
export const withUsage = (spec: Pick<TaskTypeSpec, 'usage'>, problem: string): string =>
  `${problem} 用法 Usage: ${spec.usage}`;
