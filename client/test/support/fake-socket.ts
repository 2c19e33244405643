import type { SocketEvent, WebSocketLike } from '../../src/index.js';

type Listener = (event: SocketEvent) => void;

/**
 * A WebSocket without a network: a test drives the server side (`accept`, `refuse`, `serve`,
 * `drop`) and reads what the client sent (`sent`).
 */
export class FakeSocket implements WebSocketLike {
  /** Every socket made, in order. */
  public static readonly all: FakeSocket[] = [];
  /** When set, each new socket is handed to it (an automatic server). */
  public static onCreate: ((socket: FakeSocket) => void) | undefined;

  public readyState = 0;
  public readonly sent: Record<string, unknown>[] = [];
  private readonly listeners = new Map<string, Listener[]>();
  private readonly emitterListeners = new Map<string, ((...args: unknown[]) => void)[]>();

  public constructor(public readonly url: string) {
    FakeSocket.all.push(this);
    FakeSocket.onCreate?.(this);
  }

  public static reset(): void {
    FakeSocket.all.length = 0;
    FakeSocket.onCreate = undefined;
  }

  /** The latest socket. */
  public static get last(): FakeSocket {
    const s = FakeSocket.all[FakeSocket.all.length - 1];
    if (!s) throw new Error('no socket yet');
    return s;
  }

  /** The token of the connect URL. */
  public get token(): string | null {
    return new URL(this.url).searchParams.get('token');
  }

  public addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  /** `ws`'s EventEmitter `on` (for 'unexpected-response'). */
  public on(event: string, listener: (...args: unknown[]) => void): this {
    this.emitterListeners.set(event, [...(this.emitterListeners.get(event) ?? []), listener]);
    return this;
  }

  public send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  public close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    const wasOpen = this.readyState === 1;
    this.readyState = 3;
    if (!wasOpen) this.fire('error', { message: 'closed before the connection was established' });
    this.fire('close', { code: wasOpen ? code : 1006, reason });
  }

  // The server side

  /** The upgrade succeeds. */
  public accept(): void {
    this.readyState = 1;
    this.fire('open', {});
  }

  /** The upgrade is refused with an HTTP status (as `ws` reports it). */
  public refuse(status = 401): void {
    for (const l of this.emitterListeners.get('unexpected-response') ?? []) {
      l({}, { statusCode: status });
    }
  }

  /** The upgrade fails as in a browser: an error, then a close, no status. */
  public fail(): void {
    this.readyState = 3;
    this.fire('error', {});
    this.fire('close', { code: 1006, reason: '' });
  }

  /** The server sends a frame. */
  public serve(frame: Record<string, unknown>): void {
    this.fire('message', { data: JSON.stringify(frame) });
  }

  /** The server drops the connection. */
  public drop(code = 1006): void {
    this.readyState = 3;
    this.fire('close', { code, reason: '' });
  }

  /** The frames the client sent with this action. */
  public sentOf(action: string): Record<string, unknown>[] {
    return this.sent.filter((f) => f.action === action);
  }

  /** The last register the client sent. */
  public get register(): Record<string, unknown> {
    const r = this.sentOf('register').at(-1);
    if (!r) throw new Error('no register sent');
    return r;
  }

  /** Answers the register with `registered` and these tips (and `resumed` when it resumed). */
  public registered(
    streams: Record<string, { epoch: string; seq: number }>,
    resumed?: Record<string, { epoch: string; seq: number; recovered: boolean }>,
  ): void {
    const requestId = this.register.requestId;
    this.serve({ type: 'registered', id: `reg-${requestId}`, requestId, streams });
    if (resumed)
      this.serve({ type: 'resumed', id: `res-${requestId}`, requestId, streams: resumed });
  }

  private fire(type: string, event: Omit<SocketEvent, 'type'>): void {
    for (const l of this.listeners.get(type) ?? []) l({ type, ...event });
  }
}

/** Lets queued promise callbacks run (the client awaits the token provider). */
export const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};
