import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, queryPages } from './document';
import { AppError } from '../../errors/app-error';
import type { Role } from '../../auth/token';
import type { Clock } from '../../ports/clock';
import type { Audience } from '../../connections/audience';
import { mergePages } from '../../connections/merge-pages';
import type { Connection, ConnectionSummary } from '../../connections/connection';
import {
  BROADCAST_SHARDS,
  CONNECTION_TTL_SECONDS,
  CONNECTIONS_TABLE,
} from '../../connections/schema';
import type { ConnectionStore, NewConnection } from '../../connections/store';

/** Options of {@link DynamoConnectionStore}. */
export interface DynamoConnectionStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly clock: Clock;
  /** Page size of fan-out Queries (default 1000; DynamoDB also stops a page at 1 MB). */
  readonly pageSize?: number;
  /** Picks a broadcast shard for a new connection (default: random). */
  readonly pickShard?: () => number;
}

const META = '#';
const connKey = (connectionId: string) => ({ pk: `C#${connectionId}`, sk: META });
const groupKey = (connectionId: string, group: string) => ({
  pk: `C#${connectionId}`,
  sk: `G#${group}`,
});

interface ConnectionItem {
  connectionId: string;
  userId: string;
  roles?: Role[];
  allowedGroups?: string[];
  clientType?: string;
  groups?: Set<string>;
  connectedAt: string;
  expiresAt: number;
}

const toConnection = (item: ConnectionItem): Connection => ({
  connectionId: item.connectionId,
  userId: item.userId,
  roles: item.roles ?? ['client'],
  allowedGroups: item.allowedGroups ?? [],
  ...(item.clientType === undefined ? {} : { clientType: item.clientType }),
  groups: [...(item.groups ?? [])].sort(),
  connectedAt: item.connectedAt,
  expiresAt: item.expiresAt,
});

/**
 * The connections table on DynamoDB (or dynalite). One partition per connection holds its
 * record and its group memberships, so a disconnect is one Query and one batch delete; the
 * table's indexes answer every fan-out with a Query.
 */
export class DynamoConnectionStore implements ConnectionStore {
  /** DynamoDB reads made so far: Query/Get requests and the items they read (for benchmarks). */
  public readonly reads = { requests: 0, items: 0 };
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly clock: Clock;
  private readonly pageSize: number;
  private readonly pickShard: () => number;

