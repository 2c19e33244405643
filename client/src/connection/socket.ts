import { TaskwireConnectionError } from '../errors.js';

/** What a socket event carries, as far as the client reads it (browser `Event`s and `ws`'s). */
export interface SocketEvent {
  readonly type: string;
  readonly data?: unknown;
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly error?: unknown;
}

/** The part of the WebSocket API the client uses: the browser's `WebSocket` and Node `ws` fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: SocketEvent) => void): void;
}

/** A WebSocket constructor: `globalThis.WebSocket` in a browser, `ws`'s default export in Node. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** `ws`'s extra event for a refused upgrade (an EventEmitter `on`). */
interface NodeEmitter {
  on(event: 'unexpected-response', listener: (req: unknown, res: unknown) => void): unknown;
}

const OPEN = 1;

/** The connect URL with `?token=` (browsers cannot set headers on an upgrade). */
export function connectUrl(url: string, token: string): string {
  const target = new URL(url);
  target.searchParams.set('token', token);
  return target.toString();
}

/** What a {@link Link} reports. */
export interface LinkHandlers {
  onOpen(link: Link): void;
  onText(link: Link, text: string): void;
  onClose(link: Link, error: TaskwireConnectionError): void;
}

const textOf = (data: unknown): string | undefined => {
  if (typeof data === 'string') return data;
  // Node `ws` may hand over a Buffer; a browser's binary frames are not part of the protocol.
  if (data instanceof Uint8Array) return new TextDecoder().decode(data);
  return undefined;
};

/** One WebSocket connection of the client, from the upgrade to its close. */
export class Link {
  /** The requestId of this connection's `register`. */
  public registerRequestId = '';
  /** The register carried a resume: the link is ready on `resumed`, not on `registered`. */
  public resuming = false;
  /** A register is waiting for its reply (its `resumed` when it resumes). */
  public registering = false;
  /** The register was refused once already. */
  public reregistered = false;
  /** Ready: registered (and resumed). */
  public ready = false;
  /** Being closed after a make-before-break switch. */
  public retiring = false;
  public closed = false;
  /** Releases the stream tracker's hold while this link resumes. */
  public release: () => void = () => {};
  private socket: WebSocketLike | undefined;
  private opened = false;
  private status: number | undefined;
  private lastErrorText: string | undefined;
  private readonly closeWaiters: (() => void)[] = [];

  public constructor(
    public readonly serial: number,
    private readonly handlers: LinkHandlers,
  ) {}

  /** Opens the socket. */
  public open(Ctor: WebSocketConstructor, url: string): void {
    let socket: WebSocketLike;
    try {
      socket = new Ctor(url);
    } catch (cause) {
      this.finish(new TaskwireConnectionError('could not create the WebSocket', { cause }));
      return;
    }
    this.socket = socket;
    const node = socket as unknown as Partial<NodeEmitter>;
    if (typeof node.on === 'function') {
      node.on('unexpected-response', (_req, res) => {
        const status = (res as { statusCode?: unknown } | undefined)?.statusCode;
        this.status = typeof status === 'number' ? status : undefined;
        socket.close();
      });
    }
    socket.addEventListener('open', () => {
      if (this.closed) return;
      this.opened = true;
      this.handlers.onOpen(this);
    });
    socket.addEventListener('message', (event) => {
      if (this.closed) return;
      const text = textOf(event.data);
      if (text !== undefined) this.handlers.onText(this, text);
    });
    socket.addEventListener('error', (event) => {
      const text = event.message ?? (event.error instanceof Error ? event.error.message : '');
      if (text) this.lastErrorText = text;
    });
    socket.addEventListener('close', (event) => {
      this.finish(this.errorOf(event.code, event.reason));
    });
  }

  /** True while the socket is open. */
  public get isOpen(): boolean {
    return !this.closed && this.socket?.readyState === OPEN;
  }

  /** Sends a text frame; false when the socket is not open. */
  public send(text: string): boolean {
    if (!this.isOpen || !this.socket) return false;
    try {
      this.socket.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the socket; resolves once it reported its close (or after `waitMs`). */
  public close(code = 1000, reason = 'client closed', waitMs = 2000): Promise<void> {
    if (this.closed || !this.socket) {
      this.finish(new TaskwireConnectionError('closed by the client', { code, reason }));
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      this.socket.close(code, reason);
    } catch {
      this.finish(new TaskwireConnectionError('closed by the client', { code, reason }));
    }
    return done;
  }

  private errorOf(code: number | undefined, reason: string | undefined): TaskwireConnectionError {
    const reported = /Unexpected server response: (\d{3})/.exec(this.lastErrorText ?? '');
    if (this.status === undefined && reported?.[1]) this.status = Number(reported[1]);
    if (this.status !== undefined) {
      return new TaskwireConnectionError(`the upgrade was refused: HTTP ${this.status}`, {
        status: this.status,
      });
    }
    if (!this.opened) {
      return new TaskwireConnectionError(
        `the connection failed before it opened${this.lastErrorText ? `: ${this.lastErrorText}` : ''} (a refused token looks like this in a browser)`,
        { ...(code !== undefined ? { code } : {}) },
      );
    }
    return new TaskwireConnectionError(
      `the connection closed (${code ?? 'no code'}${reason ? `: ${reason}` : ''})`,
      {
        ...(code !== undefined ? { code } : {}),
        ...(reason ? { reason } : {}),
      },
    );
  }

  private finish(error: TaskwireConnectionError): void {
    const first = !this.closed;
    this.closed = true;
    this.release();
    for (const waiter of this.closeWaiters.splice(0)) waiter();
    if (first) this.handlers.onClose(this, error);
  }
}
