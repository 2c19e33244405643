import { systemClock } from '../../../src/ports/clock';
import { requireEnv } from '../../config/config';
import { ENV } from '../../config/env';
import { readTaskQueues } from '../../config/task-queues';
import { once } from '../../runtime/lazy';
import { buildTaskStore } from '../dynamo';
import { buildTaskQueue } from '../tasks';
import { documentClient } from './connections';
import { sqsClient } from './sqs';

/*
 * The tasks table and the task queues, which need no task settings (so the reaper, which has
 * none, bundles no task types); submitting, which does, is in ./submit.ts.
 */

/** The tasks table. */
export const taskStore = /* @__PURE__ */ once(() =>
  buildTaskStore(
    { doc: documentClient(), clock: systemClock },
    requireEnv(process.env, ENV.tasksTable),
  ),
);

/** The task queues (TASK_QUEUES). */
export const taskQueue = /* @__PURE__ */ once(() =>
  buildTaskQueue(sqsClient(), readTaskQueues(process.env)),
);
