/** Base class of every error the client raises. */
export class TaskwireError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** `submit` (or a request) did not finish in time. */
export class TaskwireTimeoutError extends TaskwireError {
  public constructor(
    message: string,
    /** The root task, when it was accepted before the timeout. */
    public readonly taskId: string | undefined,
    public readonly taskType: string,
    public readonly timeoutMs: number,
  ) {
    super(message);
  }
}

/** The server answered a request with an error frame (`code`: `forbidden`, `bad_request`, …). */
export class TaskwireServerError extends TaskwireError {
  public constructor(
    public readonly code: string,
    message: string,
    public readonly requestId?: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/**
 * A connection attempt failed or a connection closed: `status` is the HTTP status of a refused
 * upgrade (Node `ws` reports it; a browser does not, so it is undefined there), `code`/`reason`
 * the close code and reason of a connection that was open.
 */
export class TaskwireConnectionError extends TaskwireError {
  public constructor(
    message: string,
    public readonly details: {
      readonly status?: number;
      readonly code?: number;
      readonly reason?: string;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message);
  }

  /** The upgrade was refused with 401 (a missing, bad or expired token). */
  public get unauthorized(): boolean {
    return this.details.status === 401;
  }
}

/** A request queued in the outbox was dropped to make room, or the client was closed. */
export class TaskwireDroppedError extends TaskwireError {}
