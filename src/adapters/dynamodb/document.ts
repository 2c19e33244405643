import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';

/** True when a conditional write was refused because its condition did not hold. */
export const isConditionFailure = (e: unknown): boolean =>
  e instanceof ConditionalCheckFailedException;

/**
 * Runs a Query page by page, following LastEvaluatedKey, so no 1 MB page is ever dropped.
 * Yields each raw answer (items, Count, ScannedCount).
 */
export async function* queryPages(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
): AsyncIterable<QueryCommandOutput> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await client.send(
      new QueryCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    );
    yield out;
    startKey = out.LastEvaluatedKey;
  } while (startKey);
}

/**
 * A conditional update that returns the item's new attributes, or undefined when the condition
 * refused it (the store's "not allowed" answer). Any other error is thrown.
 */
export async function updateIfAllowed(
  client: DynamoDBDocumentClient,
  input: UpdateCommandInput,
): Promise<Record<string, unknown> | undefined> {
  try {
    const out = await client.send(new UpdateCommand({ ...input, ReturnValues: 'ALL_NEW' }));
    return out.Attributes;
  } catch (e) {
    if (isConditionFailure(e)) return undefined;
    throw e;
  }
}
