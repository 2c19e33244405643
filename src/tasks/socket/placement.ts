/**
 * Where the tasks of each type run (docs/protocol.md, "Workers over WebSocket"): `lambda` (the
 * type's queue worker, the default), `websocket` (only socket workers: a task waits queued for a
 * free one, up to `placementTimeoutSeconds`, then fails with `no_worker`) or `auto` (a free
 * socket worker when one is connected, else the Lambda worker).
 */
export const PLACEMENTS = ['lambda', 'websocket', 'auto'] as const;
export type Placement = (typeof PLACEMENTS)[number];

/** The deployment's socket-worker settings (stack context, locally env `TASKWIRE_PLACEMENT…`). */
export interface PlacementSettings {
  /** Task type → placement; a type not named runs in Lambda. */
  readonly placement: Readonly<Record<string, Placement>>;
  /** How long a `websocket` task waits for a free worker, from its creation (default 300). */
  readonly placementTimeoutSeconds: number;
  /** A socket worker's lease, from the offer or its last `progress` (default 30). */
  readonly leaseSeconds: number;
}

export const DEFAULT_PLACEMENT_TIMEOUT_SECONDS = 300;
export const DEFAULT_LEASE_SECONDS = 30;

/** Everything in Lambda, as before socket workers. */
export const LAMBDA_ONLY: PlacementSettings = {
  placement: {},
  placementTimeoutSeconds: DEFAULT_PLACEMENT_TIMEOUT_SECONDS,
  leaseSeconds: DEFAULT_LEASE_SECONDS,
};

/** The placement of a task type (`lambda` when the settings do not name it). */
export const placementOf = (settings: PlacementSettings, taskType: string): Placement =>
  Object.hasOwn(settings.placement, taskType)
    ? (settings.placement[taskType] ?? 'lambda')
    : 'lambda';

/** Most tasks a socket worker may hold at once, per task type it registers for. */
export const MAX_WORKER_CONCURRENCY = 32;

/**
 * Seconds between checks for a free worker while a `websocket` task waits: a sixtieth of the
 * placement timeout, 1..10 s (300 s → 5 s), so a wait costs about 60 queue round trips at most.
 */
export const placementRetrySeconds = (settings: PlacementSettings): number =>
  Math.min(10, Math.max(1, Math.ceil(settings.placementTimeoutSeconds / 60)));
