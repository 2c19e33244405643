import { S3Client } from '@aws-sdk/client-s3';
import { S3ArtifactStore } from '../../../src/adapters/s3/artifact-store';
import { systemClock } from '../../../src/ports/clock';
import { requireEnv } from '../../config/config';
import { ENV } from '../../config/env';
import { once } from '../../runtime/lazy';
import { logger } from '../../runtime/logger';
import { buildFanoutPorts, buildFanoutQueue, buildSchedulePorts } from '../deliveries';
import { connectionStore, messageStore, pusher, streamLog } from './connections';
import { sqsClient } from './sqs';

/** The artifact bucket (downloads, large results, large push payloads). */
export const artifactStore = /* @__PURE__ */ once(
  () =>
    new S3ArtifactStore({
      client: new S3Client({}),
      bucket: requireEnv(process.env, ENV.artifactsBucket),
    }),
);

/** The messages table: kept with the DynamoDB getters (the $connect handler uses it too). */
export { messageStore };

/** The fan-out queue. */
export const fanoutQueue = /* @__PURE__ */ once(() =>
  buildFanoutQueue(sqsClient(), requireEnv(process.env, ENV.fanoutQueueUrl)),
);

/** The ports of the fan-out worker. */
export const fanoutPorts = /* @__PURE__ */ once(() =>
  buildFanoutPorts({
    store: connectionStore(),
    pusher: pusher(),
    messages: messageStore(),
    fanout: fanoutQueue(),
    artifacts: artifactStore(),
    clock: systemClock,
    log: logger,
    streams: streamLog(),
  }),
);

/** The scheduler's ports: the messages table and the fan-out queue. */
export const schedulePorts = /* @__PURE__ */ once(() =>
  buildSchedulePorts({ messages: messageStore(), fanout: fanoutQueue(), clock: systemClock }),
);
