import type { BackoffOptions } from './connection/backoff.js';
import type { WebSocketConstructor } from './connection/socket.js';

/** A socket worker's registration: the task types it takes, and how many of each at once. */
export interface WorkerRegistration {
  readonly taskTypes: readonly string[];
  /** 1..32 (default 1 on the server). */
  readonly concurrency?: number;
}

/** Options of {@link TaskwireClient}. */
export interface TaskwireClientOptions {
  /** The WebSocket URL (`ws://127.0.0.1:3001` locally, the stack's `WebSocketUrl` in the cloud). */
  readonly url: string;
  /** Returns the JWT for `?token=`; called on every connect and reconnect (refresh it here). */
  readonly token: () => string | Promise<string>;
  /** The WebSocket constructor (default `globalThis.WebSocket`; in Node pass `ws`). */
  readonly WebSocket?: WebSocketConstructor;
  /** The `clientType` registered on each connection (default `viewer`). */
  readonly clientType?: string;
  /** Groups registered on each connection (groups joined later are added and kept). */
  readonly groups?: readonly string[];
  /**
   * Registers each connection as a socket worker of these task types (needs the `worker` or
   * `admin` role): the server then offers tasks with `task.assign` frames (see
   * {@link TaskwireClient.request} for the `progress`/`result`/`fail` answers).
   */
  readonly worker?: WorkerRegistration;
  /** Reconnect backoff: exponential with full jitter. */
  readonly backoff?: BackoffOptions;
  /** How often to send `ping` while open, ms (default 4 minutes, inside the 10-minute idle limit). */
  readonly heartbeatMs?: number;
  /** At most this many frames wait for a connection (default 100); the oldest is dropped. */
  readonly outboxLimit?: number;
  /** How long a frame ahead of a gap waits for the gap to fill, ms (default 1000). */
  readonly reorderWindowMs?: number;
  /** Default `timeoutMs` of `submit` (default 10 minutes). */
  readonly submitTimeoutMs?: number;
  /** Default timeout of `join`, `leave` and `cancel` replies, ms (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Random source in [0, 1) for the jitter (tests). */
  readonly random?: () => number;
  /** Clock in epoch ms (tests); used for the `at` of client-side events. */
  readonly now?: () => number;
}

/** The defaults of {@link TaskwireClientOptions}. */
export const DEFAULTS = {
  clientType: 'viewer',
  heartbeatMs: 4 * 60 * 1000,
  outboxLimit: 100,
  reorderWindowMs: 1000,
  submitTimeoutMs: 10 * 60 * 1000,
  requestTimeoutMs: 30_000,
} as const;
