import { S3Client } from '@aws-sdk/client-s3';
import { ENV } from '../env';
import { S3ArtifactStore } from '../../src/artifacts/s3-artifact-store';
import { DynamoMessageStore } from '../../src/deliveries/dynamo-message-store';
import { SqsFanoutQueue } from '../../src/deliveries/sqs-fanout-queue';
import { systemClock } from '../../src/ports/clock';
import { documentClient } from './aws';
import { requireEnv } from './config';
import { once } from './lazy';
import { sqsClient } from './tasks';

/** The artifact bucket (downloads, large results, large push payloads). */
export const artifactStore = /* @__PURE__ */ once(
  () =>
    new S3ArtifactStore({
      client: new S3Client({}),
      bucket: requireEnv(process.env, ENV.artifactsBucket),
    }),
);

/** The messages table (deliveries, scheduled messages). */
export const messageStore = /* @__PURE__ */ once(
  () =>
    new DynamoMessageStore(
      documentClient(),
      requireEnv(process.env, ENV.messagesTable),
      systemClock,
    ),
);

/** The fan-out queue. */
export const fanoutQueue = /* @__PURE__ */ once(
  () => new SqsFanoutQueue(sqsClient(), requireEnv(process.env, ENV.fanoutQueueUrl)),
);
