/**
 * The messages table (shared by the stack and the local runtime): async fan-out deliveries and
 * scheduled messages, one item each. Scheduled messages sit in the byDue index under the minute
 * they are due, so the sweep Queries a few minute buckets and never Scans.
 */
export const MESSAGES_TABLE = {
  partitionKey: 'id',
  ttlAttribute: 'expiresAt',
  indexes: {
    byDue: { partitionKey: 'dueMinute', sortKey: 'sendAt', include: ['state'] },
  },
} as const;
