import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** Where a raw client connects. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** `ws://host:port` or `http://host:port/...` → host and port. */
export function endpointOf(url: string): Endpoint {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/**
 * How long a raw client waits for the server's handshake answer or close by default before it
 * calls that a failure: a bound, not a speed. Generous, for a loaded 2-core CI machine (the
 * chaos suite runs 24 clients at once beside another jest worker); each wait ends as soon as the
 * answer is there.
 */
export const ANSWER_BOUND_MS = 15_000;

/** A step of a scripted raw exchange. */
export type RawStep =
  | { readonly write: Buffer | string }
  | { readonly wait: number }
  /**
   * Waits until what the server sent so far satisfies `until`, the server closes, or `maxMs`
   * passes (a bound; the exchange then goes on with the next step).
   */
  | { readonly until: (received: Buffer) => boolean; readonly maxMs: number }
  /** Closes our side cleanly (FIN) and waits for the server to finish. */
  | { readonly end: true }
  /** Sends a TCP RST (the client vanished). */
  | { readonly reset: true };

/** What a raw exchange saw. */
export interface RawResult {
  readonly received: Buffer;
  /** The HTTP status of the first response line, when the server wrote one. */
  readonly status: number | undefined;
  /** True when the server closed the connection before the exchange's time ran out. */
  readonly closedByServer: boolean;
}

/** The status of an HTTP response at the start of `data`, if any. */
export function httpStatus(data: Buffer): number | undefined {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(data.subarray(0, 32).toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Sends a TCP RST. Not after our own FIN: libuv cannot reset a socket it is shutting down, and
 * Node then never emits 'close' (the handle leaks), so such a socket is just destroyed.
 */
function resetSocket(socket: Socket): void {
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}

/** Resolves once `chunks` satisfy the step's condition, the socket closes, or its bound passes. */
function receivedUntil(
  socket: Socket,
  chunks: readonly Buffer[],
  closed: Promise<void>,
  step: { readonly until: (received: Buffer) => boolean; readonly maxMs: number },
): Promise<void> {
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      socket.off('data', check);
      resolve();
    };
    // Registered after the listener that collects the chunks, so it sees the new ones.
    const check = () => {
      if (step.until(Buffer.concat(chunks))) finish();
    };
    const timer = setTimeout(finish, step.maxMs);
    socket.on('data', check);
    void closed.then(finish);
    check();
  });
}

/**
 * Runs a script of writes, pauses, a FIN or a reset against a TCP endpoint, collecting what the
 * server sends; resolves when the socket closes or `maxMs` after the last step.
 */
export async function rawExchange(
  at: Endpoint,
  steps: readonly RawStep[],
  maxMs = 1000,
): Promise<RawResult> {
  const socket = connect(at.port, at.host);
  const chunks: Buffer[] = [];
  let closed = false;
  let closedByServer = false;
  let resetByUs = false;
  const done = new Promise<void>((resolve) => {
    socket.on('close', () => {
      closed = true;
      resolve();
    });
  });
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('end', () => {
    if (!resetByUs) closedByServer = true;
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('close', () => resolve());
  });
  for (const step of steps) {
    if (closed) break;
    if ('write' in step) socket.write(step.write);
    else if ('wait' in step) await pause(step.wait);
    else if ('until' in step) await receivedUntil(socket, chunks, done, step);
    else if ('end' in step) socket.end();
    else {
      resetByUs = true;
      resetSocket(socket);
    }
  }
  const timer = new Promise<void>((r) => setTimeout(r, maxMs).unref());
  await Promise.race([done, timer]);
  if (!closed) socket.destroy();
  const received = Buffer.concat(chunks);
  return { received, status: httpStatus(received), closedByServer };
}

/** A WebSocket frame as the fuzzer builds it; anything may be wrong on purpose. */
export interface FrameSpec {
  readonly fin?: boolean;
  readonly rsv?: number;
  readonly opcode: number;
  readonly payload?: Buffer | string;
  /** Client frames must be masked; false sends one unmasked. */
  readonly mask?: boolean;
}

