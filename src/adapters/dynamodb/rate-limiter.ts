import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { isConditionFailure } from './document';
import type { Clock } from '../../ports/clock';
import type { RateDecision, RateLimiter } from '../../wecom/rate-limiter';

/**
 * A fixed-window limiter on DynamoDB: one counter item per key and window, taken with a
 * conditional ADD, expired by TTL. It lives in the tasks table under `taskId = rate#…`, so it
 * needs no table of its own.
 */
export class DynamoRateLimiter implements RateLimiter {
  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  public async tryAcquire(
    key: string,
    limit: number,
    windowSeconds: number,
  ): Promise<RateDecision> {
    const nowS = Math.floor(this.clock.now().getTime() / 1000);
    const window = Math.floor(nowS / windowSeconds);
    const hashed = createHash('sha256').update(key).digest('hex').slice(0, 32);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { taskId: `rate#${hashed}#${window}` },
          UpdateExpression: 'ADD used :one SET expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(used) OR used < :limit',
          ExpressionAttributeValues: {
            ':one': 1,
            ':limit': limit,
            ':exp': (window + 2) * windowSeconds,
          },
        }),
      );
      return { ok: true };
    } catch (e) {
      if (isConditionFailure(e)) {
        return { ok: false, retryAfterSeconds: Math.max(1, (window + 1) * windowSeconds - nowS) };
      }
      throw e;
    }
  }
}
