/** How a bot task's result reached the chat. */
export type BotDelivery = 'stream' | 'response_url' | 'webhook' | 'none';

/**
 * What the bot keeps per task it started (beside the task record, keyed by its task id): where
 * to answer, the stream's window, whether the stream handed the result over and how it went.
 */
export interface BotRecord {
  readonly taskId: string;
  readonly aiBotId: string;
  readonly userId: string;
  readonly chatId?: string;
  readonly chatType: 'single' | 'group';
  readonly responseUrl?: string;
  readonly createdAt: string;
  /** When WeCom stops refreshing (createdAt + the window). */
  readonly windowEndsAt: string;
  /** Set when a refresh finished the stream before the task ended ("the result will follow"). */
  readonly handedOffAt?: string;
  readonly delivery?: BotDelivery;
  readonly deliveredAt?: string;
  readonly expiresAt: number;
}

/** The port the bot keeps its records through; every change is one conditional write. */
export interface BotStore {
  /** Writes the record unless one exists for the task; returns the stored one. */
  create(record: BotRecord): Promise<BotRecord>;
  get(taskId: string): Promise<BotRecord | undefined>;
  /** Marks the stream handed over, unless the result was already delivered: true if marked. */
  handOff(taskId: string, at: string): Promise<boolean>;
  /**
   * Claims the delivery of the result, once: `stream` only while not handed off; the others
   * whenever nothing was claimed yet. True for exactly one claim.
   */
  claimDelivery(taskId: string, via: BotDelivery, at: string): Promise<boolean>;
}

/** An in-memory BotStore (tests, benches). */
export class MemoryBotStore implements BotStore {
  public readonly records = new Map<string, BotRecord>();

  public create(record: BotRecord): Promise<BotRecord> {
    const existing = this.records.get(record.taskId);
    if (existing) return Promise.resolve(existing);
    this.records.set(record.taskId, record);
    return Promise.resolve(record);
  }

  public get(taskId: string): Promise<BotRecord | undefined> {
    return Promise.resolve(this.records.get(taskId));
  }

  public handOff(taskId: string, at: string): Promise<boolean> {
    const r = this.records.get(taskId);
    if (!r || r.delivery !== undefined) return Promise.resolve(false);
    if (r.handedOffAt === undefined) this.records.set(taskId, { ...r, handedOffAt: at });
    return Promise.resolve(true);
  }

  public claimDelivery(taskId: string, via: BotDelivery, at: string): Promise<boolean> {
    const r = this.records.get(taskId);
    if (!r || r.delivery !== undefined) return Promise.resolve(false);
    if (via === 'stream' && r.handedOffAt !== undefined) return Promise.resolve(false);
    this.records.set(taskId, { ...r, delivery: via, deliveredAt: at });
    return Promise.resolve(true);
  }
}
