/**
 * The attributes of a task record that the listByUser index projects (everything of a task but
 * its keys): `GET /tasks?userId=` answers from the index alone, with no read of the table per
 * task, and the store's own bookkeeping (enqueue claim, deadline, reaps) stays out of it.
 */
export const TASK_LIST_ATTRIBUTES = [
  'taskType',
  'args',
  'status',
  'source',
  'requester',
  'parentTaskId',
  'updatedAt',
  'expiresAt',
  'enqueuedAt',
  'progress',
  'result',
  'error',
] as const;

/**
 * The tasks table, shared by the CDK stack and the local runtime. One item per task; the
 * byStatus index lets `GET /stats` count tasks per status with Queries, and `GET /tasks?status=`
 * list them newest first. The openByDeadline index is sparse: only open tasks (queued or
 * running) carry `deadlineAt`, so the reaper Queries the open tasks past their deadline, per
 * status, and never reads a finished one (src/tasks/reaper.ts). The listByUser index is sparse
 * too: only tasks asked for a Taskwire user carry `ownerUserId` (a copy of `requester.userId`,
 * which an index cannot key on); `GET /tasks?userId=` reads it newest first.
 * CloudFormation adds at most one index to a table per update: add one index per release.
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
    listByUser: {
      partitionKey: 'ownerUserId',
      sortKey: 'createdAt',
      include: TASK_LIST_ATTRIBUTES,
    },
  },
} as const;
