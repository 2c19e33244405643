import type { Node } from 'constructs';
import { ENV } from '../lambdas/catalog';
import { ConfigError } from '../lambdas/config/config';
import { readPlacementSettings } from '../lambdas/config/placement-config';
import { MAX_REAPS, QUEUED_DEADLINE_MS } from '../src/tasks/reaper';
import { TASK_TYPE_NAMES } from '../src/tasks/registry';
import {
  DEFAULT_LEASE_SECONDS,
  DEFAULT_PLACEMENT_TIMEOUT_SECONDS,
  type Placement,
  PLACEMENTS,
  type PlacementSettings,
} from '../src/tasks/socket/placement';
import { readInteger, readJson } from './context-values';

/**
 * The socket-worker settings from context (docs/protocol.md, "Workers over WebSocket"): where
 * each task type runs, how long a `websocket` task waits for a worker, and a worker's lease.
 */

/** Context keys of the socket-worker settings. */
export const PLACEMENT_CONTEXT_KEYS = {
  /**
   * JSON object, task type → `lambda` | `websocket` | `auto` (default every type `lambda`):
   * where tasks run. Sets TASKWIRE_PLACEMENT.
   */
  placement: 'placement',
  /** Seconds a `websocket` task waits for a free socket worker (1..1800, default 300). */
  placementTimeoutSeconds: 'placementTimeoutSeconds',
  /** A socket worker's lease in seconds (1..900, default 30). */
  leaseSeconds: 'leaseSeconds',
} as const;

/**
 * Allowed range of `placementTimeoutSeconds`: a second to 30 minutes. A waiting task stays
 * `queued` with the deadline it was queued with, so the reaper re-queues it every 10 minutes and
 * fails it as stuck after its third re-queue (about 40 minutes): a longer wait would end in the
 * reaper's error instead of `no_worker`, which the no_worker alarm would never see.
 */
export const PLACEMENT_TIMEOUT_RANGE = {
  min: 1,
  max: (QUEUED_DEADLINE_MS * MAX_REAPS) / 1000,
} as const;
/** Allowed range of `leaseSeconds`: a second to 15 minutes (the longest Lambda run). */
export const LEASE_SECONDS_RANGE = { min: 1, max: 15 * 60 } as const;

/**
 * Reads and checks the socket-worker settings; a bad value fails synth naming the key.
 * @throws Error for a placement that is not an object, names an unknown task type or a value
 * other than lambda/websocket/auto, or a number out of range.
 */
export function readPlacementContext(node: Node): PlacementSettings {
  const { placement: key } = PLACEMENT_CONTEXT_KEYS;
  const value = readJson(node, key) ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(
      `context ${key} must be a JSON object of task type → ${PLACEMENTS.join(' | ')}, ` +
        `e.g. {"download":"auto"}`,
    );
  }
  const placement: Record<string, Placement> = {};
  for (const [taskType, where] of Object.entries(value)) {
    if (!TASK_TYPE_NAMES.includes(taskType)) {
      throw new Error(
        `context ${key}: unknown task type "${taskType}" (known: ${TASK_TYPE_NAMES.join(', ')})`,
      );
    }
    if (!isPlacement(where)) {
      throw new Error(
        `context ${key}.${taskType}=${JSON.stringify(where)} must be one of ` +
          PLACEMENTS.join(', '),
      );
    }
    placement[taskType] = where;
  }
  const settings: PlacementSettings = {
    placement,
    placementTimeoutSeconds: readInteger(
      node,
      PLACEMENT_CONTEXT_KEYS.placementTimeoutSeconds,
      DEFAULT_PLACEMENT_TIMEOUT_SECONDS,
      PLACEMENT_TIMEOUT_RANGE,
    ),
    leaseSeconds: readInteger(
      node,
      PLACEMENT_CONTEXT_KEYS.leaseSeconds,
      DEFAULT_LEASE_SECONDS,
      LEASE_SECONDS_RANGE,
    ),
  };
  checkAtColdStart(settings);
  return settings;
}

/** The environment the `placement` need sets: what {@link readPlacementSettings} reads. */
export function placementEnvironment(settings: PlacementSettings): Record<string, string> {
  return {
    [ENV.placement]: JSON.stringify(settings.placement),
    [ENV.placementTimeoutSeconds]: String(settings.placementTimeoutSeconds),
    [ENV.leaseSeconds]: String(settings.leaseSeconds),
  };
}

const isPlacement = (value: unknown): value is Placement =>
  (PLACEMENTS as readonly unknown[]).includes(value);

// The functions parse the same variables with this function at cold start: a value synth
// accepts but a function would refuse must fail here, not on the first task.
function checkAtColdStart(settings: PlacementSettings): void {
  try {
    readPlacementSettings(placementEnvironment(settings), TASK_TYPE_NAMES);
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new Error(`socket-worker settings from context: ${e.message}`, { cause: e });
    }
    throw e;
  }
}
