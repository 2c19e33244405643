import { SQSClient } from '@aws-sdk/client-sqs';
import { systemClock } from '../../src/ports/clock';
import { DynamoTaskStore } from '../../src/tasks/dynamo-task-store';
import type { SubmitPorts } from '../../src/tasks/submit';
import { SqsTaskQueue } from '../../src/tasks/task-queue';
import { randomUUID } from 'node:crypto';
import { frameFactory } from '../../src/push/frames';
import { publishTaskUpdate } from '../../src/tasks/updates';
import { connectionStore, documentClient, pusher } from './aws';
import { once } from './lazy';
import { logger } from './logger';
import { argsContextOf, readTaskConfig } from './task-config';

/** The task settings of this container, read and checked once. */
export const taskConfig = /* @__PURE__ */ once(() => readTaskConfig(process.env));

/** The SQS client. */
export const sqsClient = /* @__PURE__ */ once(() => new SQSClient({}));

/** The tasks table. */
export const taskStore = /* @__PURE__ */ once(
  () =>
    new DynamoTaskStore({
      client: documentClient(),
      tableName: taskConfig().tasksTable,
      clock: systemClock,
    }),
);

/** Everything submitting a task needs. */
export const submitPorts = /* @__PURE__ */ once((): SubmitPorts => ({
  tasks: taskStore(),
  queue: new SqsTaskQueue(sqsClient(), taskConfig().queues),
  clock: systemClock,
  log: logger,
  args: argsContextOf(taskConfig()),
  // Whoever queues a task tells its audience at once, so `queued` is seen before `running`.
  onQueued: async (task) => {
    await publishTaskUpdate(
      { pusher: pusher(), store: connectionStore(), frames: frameFactory(systemClock, randomUUID) },
      task,
    );
  },
}));
