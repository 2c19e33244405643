import type { Audience } from '../connections/audience';
import type { ServerFrame } from './frames';

/** What happened to one push. */
export interface PushReport {
  /** Connections a post was attempted to. */
  readonly attempted: number;
  /** Connections that accepted the frame. */
  readonly delivered: number;
  /** Connections API Gateway answered 410 Gone for; their records were deleted. */
  readonly gone: number;
  /** Connections that could not be reached for another reason (after retries). */
  readonly failed: number;
  /** Posts repeated after a 429 (LimitExceeded). */
  readonly retried: number;
  /**
   * With {@link PushOptions.deferThrottled}: connections still answered 429 after every retry,
   * neither delivered nor failed; the caller sends them again later (the fan-out queue does).
   */
  readonly deferred?: readonly string[];
}

/** Options of one push. */
export interface PushOptions {
  /**
   * Hand back connections whose posts exhausted their retries on 429 (in `deferred`) instead of
   * counting them failed: for a caller that can send them again later.
   */
  readonly deferThrottled?: boolean;
}

/** Outcome of posting to one connection. */
export type PostOutcome = 'delivered' | 'gone' | 'failed';

/**
 * Sends frames to connections: the port that delivering, task updates and the handlers depend
 * on. {@link Pusher} (src/push/pusher.ts) is the implementation; tests may pass their own.
 */
export interface FramePusher {
  /** Sends the frame to every live connection of the audience. */
  push(audience: Audience, frame: ServerFrame): Promise<PushReport>;
  /** Sends the frame to the given pages of connection ids. */
  pushTo(
    recipients: AsyncIterable<readonly string[]>,
    frame: ServerFrame,
    label?: string,
    options?: PushOptions,
  ): Promise<PushReport>;
  /** Posts bytes to one connection (with retries). Never throws: the outcome says what happened. */
  post(connectionId: string, data: Uint8Array): Promise<{ outcome: PostOutcome; retries: number }>;
  /** True when the gateway no longer knows the connection. */
  isGone(connectionId: string): Promise<boolean>;
}
