/**
 * The logging port of the domain: the Powertools Logger satisfies it in Lambda and locally;
 * tests pass a silent or recording one.
 */
export interface Log {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** A log that drops everything (tests, benchmarks). */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
