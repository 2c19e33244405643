/** Options of {@link AdaptiveRate}; every field has a default. */
export interface AdaptiveRateOptions {
  /** Lowest rate a cut goes to, posts/s (default 20). */
  readonly minRate?: number;
  /** A cut multiplies the accepted rate by this, ± `jitter` (default 0.85). */
  readonly decrease?: number;
  /** Spread of the cut factor and of the gaps between paced posts (default 0.05, i.e. ±5 %). */
  readonly jitter?: number;
  /** Additive increase per second, as a fraction of the rate set by the last cut (default 0.1). */
  readonly increase?: number;
  /** Window over which the accepted rate is measured, ms (default 250). */
  readonly windowMs?: number;
  /** 429s within this long after a cut are answers to posts sent before it, ms (default 10). */
  readonly cooldownMs?: number;
  /**
   * How far behind its schedule the pacer may catch up at once, ms (default 50): a late timer or
   * a busy event loop must not lose posts, yet a quiet spell never becomes a burst larger than
   * this much of the rate (well under API Gateway's burst, which is a tenth of a second's).
   */
  readonly catchUpMs?: number;
  /** After this long without a 429 the rate is unlimited again, ms (default 60,000). */
  readonly resetMs?: number;
  /** Monotonic milliseconds (injected for tests). */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const SLOTS = 10;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The push engine's answer to the account's `@connections` quota: additive increase,
 * multiplicative decrease of the rate at which posts are sent, shared by every push of one
 * {@link Pusher} (so concurrent fan-out batches in one function converge together instead of
 * storming). Unlimited until the first 429; a 429 cuts the rate to a jittered 85 % of the rate the
 * gateway actually accepted over the last quarter second (not of the rate sent, so one cut lands
 * near the quota however hard the first burst overshot); then it grows by 10 % of that a second
 * until the next 429. It paces the rate rather than the posts in flight because at local latencies
 * (under a millisecond) even one post in flight exceeds a quota of 1,000 a second; the number in
 * flight (the pusher's concurrency) stays the upper bound.
 */
export class AdaptiveRate {
  private readonly minRate: number;
  private readonly decrease: number;
  private readonly jitter: number;
  private readonly increase: number;
  private readonly windowMs: number;
  private readonly cooldownMs: number;
  private readonly resetMs: number;
  private readonly catchUpMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** Posts a second; Infinity = not limited. */
  private current = Infinity;
  private base = 0;
  private lastCutAt = -Infinity;
  private grownAt = 0;
  private nextAt = 0;
  /** Accepted posts per slot of windowMs / SLOTS: counts and the time each slot began. */
  private readonly counts = new Array<number>(SLOTS).fill(0);
  private readonly starts = new Array<number>(SLOTS).fill(-Infinity);
  private throttles = 0;
  /** Counts cuts, so posts that waited through one book their turn again. */
  private generation = 0;

  public constructor(options: AdaptiveRateOptions = {}) {
    this.minRate = options.minRate ?? 20;
    this.decrease = options.decrease ?? 0.85;
    this.jitter = options.jitter ?? 0.05;
    this.increase = options.increase ?? 0.1;
    this.windowMs = options.windowMs ?? 250;
    this.cooldownMs = options.cooldownMs ?? 10;
    this.resetMs = options.resetMs ?? 60_000;
    this.catchUpMs = options.catchUpMs ?? 50;
    this.now = options.now ?? (() => performance.now());
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
  }

  /** The rate posts are paced at now, posts/s (Infinity when unlimited). */
  public get rate(): number {
    return this.current;
  }

  /** 429s seen so far (all of them, cuts or not). */
  public get throttled(): number {
    return this.throttles;
  }

  /** Waits for this post's turn at the current rate (at once while unlimited). */
  public async acquire(): Promise<void> {
    for (;;) {
      const now = this.now();
      this.grow(now);
      if (this.current === Infinity) return;
      const gap = (1000 / this.current) * (1 + this.jitter * (2 * this.random() - 1));
      // Some catch-up after a lag, never more than catchUpMs of the rate in one burst.
      const at = Math.max(now - this.catchUpMs, this.nextAt);
      this.nextAt = at + gap;
      if (at - now < 1) return;
      const generation = this.generation;
      await this.sleep(at - now);
      // A cut while this post waited: its turn was booked at the old rate; book again, or the
      // posts queued before the cut would keep storming the quota after it.
      if (generation === this.generation) return;
    }
  }

  /** The gateway answered (anything but 429): it counts toward the accepted rate. */
  public accepted(): void {
    const now = this.now();
    const slotMs = this.windowMs / SLOTS;
    const i = Math.floor(now / slotMs) % SLOTS;
    const start = this.starts[i] ?? -Infinity;
    if (now - start >= slotMs) {
      this.starts[i] = now;
      this.counts[i] = 0;
    }
    this.counts[i] = (this.counts[i] ?? 0) + 1;
  }

  /** The gateway answered 429: cut the rate (once per cooldown). */
  public throttle(): void {
    this.throttles++;
    const now = this.now();
    if (now - this.lastCutAt < this.cooldownMs) return;
    const factor = this.decrease * (1 + this.jitter * (2 * this.random() - 1));
    const measured = this.acceptedRate(now);
    // Nothing accepted lately (another sender holds the quota): cut what is sent, or start low.
    // From the accepted rate, not the current one: the 429s of one storm (answers to posts sent
    // before the cut) then settle on 85 % of the quota instead of compounding toward the floor.
    const from =
      measured > 0 ? measured : this.current === Infinity ? this.minRate * 10 : this.current;
    this.current = Math.max(this.minRate, Math.min(this.current, from * factor));
    this.base = this.current;
    this.generation++;
    this.nextAt = now;
    this.lastCutAt = now;
    this.grownAt = now;
  }

  private acceptedRate(now: number): number {
    let count = 0;
    let oldest = now;
    for (let i = 0; i < SLOTS; i++) {
      const start = this.starts[i] ?? -Infinity;
      if (now - start >= this.windowMs) continue;
      count += this.counts[i] ?? 0;
      oldest = Math.min(oldest, start);
    }
    // At least a slot's span, so a handful of posts in a microsecond is not a huge rate.
    const span = Math.max(now - oldest, this.windowMs / SLOTS);
    return (count / span) * 1000;
  }

  private grow(now: number): void {
    if (this.current === Infinity) return;
    if (now - this.lastCutAt >= this.resetMs) {
      this.current = Infinity;
      return;
    }
    // Additive: a fixed step per second (a tenth of the rate the last cut set, at least 2 × the
    // floor), so a low cut does not take minutes to climb back.
    const step = Math.max(this.base * this.increase, this.minRate * 2);
    this.current += (step * (now - this.grownAt)) / 1000;
    this.grownAt = now;
  }
}
