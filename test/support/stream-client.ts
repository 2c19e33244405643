import { type Frame, TestClient } from './ws-client';

/** The last frame held of a stream, as a client following the protocol keeps it. */
export interface Held {
  epoch: string;
  seq: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A client that follows docs/protocol.md's stream rules over any number of connections: it
 * keeps, per stream, the frames it has (deduped by seq) and the highest seq up to which it
 * holds every frame, and resumes from there on each new connection.
 */
export class StreamClient {
  /** stream → seq → the frame. */
  public readonly byStream = new Map<string, Map<number, Frame>>();
  /** Every pushed frame id ever received, with how often (duplicates are the test's concern). */
  public readonly ids = new Map<string, number>();
  /** What the client holds of each stream (its epoch and contiguous seq). */
  public readonly held = new Map<string, Held>();
  public socket: TestClient | undefined;

  /** Takes in every frame the connection gets. */
  public attach(client: TestClient): void {
    this.socket = client;
    client.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      this.take(frame);
    });
    for (const f of client.frames) this.take(f);
  }

  private take(frame: Frame): void {
    if (frame.type === 'registered' || frame.type === 'joined' || frame.type === 'resumed') {
      const streams = frame.streams;
      if (!isRecord(streams)) return;
      for (const [stream, value] of Object.entries(streams)) {
        if (!isRecord(value)) continue;
        const epoch = String(value.epoch);
        const seq = Number(value.seq);
        const held = this.held.get(stream);
        // A tip adopted only for a stream we hold nothing of (or a new epoch we were told of).
        if (!held || (frame.type === 'resumed' && value.recovered === false)) {
          this.held.set(stream, { epoch, seq });
        } else if (held.epoch !== epoch && held.seq === 0) {
          this.held.set(stream, { epoch, seq: held.seq });
        }
      }
      return;
    }
    if (typeof frame.stream !== 'string' || typeof frame.seq !== 'number') return;
    const stream = frame.stream;
    let frames = this.byStream.get(stream);
    if (!frames) {
      frames = new Map();
      this.byStream.set(stream, frames);
    }
    if (!frames.has(frame.seq)) {
      frames.set(frame.seq, frame);
      const id = String(frame.id);
      // Counted per (stream, id): the same frame id in two streams is two copies by design.
      this.ids.set(`${stream}|${id}`, (this.ids.get(`${stream}|${id}`) ?? 0) + 1);
    }
    const held = this.held.get(stream);
    if (held) {
      while (frames.has(held.seq + 1)) held.seq += 1;
    }
  }

  /** The resume map to send on a new connection. */
  public resumeMap(): Record<string, Held> {
    return Object.fromEntries([...this.held].map(([s, h]) => [s, { epoch: h.epoch, seq: h.seq }]));
  }

  /** Seqs held of a stream, ascending. */
  public seqs(stream: string): number[] {
    return [...(this.byStream.get(stream)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** The `data.n` of the messages held of a stream, in seq order. */
  public numbers(stream: string): number[] {
    return this.seqs(stream).map((seq) => {
      const data = this.byStream.get(stream)?.get(seq)?.data;
      return isRecord(data) ? Number(data.n) : NaN;
    });
  }
}
