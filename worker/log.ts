import type { Log } from '../src/ports/log';

/** The levels of {@link JsonLineLog}, least to most severe. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A {@link Log} that can make a child carrying more attributes on every line (e.g. `taskId`). */
export interface JsonLineLog extends Log {
  child(attributes: Record<string, unknown>): JsonLineLog;
}

/** Where a line goes: anything with `write(text)` (process.stderr, a test's buffer). */
export interface LineSink {
  write(text: string): unknown;
}

/**
 * Structured logs of the socket worker, one JSON object a line (`level`, `time`, `msg`, then the
 * attributes). Not Lambda code: the worker runs as a plain process on the operator's machine,
 * where a JSON-lines stream on stderr is what log shippers read; stdout stays for people.
 */
export function jsonLineLog(
  sink: LineSink,
  options: { readonly level?: LogLevel; readonly base?: Record<string, unknown> } = {},
): JsonLineLog {
  const min = LOG_LEVELS.indexOf(options.level ?? 'info');
  const base = options.base ?? {};
  const line =
    (level: LogLevel) =>
    (msg: string, ...attributes: Record<string, unknown>[]) => {
      if (LOG_LEVELS.indexOf(level) < min) return;
      const record = Object.assign(
        { level, time: new Date().toISOString(), msg },
        base,
        ...attributes,
      ) as Record<string, unknown>;
      sink.write(`${safeJson(record)}\n`);
    };
  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    child: (attributes) => jsonLineLog(sink, { ...options, base: { ...base, ...attributes } }),
  };
}

/** JSON of a log record; an attribute that cannot be serialised (a cycle, a BigInt) is named. */
function safeJson(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, (_key, value: unknown) =>
      value instanceof Error ? { name: value.name, message: value.message } : value,
    );
  } catch (e) {
    return JSON.stringify({
      level: record.level,
      time: record.time,
      msg: record.msg,
      logError: e instanceof Error ? e.message : String(e),
    });
  }
}

/** Parses a `--log-level` value. @returns undefined when it is no level. */
export const logLevelOf = (value: string): LogLevel | undefined =>
  (LOG_LEVELS as readonly string[]).includes(value) ? (value as LogLevel) : undefined;
