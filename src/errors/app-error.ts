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
  | 'internal';

const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unknown_action: 400,
  internal: 500,
};

/**
 * An error the domain raises on purpose: it has a code and a message that is safe to show the
 * caller. Anything else that escapes a handler is a fault of ours and is answered as `internal`
 * without detail.
 */
export class AppError extends Error {
  public readonly code: ErrorCode;

  public constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
  }

  /** The HTTP status this error maps to. */
  public get status(): number {
    return HTTP_STATUS[this.code];
  }
}

/** Shorthands for the common cases. */
export const badRequest = (message: string): AppError => new AppError('bad_request', message);
export const forbidden = (message: string): AppError => new AppError('forbidden', message);
export const unauthorized = (message: string): AppError => new AppError('unauthorized', message);
export const notFound = (message: string): AppError => new AppError('not_found', message);
export const tooLarge = (message: string): AppError => new AppError('too_large', message);

/** Narrows an unknown throwable to an AppError. */
export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
