import { DynamoBotStore } from '../../../src/adapters/dynamodb/wecom-bot-store';
import { requireEnv } from '../../config/config';
import { ENV } from '../../config/env';
import { once } from '../../runtime/lazy';
import { documentClient } from './connections';

/** The intelligent bot's records, in the tasks table. */
export const botStore = /* @__PURE__ */ once(
  () => new DynamoBotStore(documentClient(), requireEnv(process.env, ENV.tasksTable)),
);
