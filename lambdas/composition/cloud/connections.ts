import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Agent } from 'node:https';
import { POSTER_CLIENT_SETTINGS } from '../../../src/adapters/api-gateway/connection-poster';
import { systemClock } from '../../../src/ports/clock';
import { managementEndpoint, requireEnv } from '../../config/config';
import { ENV } from '../../config/env';
import { once } from '../../runtime/lazy';
import { logger } from '../../runtime/logger';
import { readHistorySettings } from '../../config/stream-config';
import {
  buildConnectionStore,
  buildDocumentClient,
  buildMessageStore,
  buildStreamLog,
} from '../dynamo';
import { buildPusher, buildTaskUpdates } from '../push';

/**
 * The cloud side of the composition root: SDK clients made from the function's environment and
 * handed to the builders of lambdas/composition/, one lazy getter per client or port. Each is
 * built once per Lambda container, on first use; a getter a function never calls costs it
 * nothing, and esbuild leaves out what a handler does not import. The getters are split over a
 * few files by the clients and settings they pull in, so that a function importing one file
 * bundles (and the bench counts) only the SDK clients it uses: this one holds DynamoDB and the
 * management API, which every connection-handling function needs.
 */

/** The DynamoDB client. */
export const dynamoClient = /* @__PURE__ */ once(() => new DynamoDBClient({}));

/** The DynamoDB document client every store shares. */
export const documentClient = /* @__PURE__ */ once(() => buildDocumentClient(dynamoClient()));

/** The connections table. */
export const connectionStore = /* @__PURE__ */ once(() =>
  buildConnectionStore(
    { doc: documentClient(), clock: systemClock },
    requireEnv(process.env, ENV.connectionsTable),
  ),
);

/** The messages table (deliveries, scheduled messages and session notices). */
export const messageStore = /* @__PURE__ */ once(() =>
  buildMessageStore(
    { doc: documentClient(), clock: systemClock },
    requireEnv(process.env, ENV.messagesTable),
  ),
);

/** The stream log every pushed frame is appended to (the streams table). */
export const streamLog = /* @__PURE__ */ once(() =>
  buildStreamLog(
    { doc: documentClient(), clock: systemClock },
    requireEnv(process.env, ENV.streamsTable),
    readHistorySettings(process.env),
  ),
);

/** The API Gateway Management API client for this stack's WebSocket API and stage. */
export const managementClient = /* @__PURE__ */ once(
  () =>
    new ApiGatewayManagementApiClient({
      ...POSTER_CLIENT_SETTINGS,
      endpoint: managementEndpoint(process.env),
      // The SDK's default of 50 sockets would cap a fan-out of several concurrent batches.
      requestHandler: { httpsAgent: new Agent({ keepAlive: true, maxSockets: 256 }) },
    }),
);

/** The pusher over the management API and the connections table. */
export const pusher = /* @__PURE__ */ once(() =>
  buildPusher({ client: managementClient(), store: connectionStore(), log: logger }),
);

/** The ports that push task updates to a task's audience. */
export const taskUpdates = /* @__PURE__ */ once(() =>
  buildTaskUpdates({
    pusher: pusher(),
    store: connectionStore(),
    clock: systemClock,
    streams: streamLog(),
  }),
);
