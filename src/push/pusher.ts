import type { Audience } from '../connections/audience';
import { describeAudience } from '../connections/audience';
import { CONNECT_GRACE_SECONDS } from '../connections/schema';
import type { ConnectionStore } from '../connections/store';
import type { Log } from '../ports/log';
import { AdaptiveRate } from './adaptive-rate';
import { forEachBounded } from './concurrency';
import type { ConnectionPoster } from './connection-poster';
import type { FramePusher, PostOutcome, PushOptions, PushReport } from './frame-pusher';
import type { ServerFrame } from './frames';

/** Options of {@link Pusher}. */
export interface PusherOptions {
  /** The gateway's connections (src/adapters/api-gateway/ in the cloud and locally). */
  readonly poster: ConnectionPoster;
  readonly store: ConnectionStore;
  readonly log: Log;
  /** Posts in flight at once per push (default 50). */
  readonly concurrency?: number;
  /** Extra attempts after a 429 or a 5xx (default 5). */
  readonly maxRetries?: number;
  /** First backoff step in ms; doubles each retry, full jitter (default 50). */
  readonly backoffMs?: number;
  /**
   * The send rate every push of this pusher shares, cut on 429 and grown again (additive
   * increase, multiplicative decrease): how concurrent batches converge near the account's
   * quota. Default a fresh {@link AdaptiveRate}.
   */
  readonly rate?: AdaptiveRate;
  /** Injected for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The push engine: sends frames to connections through a {@link ConnectionPoster}. One
 * unreachable connection never stops a fan-out: a gone connection's records are deleted, a
 * throttled or unavailable (5xx) post is retried with backoff and jitter, anything else is
 * counted as failed and logged. It makes every retry itself (the poster posts once).
 */
export class Pusher implements FramePusher {
  private readonly poster: ConnectionPoster;
  private readonly store: ConnectionStore;
  private readonly log: Log;
  private readonly concurrency: number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** Shared by every push of this pusher (see {@link PusherOptions.rate}). */
  public readonly rate: AdaptiveRate;

  public constructor(options: PusherOptions) {
    this.poster = options.poster;
    this.store = options.store;
    this.log = options.log;
    this.concurrency = options.concurrency ?? 50;
    this.maxRetries = options.maxRetries ?? 5;
    this.backoffMs = options.backoffMs ?? 50;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.rate = options.rate ?? new AdaptiveRate();
  }

  /** Sends the frame to every live connection of the audience. */
  public async push(audience: Audience, frame: ServerFrame): Promise<PushReport> {
    return this.pushTo(this.store.recipients(audience), frame, describeAudience(audience));
  }

  /** Sends the frame to the given pages of connection ids. */
  public async pushTo(
    recipients: AsyncIterable<readonly string[]>,
    frame: ServerFrame,
    label = 'connections',
    options: PushOptions = {},
  ): Promise<PushReport> {
    const data = Buffer.from(JSON.stringify(frame));
    const counts = { attempted: 0, delivered: 0, gone: 0, failed: 0, retried: 0 };
    const deferred: string[] = [];
    const defer = options.deferThrottled === true;
    await forEachBounded(recipients, this.concurrency, async (connectionId) => {
      counts.attempted++;
      const { outcome, retries } = await this.attempt(connectionId, data, !defer);
      if (outcome === 'throttled') deferred.push(connectionId);
      else counts[outcome]++;
      counts.retried += retries;
    });
    if (counts.gone > 0 || counts.failed > 0) {
      this.log.warn('push incomplete', { audience: label, frameType: frame.type, ...counts });
    }
    return defer ? { ...counts, deferred } : counts;
  }

  /**
   * Posts bytes to one connection. Never throws: the outcome says what happened.
   */
  public async post(
    connectionId: string,
    data: Uint8Array,
  ): Promise<{ outcome: PostOutcome; retries: number }> {
    const { outcome, retries } = await this.attempt(connectionId, data, true);
    // With failThrottled an exhausted 429 already comes back as failed; this only narrows.
    return { outcome: outcome === 'throttled' ? 'failed' : outcome, retries };
  }

  /**
   * One connection's post with its retries; `throttled` when 429s outlasted them and
   * `failThrottled` is false (the caller defers it), else such a post is logged and failed.
   */
  private async attempt(
    connectionId: string,
    data: Uint8Array,
    failThrottled: boolean,
  ): Promise<{ outcome: PostOutcome | 'throttled'; retries: number }> {
    for (let attempt = 0; ; attempt++) {
      await this.rate.acquire();
      const sent = await this.poster.post(connectionId, data);
      if (sent.result === 'throttled') this.rate.throttle();
      else if (sent.result !== 'unavailable') this.rate.accepted();
      if (sent.result === 'delivered') return { outcome: 'delivered', retries: attempt };
      if (sent.result === 'gone') {
        await this.forget(connectionId);
        return { outcome: 'gone', retries: attempt };
      }
      const retryable = sent.result === 'throttled' || sent.result === 'unavailable';
      if (retryable && attempt < this.maxRetries) {
        // Full jitter: spreads the retries of a large fan-out instead of bunching them.
        await this.sleep(this.random() * this.backoffMs * 2 ** attempt);
        continue;
      }
      if (sent.result === 'throttled' && !failThrottled) {
        return { outcome: 'throttled', retries: attempt };
      }
      const e = sent.error;
      this.log.error('post to connection failed', {
        connectionId,
        error: e instanceof Error ? e.name : String(e),
        message: e instanceof Error ? e.message : undefined,
        attempts: attempt + 1,
      });
      return { outcome: 'failed', retries: attempt };
    }
  }

  /** True when the gateway no longer knows the connection. */
  public isGone(connectionId: string): Promise<boolean> {
    return this.poster.isGone(connectionId);
  }

  private async forget(connectionId: string): Promise<void> {
    try {
      // Not a connection still in its $connect: API Gateway answers 410 for it too.
      await this.store.remove(connectionId, {
        unlessConnectedWithinSeconds: CONNECT_GRACE_SECONDS,
      });
    } catch (e) {
      // The record still expires by TTL; a failed clean-up must not fail the fan-out.
      this.log.error('could not delete gone connection', {
        connectionId,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }
}
