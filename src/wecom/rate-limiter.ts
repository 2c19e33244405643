/** The answer of a rate limiter. */
export type RateDecision =
  { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

/** A fixed-window rate limiter shared by every worker (so it holds across Lambda containers). */
export interface RateLimiter {
  /** Takes one of `limit` permits of the current window of `key`. */
  tryAcquire(key: string, limit: number, windowSeconds: number): Promise<RateDecision>;
}
