import type { RateDecision, RateLimiter } from '../../src/wecom/rate-limiter';

/** A limiter in process memory, for tests (the product uses the DynamoDB one everywhere). */
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
