import {
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './document';
import type { BotDelivery, BotRecord, BotStore } from '../../wecom/bot/store';

/**
 * The intelligent bot's records in the tasks table, under `taskId = wecombot#<taskId>` (like
 * the robot's rate counters: no table of its own), expired by the table's TTL with the task.
 * They carry no `status`, `ownerUserId` or `deadlineAt`, so no index of the table sees them.
 */
export class DynamoBotStore implements BotStore {
  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key = (taskId: string) => ({ taskId: `wecombot#${taskId}` });

  public async create(record: BotRecord): Promise<BotRecord> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...record, taskId: this.key(record.taskId).taskId, botTaskId: record.taskId },
          ConditionExpression: 'attribute_not_exists(taskId)',
        }),
      );
      return record;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      return (await this.get(record.taskId)) ?? record;
    }
  }

  public async get(taskId: string): Promise<BotRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(taskId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { botTaskId, ...rest } = Item as Record<string, unknown> & { botTaskId: string };
    return { ...(rest as unknown as BotRecord), taskId: botTaskId };
  }

  public async handOff(taskId: string, at: string): Promise<boolean> {
    return this.conditional(
      taskId,
      'SET handedOffAt = if_not_exists(handedOffAt, :at)',
      'attribute_exists(taskId) AND attribute_not_exists(delivery)',
      { ':at': at },
    );
  }

  public async claimDelivery(taskId: string, via: BotDelivery, at: string): Promise<boolean> {
    return this.conditional(
      taskId,
      'SET delivery = :via, deliveredAt = :at',
      via === 'stream'
        ? 'attribute_exists(taskId) AND attribute_not_exists(delivery) AND attribute_not_exists(handedOffAt)'
        : 'attribute_exists(taskId) AND attribute_not_exists(delivery)',
      { ':via': via, ':at': at },
    );
  }

  private async conditional(
    taskId: string,
    update: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(taskId),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }
}
