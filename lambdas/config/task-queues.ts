import * as z from 'zod/mini';
import { ENV } from './env';
import { jsonSetting } from './json-setting';

const queuesSchema = z.record(z.string(), z.url());

/**
 * Reads TASK_QUEUES (JSON: task type → queue URL). Its own module, on zod/mini, so that a
 * function which queues tasks without reading their arguments (the reaper) bundles neither the
 * task types nor classic zod.
 * @throws ConfigError when missing or malformed, naming the setting.
 */
export const readTaskQueues = (env: NodeJS.ProcessEnv): Readonly<Record<string, string>> =>
  jsonSetting(env, ENV.taskQueues, queuesSchema);
