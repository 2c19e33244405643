import {
  type ApiGatewayManagementApiClient,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionPoster, PostAttempt } from '../../push/connection-poster';

/** 429 in any shape: the modelled LimitExceeded, or another error carrying that status. */
const isThrottle = (e: unknown): boolean =>
  e instanceof LimitExceededException ||
  (typeof e === 'object' &&
    e !== null &&
    '$metadata' in e &&
    (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 429);

/**
 * The API Gateway Management API (`@connections`) as a {@link ConnectionPoster}: 410 Gone is
 * `gone`, a 429 is `throttled`, anything else `failed`. The local gateway speaks the same API.
 */
export class ApiGatewayConnectionPoster implements ConnectionPoster {
  public constructor(private readonly client: ApiGatewayManagementApiClient) {}

  public async post(connectionId: string, data: Uint8Array): Promise<PostAttempt> {
    try {
      await this.client.send(
        new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }),
      );
      return { result: 'delivered' };
    } catch (e) {
      if (e instanceof GoneException) return { result: 'gone' };
      return { result: isThrottle(e) ? 'throttled' : 'failed', error: e };
    }
  }

  /** True when API Gateway answers GetConnection with 410 Gone. */
  public async isGone(connectionId: string): Promise<boolean> {
    try {
      await this.client.send(new GetConnectionCommand({ ConnectionId: connectionId }));
      return false;
    } catch (e) {
      if (e instanceof GoneException) return true;
      throw e;
    }
  }
}
