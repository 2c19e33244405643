import * as z from '../../src/validation/zod';
import { ENV } from './env';
import type { ArgsContext } from '../../src/tasks/types/task-type';
import { type CommandOptions, DEFAULT_ALIASES } from '../../src/wecom/commands';
import { ConfigError, requireEnv } from './config';
import { jsonSetting } from './json-setting';
import { readTaskQueues } from './task-queues';

/** One configured download server (credentials live in Secrets Manager, not here). */
export const downloadServerSchema = z.strictObject({
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Path under baseUrl; `{dsNumber}` is replaced (default `/{dsNumber}`). */
  path: z.optional(z.string().check(z.startsWith('/'), z.includes('{dsNumber}'))),
  timeoutMs: z.optional(z.number().check(z.int(), z.gte(100), z.lte(15 * 60 * 1000))),
  maxBytes: z.optional(z.number().check(z.int(), z.gte(1), z.lte(5 * 1024 * 1024 * 1024))),
});
export type DownloadServer = z.infer<typeof downloadServerSchema>;

/** The `DOWNLOAD_SERVERS` setting: server name → server (also the socket worker's `--servers`). */
export const serversSchema = z.record(
  z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/)),
  downloadServerSchema,
);
const aliasesSchema = z.record(z.string().check(z.minLength(1)), z.string().check(z.minLength(1)));

/** Task settings every task-submitting function reads. */
export interface TaskConfig {
  readonly tasksTable: string;
  readonly queues: Readonly<Record<string, string>>;
  readonly servers: Readonly<Record<string, DownloadServer>>;
  readonly defaultServer: string;
  readonly aliases: Readonly<Record<string, string>>;
}

/**
 * Reads and checks the task settings.
 * @throws ConfigError naming the setting that is missing or malformed.
 */
export function readTaskConfig(env: NodeJS.ProcessEnv): TaskConfig {
  const servers = jsonSetting(env, ENV.downloadServers, serversSchema);
  if (Object.keys(servers).length === 0) {
    throw new ConfigError(`setting ${ENV.downloadServers} must name at least one server`);
  }
  const defaultServer = requireEnv(env, ENV.defaultDownloadServer);
  if (!servers[defaultServer]) {
    throw new ConfigError(
      `setting ${ENV.defaultDownloadServer} ("${defaultServer}") is not one of ${ENV.downloadServers}`,
    );
  }
  return {
    tasksTable: requireEnv(env, ENV.tasksTable),
    queues: readTaskQueues(env),
    servers,
    defaultServer,
    aliases: jsonSetting(env, ENV.commandAliases, aliasesSchema, { ...DEFAULT_ALIASES }),
  };
}

/** The part of the task settings that reading arguments needs. */
export const argsContextOf = (config: TaskConfig): ArgsContext => ({
  servers: Object.keys(config.servers),
  defaultServer: config.defaultServer,
});

/** The part of the task settings that reading chat commands needs (both WeCom callbacks). */
export const commandOptionsOf = (config: TaskConfig): Omit<CommandOptions, 'types'> => ({
  ...argsContextOf(config),
  aliases: config.aliases,
});
