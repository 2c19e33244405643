import {
  BatchGetCommand,
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
  LAST_SEEN_REFRESH_SECONDS,
  STALE_AFTER_SECONDS,
  staleAtKey,
} from '../../connections/schema';
import type { ConnectionStore, NewConnection, StaleRecord } from '../../connections/store';

/** Options of {@link DynamoConnectionStore}. */
export interface DynamoConnectionStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly clock: Clock;
  /** Page size of fan-out Queries (default 1000; DynamoDB also stops a page at 1 MB). */
  readonly pageSize?: number;
  /** Picks a broadcast shard for a new connection (default: random). */
  readonly pickShard?: () => number;
  /** Seconds after the last refresh at which a record is stale (default STALE_AFTER_SECONDS). */
  readonly staleAfterSeconds?: number;
  /** `touch` writes at most this often per connection (default LAST_SEEN_REFRESH_SECONDS). */
  readonly refreshSeconds?: number;
  /** Connections whose last refresh this process remembers (default 50,000; oldest forgotten). */
  readonly maxTracked?: number;
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
  private readonly staleAfter: number;
  private readonly refreshSeconds: number;
  private readonly maxTracked: number;
  /**
   * When this process last wrote each connection's last-seen time, oldest first: what keeps a
   * chatty client at one write per refresh interval. Bounded, so it costs nothing per idle
   * connection beyond an entry; a forgotten entry costs one extra write.
   */
  private readonly refreshedAt = new Map<string, number>();

  public constructor(options: DynamoConnectionStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.clock = options.clock;
    this.pageSize = options.pageSize ?? 1000;
    this.pickShard = options.pickShard ?? (() => Math.floor(Math.random() * BROADCAST_SHARDS));
    this.staleAfter = options.staleAfterSeconds ?? STALE_AFTER_SECONDS;
    this.refreshSeconds = options.refreshSeconds ?? LAST_SEEN_REFRESH_SECONDS;
    this.maxTracked = options.maxTracked ?? 50_000;
  }

  private remember(connectionId: string, at: number): void {
    this.refreshedAt.delete(connectionId);
    this.refreshedAt.set(connectionId, at);
    if (this.refreshedAt.size > this.maxTracked) {
      const oldest = this.refreshedAt.keys().next();
      if (!oldest.done) this.refreshedAt.delete(oldest.value);
    }
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  public async add(c: NewConnection): Promise<Connection> {
    const connectedAtS = Math.floor(Date.parse(c.connectedAt) / 1000);
    const expiresAt = connectedAtS + CONNECTION_TTL_SECONDS;
    const item: ConnectionItem & { shard: string; lastSeenAt: number; staleAt: string } = {
      connectionId: c.connectionId,
      userId: c.userId,
      roles: [...c.roles],
      allowedGroups: [...c.allowedGroups],
      connectedAt: c.connectedAt,
      expiresAt,
      shard: String(this.pickShard()),
      lastSeenAt: connectedAtS,
      staleAt: staleAtKey(Math.min(connectedAtS + this.staleAfter, expiresAt)),
    };
    await this.client.send(
      new PutCommand({ TableName: this.table, Item: { ...connKey(c.connectionId), ...item } }),
    );
    this.remember(c.connectionId, connectedAtS);
    return toConnection(item);
  }

  public async touch(
    connectionId: string,
    options: { readonly force?: boolean } = {},
  ): Promise<boolean> {
    const now = this.nowSeconds();
    const last = this.refreshedAt.get(connectionId);
    if (!options.force && last !== undefined && now - last < this.refreshSeconds) return false;
    // Remembered before the write, so a burst of messages makes one write, not one each.
    this.remember(connectionId, now);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: connKey(connectionId),
          // A record past expiresAt is invisible everywhere and left to TTL (and the sweep, once
          // this deadline passes), so the deadline need not be clamped to it.
          UpdateExpression: 'SET lastSeenAt = :now, staleAt = :stale',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':now': now, ':stale': staleAtKey(now + this.staleAfter) },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) {
        this.refreshedAt.delete(connectionId);
        return false;
      }
      throw e;
    }
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

  public async remove(
    connectionId: string,
    options: { readonly unlessConnectedWithinSeconds?: number } = {},
  ): Promise<number> {
    const keys: { pk: string; sk: string }[] = [];
    let connectedAt: string | undefined;
    let registered = false;
    for await (const page of this.pages({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `C#${connectionId}` },
      ProjectionExpression: 'pk, sk, connectedAt, clientType',
      ConsistentRead: true,
    })) {
      for (const item of page) {
        keys.push({ pk: String(item.pk), sk: String(item.sk) });
        if (typeof item.connectedAt === 'string') connectedAt = item.connectedAt;
        if (typeof item.clientType === 'string') registered = true;
      }
    }
    const grace = options.unlessConnectedWithinSeconds;
    // A registered connection has sent a frame, so its $connect has returned: a 410 is final.
    if (grace !== undefined && connectedAt !== undefined && !registered) {
      const ageSeconds = (this.clock.now().getTime() - Date.parse(connectedAt)) / 1000;
      // Still in its $connect, perhaps: a 410 then is not the end of it (the sweep decides later).
      if (ageSeconds < grace) return 0;
    }
    this.refreshedAt.delete(connectionId);
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
    const fresh = await this.freshIds(out.map((c) => c.connectionId));
    return out.filter((c) => fresh.has(c.connectionId));
  }

  /**
   * Which of the connections are before their last-seen deadline. byUser does not project
   * staleAt (adding it would replace a deployed index), and a user has few connections, so
   * presence reads it from the records: one BatchGet per 100.
   */
  private async freshIds(ids: readonly string[]): Promise<Set<string>> {
    const fresh = new Set<string>();
    const now = staleAtKey(this.nowSeconds());
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Record<string, unknown>[] = ids.slice(i, i + 100).map(connKey);
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        const out = await this.client.send(
          new BatchGetCommand({
            RequestItems: {
              [this.table]: { Keys: keys, ProjectionExpression: 'connectionId, staleAt' },
            },
          }),
        );
        const items = out.Responses?.[this.table] ?? [];
        this.reads.requests++;
        this.reads.items += items.length;
        for (const item of items) {
          // Records written before staleAt existed count as fresh until the sweep sees them.
          if (item.staleAt === undefined || String(item.staleAt) > now) {
            fresh.add(String(item.connectionId));
          }
        }
        keys = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
        if (attempt > 8 && keys.length > 0) throw new Error('presence: reads left unprocessed');
      }
    }
    return fresh;
  }

  /** Query pages of the byStaleAt index of one shard, on one side of a deadline. */
  private staleAtPages(
    shard: number,
    side: 'past' | 'before',
    projection: string,
    withinSeconds = 0,
  ): AsyncIterable<Record<string, unknown>[]> {
    const now = this.nowSeconds();
    return this.pages({
      TableName: this.table,
      IndexName: 'byStaleAt',
      KeyConditionExpression:
        side === 'past' ? '#shard = :s AND staleAt <= :t' : '#shard = :s AND staleAt > :t',
      ...(side === 'before' ? { FilterExpression: 'expiresAt > :now' } : {}),
      ExpressionAttributeNames: { '#shard': 'shard' },
      ExpressionAttributeValues: {
        ':s': String(shard),
        ':t': staleAtKey(now + withinSeconds),
        ...(side === 'before' ? { ':now': now } : {}),
      },
      ProjectionExpression: projection,
      Limit: this.pageSize,
    });
  }

  public async *staleRecords(
    options: { readonly withinSeconds?: number } = {},
  ): AsyncIterable<readonly StaleRecord[]> {
    const now = this.nowSeconds();
    const within = Math.max(0, options.withinSeconds ?? 0);
    for (let shard = 0; shard < BROADCAST_SHARDS; shard++) {
      const pages = this.staleAtPages(shard, 'past', 'connectionId, expiresAt', within);
      for await (const page of pages) {
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
      // Only records before their last-seen deadline: a stale one is never counted.
      for await (const page of this.staleAtPages(shard, 'before', 'clientType')) {
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
