import { Agent } from 'node:https';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../env';
import { DynamoConnectionStore } from '../../src/connections/dynamo-store';
import type { ConnectionStore } from '../../src/connections/store';
import { systemClock } from '../../src/ports/clock';
import { Pusher } from '../../src/push/pusher';
import { managementEndpoint, requireEnv } from './config';
import { once } from './lazy';
import { logger } from './logger';

/**
 * The SDK clients and stores of a Lambda container, each created once on first use from the
 * function's environment. A getter a function never calls costs it nothing, and esbuild leaves
 * out clients a handler does not import.
 */

/** The DynamoDB document client (empty strings and class instances handled explicitly). */
export const documentClient = /* @__PURE__ */ once(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);

/** The connections table. */
export const connectionStore = /* @__PURE__ */ once(
  (): ConnectionStore =>
    new DynamoConnectionStore({
      client: documentClient(),
      tableName: requireEnv(process.env, ENV.connectionsTable),
      clock: systemClock,
    }),
);

/** The API Gateway Management API client for this stack's WebSocket API and stage. */
export const managementClient = /* @__PURE__ */ once(
  () =>
    new ApiGatewayManagementApiClient({
      endpoint: managementEndpoint(process.env),
      // The SDK's default of 50 sockets would cap a fan-out of several concurrent batches.
      requestHandler: { httpsAgent: new Agent({ keepAlive: true, maxSockets: 256 }) },
    }),
);

/** The pusher over the management API and the connections table. */
export const pusher = /* @__PURE__ */ once(
  () => new Pusher({ client: managementClient(), store: connectionStore(), log: logger }),
);
