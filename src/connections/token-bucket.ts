/**
 * A token bucket: `take()` resolves when a request may go, at most `perSecond` on average with
 * bursts of `burst`. The sweep spends the account's shared `@connections` quota through it, so
 * a sweep of any size never takes more than its share from pushes.
 */
export interface TokenBucket {
  take(): Promise<void>;
}

/** Options of {@link createTokenBucket}. */
export interface TokenBucketOptions {
  readonly perSecond: number;
  /** Tokens available at once (default a tenth of a second's worth, at least 1). */
  readonly burst?: number;
  /** Milliseconds now (default Date.now). */
  readonly now?: () => number;
}

/** A bucket that starts full. A rate of 0 or less (or not finite) means no limit. */
export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const { perSecond } = options;
  if (!Number.isFinite(perSecond) || perSecond <= 0) return { take: () => Promise.resolve() };
  const now = options.now ?? Date.now;
  const burst = Math.max(1, options.burst ?? perSecond / 10);
  let tokens = burst;
  let at = now();
  const refill = () => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - at) * perSecond) / 1000);
    at = t;
  };
  return {
    async take() {
      for (;;) {
        refill();
        if (tokens >= 1) {
          tokens -= 1;
          return;
        }
        const waitMs = Math.ceil(((1 - tokens) * 1000) / perSecond);
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    },
  };
}
