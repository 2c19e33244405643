/**
 * What one attempt to post to a connection came to. `throttled` (429), `unavailable` (a 5xx or
 * no answer at all: worth another try) and `failed` carry the error the gateway gave, so the
 * push engine can log it by name.
 */
export type PostAttempt =
  | { readonly result: 'delivered' }
  | { readonly result: 'gone' }
  | { readonly result: 'throttled' | 'unavailable' | 'failed'; readonly error: unknown };

/**
 * The port to a WebSocket gateway's connections (API Gateway's `@connections` in the cloud and
 * locally): one post at a time, each answered with what happened. Retries, clean-up of gone
 * connections and fan-out live in the push engine (src/push/pusher.ts), not in an adapter.
 */
export interface ConnectionPoster {
  /** Posts bytes to one connection, once. Never throws: the attempt says what happened. */
  post(connectionId: string, data: Uint8Array): Promise<PostAttempt>;
  /** True when the gateway no longer knows the connection (API Gateway: 410 Gone). */
  isGone(connectionId: string): Promise<boolean>;
}
