/**
 * The connections table: one definition shared by the CDK stack and the local runtime, so the
 * emulator table and the cloud table can never drift apart.
 *
 * Items (all in one table, partitioned by connection):
 * - connection item: `pk = C#<connectionId>`, `sk = #` with userId, roles, allowedGroups,
 *   clientType (set by `register`), shard, connectedAt, expiresAt.
 * - membership item: `pk = C#<connectionId>`, `sk = G#<group>` with group and expiresAt.
 *
 * Every fan-out is a Query on a global secondary index; nothing ever Scans the table.
 */
export const CONNECTIONS_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  indexes: {
    /** All connections of one user (push to a user, presence). */
    byUser: {
      partitionKey: 'userId',
      sortKey: 'connectionId',
      include: ['clientType', 'connectedAt', 'expiresAt'],
    },
    /** All members of one group (group push). */
    byGroup: { partitionKey: 'group', sortKey: 'connectionId', include: ['expiresAt'] },
    /** All connections registered with one clientType (observers, stats). */
    byClientType: { partitionKey: 'clientType', sortKey: 'connectionId', include: ['expiresAt'] },
    /** Every connection, spread over BROADCAST_SHARDS partitions (broadcast without a hot key). */
    byShard: {
      partitionKey: 'shard',
      sortKey: 'connectionId',
      include: ['clientType', 'expiresAt'],
    },
  },
} as const;

/** Number of `shard` partitions a broadcast Queries; a connection picks one at random. */
export const BROADCAST_SHARDS = 8;

/** Names of the connections table's global secondary indexes. */
export type ConnectionIndexName = keyof typeof CONNECTIONS_TABLE.indexes;

/**
 * API Gateway closes every WebSocket after 2 hours; records live 10 minutes longer so that a
 * late $disconnect still finds them, and then expire. Reads also filter on expiresAt, because
 * DynamoDB's TTL deletion can lag by hours.
 */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;
