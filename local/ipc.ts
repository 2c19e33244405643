import type { Log } from '../src/ports/log';

/**
 * What the local runtime's child processes (the WebSocket gateway, the fan-out's execution
 * environments) and the runtime share over their IPC channel: calls answered by id, answers
 * that carry an error's message (never its stack), and log lines that go to the runtime's log.
 */

/** The answer to a call or an invocation: a value, or the error's message. */
export type Answer =
  | { readonly op: 'answer'; readonly id: number; readonly ok: true; readonly value?: unknown }
  | { readonly op: 'answer'; readonly id: number; readonly ok: false; readonly message: string };

/** True for an IPC message with an `op` (anything else on the channel is ignored). */
export const hasOp = (m: unknown): m is { op: string } =>
  typeof m === 'object' && m !== null && typeof (m as { op?: unknown }).op === 'string';

/**
 * Calls across the channel, each answered by its id. `fail` rejects every call still waiting
 * (the other side went away), and every later one.
 */
export class PendingCalls {
  private next = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private failure: Error | undefined;

  /** Sends what `build` makes of a fresh id and waits for its answer. */
  public call(build: (id: number) => void): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      try {
        build(id);
      } catch (e) {
        this.waiting.delete(id);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** Settles the call the answer is for (an unknown id is ignored: it timed out or failed). */
  public settle(answer: Answer): void {
    const w = this.waiting.get(answer.id);
    if (!w) return;
    this.waiting.delete(answer.id);
    if (answer.ok) w.resolve(answer.value);
    else w.reject(new Error(answer.message));
  }

  public fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}

/** An answer from a settled promise (an error travels as its message, never its stack). */
export async function answerOf(id: number, run: () => Promise<unknown>): Promise<Answer> {
  try {
    return { op: 'answer', id, ok: true, value: await run() };
  } catch (e) {
    return { op: 'answer', id, ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/** Log levels a child forwards. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A child's log line on its way to the runtime's log. */
export interface LogLine {
  readonly op: 'log';
  readonly level: LogLevel;
  readonly message: string;
  readonly attributes: readonly Record<string, unknown>[];
}

/** A {@link Log} whose every line is sent as a {@link LogLine} (a child's log). */
export function forwardingLog(send: (line: LogLine) => void): Log {
  const at =
    (level: LogLevel) =>
    (message: string, ...attributes: Record<string, unknown>[]) =>
      send({ op: 'log', level, message, attributes });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Sends a child's message to its parent; a no-op once the channel is gone (the child then ends). */
export function sendToParent(message: unknown): void {
  if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
}

/** Where a part of the local runtime runs: in the runtime's process, or in one of its own. */
export type PlacementMode = 'inline' | 'process';

/** An `inline`/`process` setting from the environment variable `name`; unset or blank: fallback. */
export function placementFromEnv(
  name: string,
  fallback: PlacementMode,
  raw: string | undefined,
): PlacementMode {
  if (raw === undefined || raw.trim() === '') return fallback;
  if (raw === 'inline' || raw === 'process') return raw;
  throw new Error(`${name} must be "inline" or "process", not "${raw}"`);
}

/** How a child process ended, in words ("killed by SIGKILL", "exit code 1"). */
export const exitText = (code: number | null, signal: NodeJS.Signals | null): string =>
  signal ? `killed by ${signal}` : `exit code ${String(code)}`;
