import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { Pusher, type PusherOptions } from '../../push/pusher';
import { ApiGatewayConnectionPoster } from './connection-poster';

/** Options of {@link ApiGatewayPusher}: the push engine's, with the client instead of a poster. */
export interface ApiGatewayPusherOptions extends Omit<PusherOptions, 'poster'> {
  readonly client: ApiGatewayManagementApiClient;
}

/** The push engine over the API Gateway Management API (as the cloud and the local runtime use). */
export class ApiGatewayPusher extends Pusher {
  public constructor({ client, ...options }: ApiGatewayPusherOptions) {
    super({ ...options, poster: new ApiGatewayConnectionPoster(client) });
  }
}
