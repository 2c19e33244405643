import type { BaseFrame, StreamPosition } from '../frames.js';

/** What the client holds of one stream. */
export interface StreamInfo {
  /** The stream's epoch as the server last named it ('' until one is known). */
  readonly epoch: string;
  /** Every frame up to this seq was delivered (or is a hole the server vouched for). */
  readonly seq: number;
  /** False when the last resume said frames may have been lost (re-read state). */
  readonly recovered: boolean;
}

/** Windows a gap waits for the answer to its repair before it is taken for a hole. */
const REPAIR_WINDOWS = 10;

/** How the tracker gets a gap filled. */
export interface GapRepair {
  /** False while no connection is open: the next connection's resume will fill the gap. */
  online(): boolean;
  /** Asks the server to replay the gap (a resume on the open connection); true when sent. */
  repair(stream: string): boolean;
}

type Pushed = BaseFrame & { readonly stream: string; readonly seq: number };
type Timer = ReturnType<typeof setTimeout>;

interface Entry {
  epoch: string;
  seq: number;
  recovered: boolean;
  /** Frames ahead of a gap, by seq. */
  readonly ahead: Map<number, Pushed>;
  timer: Timer | undefined;
  /** A resume was asked for to fill the gap (once per gap), and windows waited since. */
  repairing: boolean;
  waits: number;
  /**
   * The server said (`resumed`) that it sent every stored frame up to here: a seq still missing
   * at or below it is a hole, or a frame still being stored that comes live in a moment.
   */
  vouched: number;
}

/**
 * Orders and dedupes the pushed frames of every stream by (`stream`, `seq`): a frame is
 * delivered once, in seq order; a frame ahead of a gap waits up to `reorderWindowMs` for the
 * gap to fill. When it has not, `gaps.repair` asks the server for the gap (a resume on the open
 * connection: a frame can miss a connection live, see docs/protocol.md "Not guaranteed"), and
 * the `resumed` that answers tells which seqs are holes; a gap still open ten windows after
 * that is taken for a hole and the frames after it are delivered anyway. While a resume is in
 * flight (`hold`) or no connection is open (`gaps.online`), no window expires: the next
 * resume fills the gap.
 */
export class StreamTracker {
  private readonly entries = new Map<string, Entry>();
  private holds = 0;

  public constructor(
    private readonly reorderWindowMs: number,
    private readonly deliver: (frame: Pushed) => void,
    private readonly gaps: GapRepair = { online: () => true, repair: () => false },
  ) {}

  /** A frame appended to a stream: delivered now, later (after a gap) or never (a duplicate). */
  public accept(frame: Pushed): void {
    const entry = this.entry(frame.stream, { epoch: '', seq: frame.seq - 1 });
    if (frame.seq <= entry.seq || entry.ahead.has(frame.seq)) return;
    if (frame.seq === entry.seq + 1) {
      entry.seq = frame.seq;
      this.deliver(frame);
      this.drain(entry);
      return;
    }
    entry.ahead.set(frame.seq, frame);
    this.arm(entry);
  }

  /** The tips of `registered`/`joined`: adopted for streams held nothing of. */
  public tips(streams: readonly [string, StreamPosition][]): void {
    for (const [stream, tip] of streams) {
      const entry = this.entries.get(stream);
      if (!entry) {
        this.entry(stream, tip);
      } else if (entry.epoch === '' || (entry.epoch !== tip.epoch && entry.seq === 0)) {
        entry.epoch = tip.epoch;
      }
    }
  }

  /**
   * The outcome of a resume. Everything stored up to the outcome's seq was sent (the replay
   * came before `resumed`). `recovered: false`: frames were lost; the frames waiting are
   * delivered and the stream moves to the outcome's position. Else a seq still missing below
   * it is a hole, or a frame that was being stored while the replay was read and comes live in
   * a moment: the frames after it wait one window for it, then go (no repair needed).
   */
  public resumed(streams: readonly [string, StreamPosition & { recovered?: boolean }][]): void {
    for (const [stream, outcome] of streams) {
      const entry = this.entry(stream, outcome);
      entry.repairing = false;
      entry.epoch = outcome.epoch;
      entry.recovered = outcome.recovered !== false;
      if (outcome.recovered === false) {
        const below = [...entry.ahead.keys()].filter((s) => s <= outcome.seq).sort((a, b) => a - b);
        for (const seq of below) {
          const frame = entry.ahead.get(seq);
          entry.ahead.delete(seq);
          if (frame && seq > entry.seq) this.deliver(frame);
        }
        entry.seq = outcome.seq;
        entry.vouched = outcome.seq;
      } else {
        entry.vouched = Math.max(entry.vouched, outcome.seq);
      }
      this.drain(entry);
      if (entry.ahead.size > 0) this.arm(entry, stream);
    }
  }

