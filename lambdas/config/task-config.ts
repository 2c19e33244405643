import { z } from 'zod';
import { ENV } from './env';
import type { ArgsContext } from '../../src/tasks/types/task-type';
import { DEFAULT_ALIASES } from '../../src/wecom/commands';
import { ConfigError, requireEnv } from './config';
import { jsonSetting } from './json-setting';
import { readTaskQueues } from './task-queues';

/** One configured download server (credentials live in Secrets Manager, not here). */
export const downloadServerSchema = z.strictObject({
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Path under baseUrl; `{dsNumber}` is replaced (default `/{dsNumber}`). */
  path: z.string().startsWith('/').includes('{dsNumber}').optional(),
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(15 * 60 * 1000)
    .optional(),
  maxBytes: z
    .number()
    .int()
    .min(1)
    .max(5 * 1024 * 1024 * 1024)
    .optional(),
});
export type DownloadServer = z.infer<typeof downloadServerSchema>;

const serversSchema = z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), downloadServerSchema);
const aliasesSchema = z.record(z.string().min(1), z.string().min(1));

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
