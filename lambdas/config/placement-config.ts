import * as z from '../../src/validation/zod';
import {
  DEFAULT_LEASE_SECONDS,
  DEFAULT_PLACEMENT_TIMEOUT_SECONDS,
  PLACEMENTS,
  type PlacementSettings,
} from '../../src/tasks/socket/placement';
import { MAX_REAPS, QUEUED_DEADLINE_MS } from '../../src/tasks/reaper';
import { ConfigError } from './config';
import { ENV } from './env';
import { jsonSetting } from './json-setting';

const placementSchema = z.record(
  z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/)),
  z.enum(PLACEMENTS),
);

function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigError(`setting ${name}="${raw}" must be a whole number from 1 to ${max}`);
  }
  return value;
}

/**
 * Reads the socket-worker settings: `TASKWIRE_PLACEMENT` (JSON, task type → placement; default
 * every type `lambda`), `TASKWIRE_PLACEMENT_TIMEOUT_S` (300) and `TASKWIRE_LEASE_SECONDS` (30).
 * @param taskTypes the known task types: a placement naming another is refused.
 * @throws ConfigError naming the setting that is malformed.
 */
export function readPlacementSettings(
  env: NodeJS.ProcessEnv,
  taskTypes?: readonly string[],
): PlacementSettings {
  const placement = jsonSetting(env, ENV.placement, placementSchema, {});
  const unknown = taskTypes && Object.keys(placement).find((t) => !taskTypes.includes(t));
  if (unknown) {
    throw new ConfigError(`setting ${ENV.placement}: unknown task type "${unknown}"`);
  }
  return {
    placement,
    // No longer than the reaper leaves a queued task (its third re-queue): a longer wait would
    // end in the reaper's error instead of `no_worker` (the stack's context has the same cap).
    placementTimeoutSeconds: seconds(
      env,
      ENV.placementTimeoutSeconds,
      DEFAULT_PLACEMENT_TIMEOUT_SECONDS,
      (QUEUED_DEADLINE_MS * MAX_REAPS) / 1000,
    ),
    leaseSeconds: seconds(env, ENV.leaseSeconds, DEFAULT_LEASE_SECONDS, 15 * 60),
  };
}