  /** The `resume` map for `register`: the last contiguous position of every stream held. */
  public resumeMap(only?: (stream: string) => boolean): Record<string, StreamPosition> {
    const out: Record<string, StreamPosition> = {};
    for (const [stream, entry] of this.entries) {
      if (entry.epoch === '' || (only && !only(stream))) continue;
      out[stream] = { epoch: entry.epoch, seq: entry.seq };
    }
    return out;
  }

  /** The position held of one stream. */
  public position(stream: string): StreamPosition | undefined {
    const entry = this.entries.get(stream);
    return entry && entry.epoch !== '' ? { epoch: entry.epoch, seq: entry.seq } : undefined;
  }

  /** Every stream held, with its position and recovered flag. */
  public snapshot(): Record<string, StreamInfo> {
    const out: Record<string, StreamInfo> = {};
    for (const [stream, e] of this.entries) {
      out[stream] = { epoch: e.epoch, seq: e.seq, recovered: e.recovered };
    }
    return out;
  }

  /** Stops following a stream (a group left). */
  public forget(stream: string): void {
    const entry = this.entries.get(stream);
    if (entry?.timer !== undefined) clearTimeout(entry.timer);
    this.entries.delete(stream);
  }

  /** Forgets every stream (a refused resume). */
  public reset(): void {
    for (const stream of [...this.entries.keys()]) this.forget(stream);
  }

  /** A resume is in flight: gaps wait for it. Returns the release. */
  public hold(): () => void {
    this.holds += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds -= 1;
    };
  }

  /** Cancels every timer. */
  public stop(): void {
    for (const entry of this.entries.values()) {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.timer = undefined;
    }
  }

  private entry(stream: string, start: StreamPosition): Entry {
    let entry = this.entries.get(stream);
    if (!entry) {
      entry = {
        epoch: start.epoch,
        seq: Math.max(0, start.seq),
        recovered: true,
        ahead: new Map(),
        timer: undefined,
        repairing: false,
        waits: 0,
        vouched: 0,
      };
      this.entries.set(stream, entry);
    }
    return entry;
  }

  private drain(entry: Entry): void {
    for (let next = entry.ahead.get(entry.seq + 1); next; next = entry.ahead.get(entry.seq + 1)) {
      entry.ahead.delete(next.seq);
      entry.seq = next.seq;
      this.deliver(next);
    }
    if (entry.ahead.size === 0 && entry.timer !== undefined) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
    }
  }

  private arm(entry: Entry, stream = this.nameOf(entry)): void {
    if (entry.timer !== undefined) return;
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (entry.ahead.size === 0 || this.entries.get(stream) !== entry) return;
      // Vouched for by the server: a hole (or a frame that would have come by now). Jump it.
      if (entry.seq + 1 <= entry.vouched) {
        entry.seq = Math.min(entry.vouched, Math.min(...entry.ahead.keys()) - 1);
        this.drain(entry);
        if (entry.ahead.size > 0) this.arm(entry, stream);
        return;
      }
      // A resume in flight, or none possible now (offline): the replay will come; wait.
      if (this.holds > 0 || !this.gaps.online()) {
        this.arm(entry, stream);
        return;
      }
      if (!entry.repairing && this.gaps.repair(stream)) {
        entry.repairing = true;
        entry.waits = 0;
        this.arm(entry, stream);
        return;
      }
      if (entry.repairing && ++entry.waits < REPAIR_WINDOWS) {
        this.arm(entry, stream);
        return;
      }
      // The window is over (and the repair, if any, did not fill it): the gap is a hole.
      entry.repairing = false;
      entry.seq = Math.min(...entry.ahead.keys()) - 1;
      this.drain(entry);
      if (entry.ahead.size > 0) this.arm(entry, stream);
    }, this.reorderWindowMs);
  }

  private nameOf(entry: Entry): string {
    for (const [stream, e] of this.entries) if (e === entry) return stream;
    return '';
  }
}
