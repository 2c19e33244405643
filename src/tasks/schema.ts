/**
 * The tasks table, shared by the CDK stack and the local runtime. One item per task; the
 * byStatus index lets `GET /stats` count tasks per status with Queries. The openByDeadline index
 * is sparse: only open tasks (queued or running) carry `deadlineAt`, so the reaper Queries the
 * open tasks past their deadline, per status, and never reads a finished one (src/tasks/reaper.ts).
 */
export const TASKS_TABLE = {
  partitionKey: 'taskId',
  ttlAttribute: 'expiresAt',
  indexes: {
    byStatus: { partitionKey: 'status', sortKey: 'createdAt', include: ['expiresAt'] },
    openByDeadline: {
      partitionKey: 'status',
      sortKey: 'deadlineAt',
      include: ['taskType', 'reaps'],
    },
  },
} as const;
