import WebSocket from 'ws';

/**
 * How long a wait for a frame or a condition lasts by default before it fails: a bound, not a
 * speed. Generous, for a loaded 2-core CI machine; a wait ends as soon as its condition holds.
 */
export const WAIT_BOUND_MS = 15_000;

/** A frame as a test client sees it. */
export type Frame = Record<string, unknown> & { type?: string };

/** A `ws` client that records every frame and lets a test wait for the one it expects. */
export class TestClient {
  public readonly frames: Frame[] = [];
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];

  private constructor(public readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(frame)) return true;
        w.resolve(frame);
        return false;
      });
    });
  }

  /** Connects; rejects with the HTTP status when the upgrade is refused. */
  public static connect(url: string, token?: string): Promise<TestClient> {
    const target = token === undefined ? url : `${url}/?token=${encodeURIComponent(token)}`;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(target);
      socket.once('open', () => resolve(new TestClient(socket)));
      socket.once('unexpected-response', (_req, res) =>
        reject(
          Object.assign(new Error(`upgrade refused: ${res.statusCode}`), {
            status: res.statusCode,
          }),
        ),
      );
      socket.once('error', reject);
    });
  }

  public send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits for a frame (already received or still to come) that matches. */
  public waitFor(match: (f: Frame) => boolean, timeoutMs = WAIT_BOUND_MS): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`),
          ),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  /** Sends a frame with a fresh requestId and waits for the reply that carries it. */
  public async request(frame: Record<string, unknown>, timeoutMs = WAIT_BOUND_MS): Promise<Frame> {
    const requestId = `r${Math.random().toString(36).slice(2)}`;
    this.send({ ...frame, requestId });
    return this.waitFor((f) => f.requestId === requestId, timeoutMs);
  }

  /** Frames of a type received so far. */
  public ofType(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  public close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

/** Polls until the check passes or the time runs out. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = WAIT_BOUND_MS,
) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
