import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Powertools Idempotency's table. Build one per handler instance (as each Lambda execution
 * environment has its own): a persistence layer is configured by the first handler using it.
 */
export const buildIdempotencyStore = (
  client: DynamoDBClient,
  tableName: string,
): BasePersistenceLayer => new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client });
