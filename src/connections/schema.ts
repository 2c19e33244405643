/**
 * The connections table: one definition shared by the CDK stack and the local runtime, so the
 * emulator table and the cloud table can never drift apart.
 *
 * Items (all in one table, partitioned by connection):
 * - connection item: `pk = C#<connectionId>`, `sk = #` with userId, roles, allowedGroups,
 *   clientType (set by `register`), shard, connectedAt, expiresAt, lastSeenAt (epoch seconds of
 *   the last refresh by the client's traffic) and staleAt (the last-seen deadline, see
 *   {@link staleAtKey}).
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
    /**
     * Connection records by last-seen deadline, per broadcast shard: the sweep reads only the
     * records past it (`staleAt <= now`), stats only those before it. Membership items carry no
     * staleAt, so they are not in it.
     */
    byStaleAt: {
      partitionKey: 'shard',
      sortKey: 'staleAt',
      include: ['connectionId', 'clientType', 'expiresAt'],
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

/**
 * API Gateway closes a connection that sent nothing for 10 minutes. Every client message
 * refreshes the record's last-seen time, at most once per {@link LAST_SEEN_REFRESH_SECONDS}, so a
 * live connection's record is never older than the idle timeout plus one refresh interval: past
 * that deadline the record is stale (its $disconnect was lost) or the client is silent, which
 * the sweep tells apart with GetConnection.
 */
export const IDLE_TIMEOUT_SECONDS = 10 * 60;

/** A connection's messages refresh its last-seen time at most this often (bounded writes). */
export const LAST_SEEN_REFRESH_SECONDS = 60;

/** Seconds after the last refresh at which a record counts as stale. */
export const STALE_AFTER_SECONDS = IDLE_TIMEOUT_SECONDS + LAST_SEEN_REFRESH_SECONDS;

/**
 * The `staleAt` sort key of the byStaleAt index: epoch seconds, zero-padded to 10 digits, since
 * every key of the table is a string and must sort as the number does.
 */
export const staleAtKey = (epochSeconds: number): string =>
  String(Math.max(0, Math.floor(epochSeconds))).padStart(10, '0');

/**
 * How long a connection may be in its `$connect` (API Gateway's 29-second integration timeout,
 * rounded up). A post to it answers 410 until `$connect` has returned, so a 410 for a record
 * younger than this does not mean the connection is gone.
 */
export const CONNECT_GRACE_SECONDS = 30;
