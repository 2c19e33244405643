/** Reconnect backoff: exponential with full jitter. */
export interface BackoffOptions {
  /** The first step's cap, ms (default 500). */
  readonly baseMs?: number;
  /** The largest delay, ms (default 30,000). */
  readonly capMs?: number;
  /** Consecutive failed attempts after which the client gives up and closes (default Infinity). */
  readonly maxAttempts?: number;
}

/** The defaults of {@link BackoffOptions}. */
export const DEFAULT_BACKOFF = { baseMs: 500, capMs: 30_000, maxAttempts: Infinity } as const;

/**
 * The delay before retry number `attempt` (0 for the first): full jitter,
 * `random() * min(capMs, baseMs * 2^attempt)`.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const base = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const cap = options.capMs ?? DEFAULT_BACKOFF.capMs;
  // 2^attempt overflows to Infinity for large attempts; min() keeps the cap.
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 1024));
  return Math.floor(random() * ceiling);
}
