/**
 * Error codes a caller may see. Client frames and HTTP error bodies carry them verbatim, so they
 * are part of the contract (docs/protocol.md).
 */
export type ErrorCode =
  | 'bad_request'
  | 'unknown_action'
  | 'forbidden'
  | 'unauthorized'
  | 'too_large'
  | 'not_found'
  | 'conflict'
  | 'unavailable'
  /** A socket worker answered for a task that is no longer its own (docs/protocol.md). */
  | 'lease_lost'
  | 'internal';

/** Every ErrorCode, so each transport's mapper can be checked against all of them. */
export const ERROR_CODES: readonly ErrorCode[] = [
  'bad_request',
  'unknown_action',
  'forbidden',
  'unauthorized',
  'too_large',
  'not_found',
  'conflict',
  'unavailable',
  'lease_lost',
  'internal',
];

/** Options of an AppError; a code outside {@link ErrorCode} must say which kind it is. */
export interface AppErrorOptions {
  readonly cause?: unknown;
  /** The general code this error falls under (default: its own code). */
  readonly kind?: ErrorCode;
}

/**
 * The options argument of `new AppError(code, …)`: optional for a general code, required (with
 * a `kind`) for a code of its own such as WeCom's `bad_signature`. Not distributive on purpose:
 * a union of codes that is not all general must give a kind.
 */
type OptionsFor<C extends string> = [C] extends [ErrorCode]
  ? [options?: AppErrorOptions]
  : [options: AppErrorOptions & { readonly kind: ErrorCode }];

/**
 * The base of every error the domain raises on purpose: it has a stable `code` and a message
 * that is safe to show the caller. Anything else that escapes a handler is a fault of ours and
 * is answered as `internal` without detail.
 *
 * No transport appears here: `kind` says what kind of failure it is (one of the general
 * codes), and each transport's edge maps kinds to its own answer (an HTTP status in
 * lambdas/http/error-response.ts, an error frame in lambdas/ws/error-frame.ts, the WeCom answer
 * in lambdas/http/wecom-answer.ts). A specialised error, such as WeCom's `WecomError`, keeps
 * its own codes and names the kind they fall under.
 *
 * @typeParam C the codes this error may carry (the general ones by default)
 */
export class AppError<C extends string = ErrorCode> extends Error {
  /** Machine-readable, stable across releases; what the caller sees. */
  public readonly code: C;
  /** The general code this error falls under: what transports map (equals `code` when general). */
  public readonly kind: ErrorCode;

  public constructor(code: C, message: string, ...[options]: OptionsFor<C>) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    // A general code is its own kind; OptionsFor makes every other code name one.
    this.kind = options?.kind ?? (code as string as ErrorCode);
  }
}

/** Shorthands for the common cases. */
export const badRequest = (message: string): AppError => new AppError('bad_request', message);
export const forbidden = (message: string): AppError => new AppError('forbidden', message);
export const unauthorized = (message: string): AppError => new AppError('unauthorized', message);
export const notFound = (message: string): AppError => new AppError('not_found', message);
export const tooLarge = (message: string): AppError => new AppError('too_large', message);

/** Narrows an unknown throwable to an AppError of any code (WeCom's included). */
export const isAppError = (e: unknown): e is AppError<string> => e instanceof AppError;

/**
 * What every transport tells a caller about a fault of ours: nothing of it. The fault itself,
 * stack and all, goes to the log.
 */
export const INTERNAL_ERROR_MESSAGE = 'internal error; it has been logged';
