import {
  type ApiGatewayManagementApiClient,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionPoster, PostAttempt } from '../../push/connection-poster';

/**
 * Settings of the management client the poster is given: one attempt per send. The push engine
 * owns the retries (AIMD on 429, backoff on 5xx); the SDK's own would hide each 429 from the
 * engine's rate and wait 500 ms or more before trying again, so a throttled fan-out would never
 * learn the quota and would stall on its slowest posts.
 */
export const POSTER_CLIENT_SETTINGS = { maxAttempts: 1 } as const;

const statusOf = (e: unknown): number | undefined =>
  typeof e === 'object' && e !== null && '$metadata' in e
    ? (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
    : undefined;

/** 429 in any shape: the modelled LimitExceeded, or another error carrying that status. */
const isThrottle = (e: unknown): boolean =>
  e instanceof LimitExceededException || statusOf(e) === 429;

/** A 5xx, or no HTTP answer at all (reset, timeout): the next attempt may well get through. */
const isUnavailable = (e: unknown): boolean => {
  const status = statusOf(e);
  return status === undefined || status >= 500;
};

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
      if (isThrottle(e)) return { result: 'throttled', error: e };
      return { result: isUnavailable(e) ? 'unavailable' : 'failed', error: e };
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
