import { parseCredentials, resolveServers } from '../lambdas/config/download-servers';
import { ConfigError } from '../lambdas/config/config';
import { ENV } from '../lambdas/config/env';
import { parseJsonText } from '../lambdas/config/json-setting';
import { serversSchema } from '../lambdas/config/task-config';
import type { ResolvedServer } from '../src/tasks/types/task-type';

/** The env variables the worker reads its download servers from when no flag names them. */
export const SERVER_ENV = {
  servers: ENV.downloadServers,
  credentials: 'DOWNLOAD_CREDENTIALS',
} as const;

/** A download-server setting that is not JSON or not the shape: the message names where. */
export class ServerSettingError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ServerSettingError';
  }
}

/** One setting's text and where it came from (`--servers`, `DOWNLOAD_SERVERS`, …). */
export interface SettingText {
  readonly raw: string | undefined;
  readonly where: string;
}

/**
 * The download servers a socket worker may fetch from, with their credentials: the same JSON
 * as the runtime's `DOWNLOAD_SERVERS` (name → `{baseUrl, path?, timeoutMs?, maxBytes?}`) and
 * its credentials secret (name → `{username, password}`), read by the runtime's own parsers.
 * @throws ServerSettingError naming the setting that is not JSON or not the shape.
 */
export function readServers(
  servers: SettingText,
  credentials: SettingText,
): Record<string, ResolvedServer> {
  try {
    const parsedServers =
      servers.raw !== undefined && servers.raw.trim() !== ''
        ? parseJsonText(servers.raw, servers.where, serversSchema)
        : {};
    return resolveServers(parsedServers, parseCredentials(credentials.raw, credentials.where));
  } catch (e) {
    // The runtime's parsers say which setting; the CLI answers it as a bad argument (exit 2).
    if (e instanceof ConfigError) throw new ServerSettingError(e.message);
    throw e;
  }
}

/** The flag's text when given, else the env variable's. */
export const settingText = (
  flag: string | undefined,
  flagName: string,
  env: NodeJS.ProcessEnv,
  envName: string,
): SettingText =>
  flag !== undefined ? { raw: flag, where: flagName } : { raw: env[envName], where: envName };
