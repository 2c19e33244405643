/** The answer of a rate limiter. */
export type RateDecision =
  { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

/** A fixed-window rate limiter shared by every worker (so it holds across Lambda containers). */
export interface RateLimiter {
  /** Takes one of `limit` permits of the current window of `key`. */
  tryAcquire(key: string, limit: number, windowSeconds: number): Promise<RateDecision>;
}

/** A limiter in process memory (tests; the local runtime uses the DynamoDB one). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, number>();

  public constructor(private readonly now: () => Date = () => new Date()) {}

  public async tryAcquire(
    key: string,
    limit: number,
    windowSeconds: number,
  ): Promise<RateDecision> {
    const nowS = Math.floor(this.now().getTime() / 1000);
    const window = Math.floor(nowS / windowSeconds);
    const k = `${key}#${window}`;
    const used = this.windows.get(k) ?? 0;
    if (used >= limit) return { ok: false, retryAfterSeconds: (window + 1) * windowSeconds - nowS };
    this.windows.set(k, used + 1);
    return { ok: true };
  }
}
