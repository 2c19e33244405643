import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { ENV } from '../env';
import { ChatNotifier, WECOM_WEBHOOK_HOSTS } from '../../src/chat/chat-notifier';
import { DynamoRateLimiter } from '../../src/chat/dynamo-rate-limiter';
import { systemClock } from '../../src/ports/clock';
import { frameFactory } from '../../src/push/frames';
import { SqsTaskQueue } from '../../src/tasks/task-queue';
import type { WorkerPorts } from '../../src/tasks/worker';
import { connectionStore, documentClient, pusher } from './aws';
import { requireEnv } from './config';
import { parseCredentials, resolveServers } from './download-servers';
import { once } from './lazy';
import { artifactStore } from './messages';
import { logger } from './logger';
import { sqsClient, submitPorts, taskConfig } from './tasks';

const SECRET_MAX_AGE_SECONDS = 300;

/** The worker ports of a Lambda container, built once from its environment. */
export const cloudWorkerPorts = /* @__PURE__ */ once((): WorkerPorts => {
  const config = taskConfig();
  const frames = frameFactory(systemClock, randomUUID);
  const updates = { pusher: pusher(), store: connectionStore(), frames };
  const queue = new SqsTaskQueue(sqsClient(), config.queues);
  const credentialsArn = process.env[ENV.downloadCredentialsArn];
  const webhookHosts = process.env[ENV.wecomWebhookHosts]
    ?.split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const defaultWebhookUrl = process.env[ENV.wecomWebhookUrl];
  return {
    tasks: submitPorts().tasks,
    updates,
    submit: submitPorts(),
    artifacts: artifactStore(),
    servers: async () =>
      resolveServers(
        config.servers,
        credentialsArn
          ? parseCredentials(
              await getSecret<string>(credentialsArn, { maxAge: SECRET_MAX_AGE_SECONDS }),
              credentialsArn,
            )
          : {},
      ),
    chat: new ChatNotifier({
      fetch,
      limiter: new DynamoRateLimiter(documentClient(), config.tasksTable, systemClock),
      log: logger,
      allowedHosts: webhookHosts?.length ? webhookHosts : WECOM_WEBHOOK_HOSTS,
      ...(defaultWebhookUrl ? { defaultWebhookUrl } : {}),
    }),
    requeueNotify: (task, delaySeconds, attempt) =>
      queue.enqueue(
        { taskId: task.taskId, taskType: task.taskType, kind: 'notify', attempt },
        { delaySeconds },
      ),
    fetch,
    clock: systemClock,
    log: logger,
  };
});

/** Powertools Idempotency's table. */
export const idempotencyStore = /* @__PURE__ */ once(
  () =>
    new DynamoDBPersistenceLayer({
      tableName: requireEnv(process.env, ENV.idempotencyTable),
      awsSdkV3Client: new DynamoDBClient({}),
    }),
);