  public constructor(options: DynamoConnectionStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.clock = options.clock;
    this.pageSize = options.pageSize ?? 1000;
    this.pickShard = options.pickShard ?? (() => Math.floor(Math.random() * BROADCAST_SHARDS));
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  public async add(c: NewConnection): Promise<Connection> {
    const expiresAt = Math.floor(Date.parse(c.connectedAt) / 1000) + CONNECTION_TTL_SECONDS;
    const item: ConnectionItem & { shard: string } = {
      connectionId: c.connectionId,
      userId: c.userId,
      roles: [...c.roles],
      allowedGroups: [...c.allowedGroups],
      connectedAt: c.connectedAt,
      expiresAt,
      shard: String(this.pickShard()),
    };
    await this.client.send(
      new PutCommand({ TableName: this.table, Item: { ...connKey(c.connectionId), ...item } }),
    );
    return toConnection(item);
  }

  public async get(connectionId: string): Promise<Connection | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: connKey(connectionId), ConsistentRead: true }),
    );
    this.reads.requests++;
    this.reads.items += out.Item ? 1 : 0;
    const item = out.Item as ConnectionItem | undefined;
    if (!item || item.expiresAt <= this.nowSeconds()) return undefined;
    return toConnection(item);
  }

  /** Updates the connection record only if it still exists, and returns its new state. */
  private async update(
    connectionId: string,
    expression: string,
    values: Record<string, unknown>,
    names?: Record<string, string>,
  ): Promise<Connection> {
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: connKey(connectionId),
          UpdateExpression: expression,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: values,
          ...(names ? { ExpressionAttributeNames: names } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toConnection(out.Attributes as ConnectionItem);
    } catch (e) {
      if (isConditionFailure(e)) {
        throw new AppError('not_found', 'connection is gone');
      }
      throw e;
    }
  }

  private async putMembership(connectionId: string, group: string, expiresAt: number) {
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...groupKey(connectionId, group), connectionId, group, expiresAt },
      }),
    );
  }

  public async register(
    connectionId: string,
    clientType: string,
    groups: readonly string[],
  ): Promise<Connection> {
    const conn =
      groups.length === 0
        ? await this.update(connectionId, 'SET clientType = :t', { ':t': clientType })
        : await this.update(
            connectionId,
            'SET clientType = :t ADD #groups :g',
            {
              ':t': clientType,
              ':g': new Set(groups),
            },
            { '#groups': 'groups' },
          );
    await Promise.all(groups.map((g) => this.putMembership(connectionId, g, conn.expiresAt)));
    return conn;
  }

  public async join(connectionId: string, group: string): Promise<Connection> {
    const conn = await this.update(
      connectionId,
      'ADD #groups :g',
      { ':g': new Set([group]) },
      { '#groups': 'groups' },
    );
    await this.putMembership(connectionId, group, conn.expiresAt);
    return conn;
  }

  public async leave(connectionId: string, group: string): Promise<Connection> {
    const conn = await this.update(
      connectionId,
      'DELETE #groups :g',
      { ':g': new Set([group]) },
      { '#groups': 'groups' },
    );
    await this.client.send(
      new DeleteCommand({ TableName: this.table, Key: groupKey(connectionId, group) }),
    );
    return conn;
  }

  public async remove(connectionId: string): Promise<number> {
    const keys: { pk: string; sk: string }[] = [];
    for await (const page of this.pages({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `C#${connectionId}` },
      ProjectionExpression: 'pk, sk',
      ConsistentRead: true,
    })) {
      for (const item of page) keys.push({ pk: String(item.pk), sk: String(item.sk) });
    }
    for (let i = 0; i < keys.length; i += 25) {
      let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      // BatchWrite may hand back unprocessed items under load; retry them until none are left.
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        const out = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.table]: requests } }),
        );
        requests = (out.UnprocessedItems?.[this.table] ?? []) as typeof requests;
        if (attempt > 8 && requests.length > 0) {
          throw new Error(`could not delete ${requests.length} records of ${connectionId}`);
        }
      }
    }
    return keys.length;
  }

  /** Runs a Query page by page (see queryPages), counting what it reads. */
  private async *pages(input: QueryCommandInput): AsyncIterable<Record<string, unknown>[]> {
    for await (const out of queryPages(this.client, input)) {
      this.reads.requests++;
      // ScannedCount: items read before the expiry filter, i.e. what the Query cost.
      this.reads.items += out.ScannedCount ?? out.Count ?? 0;
      yield out.Items ?? [];
    }
  }

  /** Queries one index for the live items under a key. */
  private indexPages(
    index: keyof typeof CONNECTIONS_TABLE.indexes,
    value: string,
    projection: string,
  ): AsyncIterable<Record<string, unknown>[]> {
    const key = CONNECTIONS_TABLE.indexes[index].partitionKey;
    return this.pages({
      TableName: this.table,
      IndexName: index,
      KeyConditionExpression: '#k = :v',
      FilterExpression: 'expiresAt > :now',
      ExpressionAttributeNames: { '#k': key },
      ExpressionAttributeValues: { ':v': value, ':now': this.nowSeconds() },
      ProjectionExpression: projection,
      Limit: this.pageSize,
    });
  }

  public async *recipients(audience: Audience): AsyncIterable<readonly string[]> {
    switch (audience.kind) {
      case 'connection': {
        const conn = await this.get(audience.connectionId);
        if (conn) yield [conn.connectionId];
        return;
      }
      case 'user':
        yield* this.ids(this.indexPages('byUser', audience.userId, 'connectionId'));
        return;
      case 'group':
        yield* this.ids(this.indexPages('byGroup', audience.group, 'connectionId'));
        return;
      case 'clientType':
        yield* this.ids(this.indexPages('byClientType', audience.clientType, 'connectionId'));
        return;
      case 'all':
        yield* mergePages(
          Array.from({ length: BROADCAST_SHARDS }, (_, shard) =>
            this.ids(this.indexPages('byShard', String(shard), 'connectionId')),
          ),
        );
        return;
    }
  }

  private async *ids(pages: AsyncIterable<Record<string, unknown>[]>) {
    for await (const page of pages) {
      if (page.length > 0) yield page.map((item) => String(item.connectionId));
    }
  }

  public async listUser(userId: string): Promise<ConnectionSummary[]> {
    const out: ConnectionSummary[] = [];
    for await (const page of this.indexPages(
      'byUser',
      userId,
      'connectionId, clientType, connectedAt',
    )) {
      for (const item of page) {
        out.push({
          connectionId: String(item.connectionId),
          ...(typeof item.clientType === 'string' ? { clientType: item.clientType } : {}),
          connectedAt: String(item.connectedAt),
        });
      }
    }
    return out;
  }

  public async *everyRecord(): AsyncIterable<
    readonly { connectionId: string; expired: boolean }[]
  > {
    const now = this.nowSeconds();
    for (let shard = 0; shard < BROADCAST_SHARDS; shard++) {
      for await (const page of this.pages({
        TableName: this.table,
        IndexName: 'byShard',
        KeyConditionExpression: '#shard = :s',
        ExpressionAttributeNames: { '#shard': 'shard' },
        ExpressionAttributeValues: { ':s': String(shard) },
        ProjectionExpression: 'connectionId, expiresAt',
        Limit: this.pageSize,
      })) {
        if (page.length === 0) continue;
        yield page.map((item) => ({
          connectionId: String(item.connectionId),
          expired: Number(item.expiresAt) <= now,
        }));
      }
    }
  }

  public async countByClientType(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (let shard = 0; shard < BROADCAST_SHARDS; shard++) {
      for await (const page of this.indexPages('byShard', String(shard), 'clientType')) {
        for (const item of page) {
          const type = typeof item.clientType === 'string' ? item.clientType : 'unregistered';
          counts[type] = (counts[type] ?? 0) + 1;
        }
      }
    }
    return counts;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
