/** A frame waiting for an open connection. */
export interface OutboxEntry<T> {
  readonly text: string;
  /** What the caller attached (the pending request the frame belongs to, if any). */
  readonly tag?: T;
}

/**
 * Frames sent while no connection is open, in order, at most `limit`: past it the oldest is
 * dropped and handed to `onDrop`.
 */
export class Outbox<T> {
  private entries: OutboxEntry<T>[] = [];
  /** How many frames were dropped so far. */
  public dropped = 0;

  public constructor(
    public readonly limit: number,
    private readonly onDrop: (entry: OutboxEntry<T>) => void,
  ) {}

  /** Frames waiting now. */
  public get size(): number {
    return this.entries.length;
  }

  /** Queues a frame at the end (or, `front`, before the others: a re-sent request). */
  public push(entry: OutboxEntry<T>, front = false): void {
    if (front) this.entries.unshift(entry);
    else this.entries.push(entry);
    while (this.entries.length > Math.max(0, this.limit)) {
      const oldest = this.entries.shift();
      if (!oldest) break;
      this.dropped += 1;
      this.onDrop(oldest);
    }
  }

  /** Takes every waiting frame, oldest first. */
  public drain(): OutboxEntry<T>[] {
    const out = this.entries;
    this.entries = [];
    return out;
  }

  /** Removes the frames whose tag matches. */
  public remove(match: (tag: T | undefined) => boolean): void {
    this.entries = this.entries.filter((e) => !match(e.tag));
  }
}
