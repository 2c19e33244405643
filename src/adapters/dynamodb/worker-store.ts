import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, queryPages, updateIfAllowed } from './document';
import type { Clock } from '../../ports/clock';
import type { HeldTask, SocketWorker, WorkerStore } from '../../tasks/socket/worker-store';

/**
 * Socket workers in the connections table, beside the connection records (no index of its own):
 * - capacity item `pk = W#<taskType>`, `sk = <connectionId>`: `free`, `concurrency`, `held`
 *   (a map of the task ids it holds), `expiresAt`. Dispatch Queries one type's partition; a
 *   slot is one conditional update (`free > 0`).
 * - marker item `pk = C#<connectionId>`, `sk = W#<taskType>`: which types the connection works,
 *   so $disconnect finds its capacity items (and `remove` deletes the markers with the rest).
 * None carries userId, group, clientType, shard or staleAt, so no index of the table sees them.
 */
export class DynamoWorkerStore implements WorkerStore {
  public constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
  ) {}

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  public async register(
    connectionId: string,
    taskTypes: readonly string[],
    concurrency: number,
    expiresAt: number,
  ): Promise<void> {
    for (const taskType of taskTypes) {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `C#${connectionId}`, sk: `W#${taskType}`, taskType, expiresAt },
        }),
      );
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              pk: `W#${taskType}`,
              sk: connectionId,
              workerId: connectionId,
              free: concurrency,
              concurrency,
              held: {},
              expiresAt,
            },
            // A second register keeps what the connection holds.
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
    }
  }

  public async candidates(taskType: string, limit: number): Promise<SocketWorker[]> {
    const found: SocketWorker[] = [];
    for await (const page of queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      // `free` is a DynamoDB reserved word: every expression names it through #free.
      FilterExpression: '#free > :zero AND expiresAt > :now',
      ExpressionAttributeNames: { '#free': 'free' },
      ExpressionAttributeValues: { ':pk': `W#${taskType}`, ':zero': 0, ':now': this.nowSeconds() },
      ConsistentRead: true,
      Limit: limit,
    })) {
      for (const item of page.Items ?? []) {
        found.push({
          connectionId: String(item.sk),
          taskType,
          concurrency: Number(item.concurrency),
          free: Number(item.free),
        });
      }
      if (found.length >= limit) break;
    }
    // Least loaded first (fewest tasks held), ties in random order so load spreads.
    return found
      .map((w) => ({ w, r: Math.random() }))
      .sort((a, b) => a.w.concurrency - a.w.free - (b.w.concurrency - b.w.free) || a.r - b.r)
      .map(({ w }) => w)
      .slice(0, limit);
  }

  public async takeSlot(taskType: string, connectionId: string, taskId: string): Promise<boolean> {
    const taken = await updateIfAllowed(this.client, {
      TableName: this.table,
      Key: { pk: `W#${taskType}`, sk: connectionId },
      UpdateExpression: 'SET #free = #free - :one, held.#t = :true',
      ConditionExpression: '#free > :zero AND attribute_not_exists(held.#t)',
      ExpressionAttributeNames: { '#t': taskId, '#free': 'free' },
      ExpressionAttributeValues: { ':one': 1, ':zero': 0, ':true': true },
    });
    return taken !== undefined;
  }

  public async releaseSlot(taskType: string, connectionId: string, taskId: string): Promise<void> {
    await updateIfAllowed(this.client, {
      TableName: this.table,
      Key: { pk: `W#${taskType}`, sk: connectionId },
      UpdateExpression: 'SET #free = #free + :one REMOVE held.#t',
      ConditionExpression: 'attribute_exists(held.#t)',
      ExpressionAttributeNames: { '#t': taskId, '#free': 'free' },
      ExpressionAttributeValues: { ':one': 1 },
    });
  }

  public async unregister(connectionId: string): Promise<HeldTask[]> {
    const types: string[] = [];
    for await (const page of queryPages(this.client, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :w)',
      ExpressionAttributeValues: { ':pk': `C#${connectionId}`, ':w': 'W#' },
      ConsistentRead: true,
    })) {
      for (const item of page.Items ?? []) types.push(String(item.sk).slice(2));
    }
    const held: HeldTask[] = [];
    for (const taskType of types) {
      const key = { pk: `W#${taskType}`, sk: connectionId };
      const out = await this.client.send(
        new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }),
      );
      const tasks = (out.Item?.held ?? {}) as Record<string, unknown>;
      for (const taskId of Object.keys(tasks)) held.push({ taskType, taskId });
      await this.client.send(new DeleteCommand({ TableName: this.table, Key: key }));
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: `C#${connectionId}`, sk: `W#${taskType}` },
        }),
      );
    }
    return held;
  }
}
