import {
  DEFAULT_HISTORY_SECONDS,
  DEFAULT_HISTORY_SIZE,
  HISTORY_SECONDS_RANGE,
  HISTORY_SIZE_RANGE,
} from '../../src/streams/schema';
import { ConfigError } from './config';
import { ENV } from './env';

/** How long and how much a stream keeps (docs/protocol.md, "Streams"). */
export interface HistorySettings {
  readonly historySeconds: number;
  readonly historySize: number;
}

function readInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  { min, max }: { readonly min: number; readonly max: number },
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`setting ${name}="${raw}" must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/**
 * Reads the stream history settings (`TASKWIRE_HISTORY_SECONDS`, `TASKWIRE_HISTORY_SIZE`),
 * defaulting to a day and 1,000 frames.
 * @throws ConfigError naming the setting and its range.
 */
export function readHistorySettings(env: NodeJS.ProcessEnv): HistorySettings {
  return {
    historySeconds: readInteger(
      env,
      ENV.historySeconds,
      DEFAULT_HISTORY_SECONDS,
      HISTORY_SECONDS_RANGE,
    ),
    historySize: readInteger(env, ENV.historySize, DEFAULT_HISTORY_SIZE, HISTORY_SIZE_RANGE),
  };
}
