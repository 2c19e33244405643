import * as z from '../../src/validation/zod';
import { ConfigError, requireEnv } from './config';

/**
 * Reads a JSON setting and checks it against a schema (mini or classic zod: the check goes
 * through zod's core).
 * @throws ConfigError naming the setting when it is missing (and has no fallback), not JSON, or
 *   not the schema.
 */
export function jsonSetting<S extends z.core.$ZodType>(
  env: NodeJS.ProcessEnv,
  name: string,
  schema: S,
  fallback?: z.output<S>,
): z.output<S> {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') {
    if (fallback !== undefined) return fallback;
    return requireEnv(env, name) as never;
  }
  return parseJsonText(raw, `setting ${name}`, schema);
}

/**
 * Parses JSON text from wherever it came (an env variable, a command-line flag) and checks it
 * against a schema.
 * @param label what the messages call it (`setting DOWNLOAD_SERVERS`, `--servers`).
 * @throws ConfigError `<label> is not valid JSON`, or `<label>: <path>: <zod's message>`.
 */
export function parseJsonText<S extends z.core.$ZodType>(
  raw: string,
  label: string,
  schema: S,
): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${label} is not valid JSON`);
  }
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new ConfigError(`${label}: ${path}${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
