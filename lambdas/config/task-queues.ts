import * as z from '../../src/validation/zod';
import { ENV } from './env';
import { jsonSetting } from './json-setting';

const queuesSchema = z.record(z.string(), z.url());

/**
 * Reads TASK_QUEUES (JSON: task type → queue URL). Its own module, so that a function which
 * queues tasks without reading their arguments (the reaper) bundles no task types.
 * @throws ConfigError when missing or malformed, naming the setting.
 */
export const readTaskQueues = (env: NodeJS.ProcessEnv): Readonly<Record<string, string>> =>
  jsonSetting(env, ENV.taskQueues, queuesSchema);
