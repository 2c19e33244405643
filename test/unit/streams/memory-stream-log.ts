import type { Clock } from '../../../src/ports/clock';
import type { ServerFrame } from '../../../src/push/frames';
import { newEpoch, type StreamName } from '../../../src/streams/names';
import type {
  SequencedFrame,
  StoredFrame,
  StreamLog,
  StreamPosition,
} from '../../../src/streams/stream-log';

/** Settings of {@link MemoryStreamLog} (those of DynamoStreamLog, without the table). */
export interface MemoryStreamLogOptions {
  readonly clock: Clock;
  /** How long a frame is kept after its append, and a head after the stream's last append. */
  readonly historySeconds: number;
  /** Most frames a read reaches back from the tip. */
  readonly historySize: number;
  /** Injected for tests (default: names.ts `newEpoch`). */
  readonly newEpoch?: (stream: StreamName) => string;
}

/** A stream's head: what DynamoStreamLog keeps in the `head` item. */
interface Head {
  epoch: string;
  tip: number;
  expiresAt: number;
}

/** A frame item: its epoch, text and expiry. */
interface Item {
  readonly epoch: string;
  readonly text: string;
  readonly expiresAt: number;
}

/** A stream: its head and its frame items by seq. */
interface Stream {
  head: Head;
  readonly items: Map<number, Item>;
}

/**
 * An in-memory StreamLog with the semantics of DynamoStreamLog: a counter per stream from 1, an
 * epoch made by `newEpoch` whenever the stream starts without a live head (`tips` starts it at
 * seq 0, an append at seq 1; a head expires `historySeconds` after the stream's last write),
 * frames kept `historySeconds` after their append and read at most `historySize` back from the
 * tip, of the tip's epoch only. `reset` drops a stream's history, as losing the table would.
 */
export class MemoryStreamLog implements StreamLog {
  public readonly historySize: number;
  /** Every sequenced frame `append` returned, in order. */
  public readonly appended: SequencedFrame[] = [];
  /** How many `read` calls reached the store (a gap to read). */
  public reads = 0;
  private readonly clock: Clock;
  private readonly historySeconds: number;
  private readonly epochFor: (stream: StreamName) => string;
  private readonly streams = new Map<StreamName, Stream>();

  public constructor(options: MemoryStreamLogOptions) {
    this.clock = options.clock;
    this.historySeconds = options.historySeconds;
    this.historySize = options.historySize;
    this.epochFor = options.newEpoch ?? ((s) => newEpoch(s));
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  /** The stream's head when it is still live at `now` (an expired head is a history gone). */
  private liveHead(stream: StreamName, now: number): Head | undefined {
    const head = this.streams.get(stream)?.head;
    return head && head.expiresAt > now ? head : undefined;
  }

  /** Starts the stream at `tip` with a new epoch (frames of the old one stay, told apart by it). */
  private start(stream: StreamName, tip: number, expiresAt: number): Stream {
    const s: Stream = {
      head: { epoch: this.epochFor(stream), tip, expiresAt },
      items: this.streams.get(stream)?.items ?? new Map<number, Item>(),
    };
    this.streams.set(stream, s);
    return s;
  }

  public async append(stream: StreamName, frame: ServerFrame): Promise<SequencedFrame> {
    const now = this.nowSeconds();
    const expiresAt = now + this.historySeconds;
    let s = this.streams.get(stream);
    if (!s || s.head.expiresAt <= now) {
      s = this.start(stream, 1, expiresAt);
    } else {
      s.head.tip += 1;
      s.head.expiresAt = expiresAt;
    }
    const sequenced: SequencedFrame = { ...frame, stream, seq: s.head.tip };
    s.items.set(s.head.tip, { epoch: s.head.epoch, text: JSON.stringify(sequenced), expiresAt });
    // Frames further back than historySize are never read again: drop them.
    s.items.delete(s.head.tip - this.historySize);
    this.appended.push(sequenced);
    return sequenced;
  }

  public async tips(
    streams: readonly StreamName[],
  ): Promise<ReadonlyMap<StreamName, StreamPosition>> {
    const now = this.nowSeconds();
    const tips = new Map<StreamName, StreamPosition>();
    for (const stream of streams) {
      // A stream without a live head is started at seq 0: its first frames keep that epoch.
      const head =
        this.liveHead(stream, now) ?? this.start(stream, 0, now + this.historySeconds).head;
      tips.set(stream, { epoch: head.epoch, seq: head.tip });
    }
    return tips;
  }

  public async read(
    stream: StreamName,
    tip: StreamPosition,
    afterSeq: number,
  ): Promise<readonly StoredFrame[]> {
    const now = this.nowSeconds();
    if (tip.seq <= afterSeq) return [];
    this.reads += 1;
    const items = this.streams.get(stream)?.items;
    const from = Math.max(afterSeq + 1, tip.seq - this.historySize + 1);
    const frames: StoredFrame[] = [];
    for (let seq = from; seq <= tip.seq; seq++) {
      const item = items?.get(seq);
      if (item && item.expiresAt > now && item.epoch === tip.epoch) {
        frames.push({ seq, text: item.text });
      }
    }
    return frames;
  }

  /** Drops the stream's history: its next append starts a new epoch at seq 1. */
  public reset(stream: StreamName): void {
    this.streams.delete(stream);
  }
}