/** Encodes a frame (masked unless told otherwise), with the shortest valid length form. */
export function encodeFrame(spec: FrameSpec): Buffer {
  const payload =
    typeof spec.payload === 'string'
      ? Buffer.from(spec.payload)
      : (spec.payload ?? Buffer.alloc(0));
  const masked = spec.mask ?? true;
  const first = ((spec.fin ?? true) ? 0x80 : 0) | (((spec.rsv ?? 0) & 7) << 4) | (spec.opcode & 15);
  let header: Buffer;
  if (payload.length < 126) {
    header = Buffer.from([first, (masked ? 0x80 : 0) | payload.length]);
  } else if (payload.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = (masked ? 0x80 : 0) | 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = (masked ? 0x80 : 0) | 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  if (!masked) return Buffer.concat([header, payload]);
  const key = randomBytes(4);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = (payload[i] ?? 0) ^ (key[i % 4] ?? 0);
  return Buffer.concat([header, key, body]);
}

/** A close frame's payload: the code and a reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code & 0xffff, 0);
  return Buffer.concat([b, Buffer.from(reason)]);
}

/** A frame the server sent. */
export interface ServerFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

/** Splits the bytes a server sent after the handshake into frames (server frames are unmasked). */
export function parseServerFrames(data: Buffer): ServerFrame[] {
  const frames: ServerFrame[] = [];
  let at = 0;
  while (at + 2 <= data.length) {
    const opcode = (data[at] ?? 0) & 15;
    let len = (data[at + 1] ?? 0) & 127;
    let off = at + 2;
    if (len === 126) {
      if (off + 2 > data.length) break;
      len = data.readUInt16BE(off);
      off += 2;
    } else if (len === 127) {
      if (off + 8 > data.length) break;
      len = Number(data.readBigUInt64BE(off));
      off += 8;
    }
    if (off + len > data.length) break;
    frames.push({ opcode, payload: data.subarray(off, off + len) });
    at = off + len;
  }
  return frames;
}

/** The request bytes of a WebSocket upgrade to `path` (a valid handshake unless overridden). */
export function upgradeRequest(
  at: Endpoint,
  path: string,
  headers: Readonly<Record<string, string>> = {},
): string {
  const all: Record<string, string> = {
    Host: `${at.host}:${at.port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  const lines = Object.entries(all).map(([k, v]) => `${k}: ${v}`);
  return `GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** An open raw WebSocket: write any bytes, read every frame the server sends. */
export class RawWebSocket {
  private readonly chunks: Buffer[] = [];
  private closed = false;
  private readonly closedPromise: Promise<void>;

  private constructor(
    public readonly socket: Socket,
    leftover: Buffer,
  ) {
    this.chunks.push(leftover);
    socket.on('data', (d: Buffer) => this.chunks.push(d));
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true;
        resolve();
      });
    });
  }

  /** Completes a handshake to `ws://…/?token=` and resolves once the server answered 101. */
  public static open(
    at: Endpoint,
    token: string,
    timeoutMs = ANSWER_BOUND_MS,
  ): Promise<RawWebSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect(at.port, at.host);
      let buf = Buffer.alloc(0);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no handshake answer in ${timeoutMs} ms`));
      }, timeoutMs);
      socket.on('error', () => undefined);
      const onData = (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        clearTimeout(timer);
        socket.off('data', onData);
        const status = httpStatus(buf);
        if (status !== 101) {
          socket.destroy();
          reject(new Error(`upgrade answered ${status}: ${buf.toString('latin1', 0, 200)}`));
          return;
        }
        resolve(new RawWebSocket(socket, buf.subarray(end + 4)));
      };
      socket.on('data', onData);
      socket.once('connect', () =>
        socket.write(upgradeRequest(at, `/?token=${encodeURIComponent(token)}`)),
      );
    });
  }

  public write(data: Buffer): void {
    if (!this.closed) this.socket.write(data);
  }

  /** Frames received so far. */
  public frames(): ServerFrame[] {
    return parseServerFrames(Buffer.concat(this.chunks));
  }

  /**
   * Waits for the server's close frame (then closes our side, as a client does) or for the
   * socket to close; resolves with the close code, `undefined` for a close without a frame.
   */
  public async serverClose(timeoutMs = ANSWER_BOUND_MS): Promise<number | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const close = this.frames().find((f) => f.opcode === 8);
      if (close) {
        this.socket.end();
        return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
      }
      if (this.closed) return undefined;
      if (Date.now() > end) {
        throw new Error(`the server did not close the connection in ${timeoutMs} ms`);
      }
      await Promise.race([this.closedPromise, pause(10)]);
    }
  }

  /** Closes the socket (RST when `reset`). */
  public async destroy(reset = false): Promise<void> {
    if (reset) resetSocket(this.socket);
    else this.socket.destroy();
    await this.closedPromise;
  }
}
