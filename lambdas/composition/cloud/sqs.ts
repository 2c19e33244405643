import { SQSClient } from '@aws-sdk/client-sqs';
import { once } from '../../runtime/lazy';

/** The SQS client (task queues and the fan-out queue); its own file, so it drags in no settings. */
export const sqsClient = /* @__PURE__ */ once(() => new SQSClient({}));
