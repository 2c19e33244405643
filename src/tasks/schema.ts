/**
 * The tasks table, shared by the CDK stack and the local runtime. One item per task; the
 * byStatus index lets `GET /stats` count tasks per status with Queries.
 */
export const TASKS_TABLE = {
  partitionKey: 'taskId',
  ttlAttribute: 'expiresAt',
  indexes: {
    byStatus: { partitionKey: 'status', sortKey: 'createdAt', include: ['expiresAt'] },
  },
} as const;
