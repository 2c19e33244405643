import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, queryPages, updateIfAllowed } from './document';
import type { Clock } from '../../ports/clock';
import {
  type OpenStatus,
  type OpenTask,
  QUEUED_DEADLINE_MS,
  type ReaperStore,
  RUNNING_DEADLINE_MS,
} from '../../tasks/reaper';
import { isTerminal, TASK_STATUSES, type Task, type TaskStatus } from '../../tasks/task';
import type { LeasedEnd, LeaseStore, LeaseTerms } from '../../tasks/socket/lease-store';
import type {
  CreateResult,
  TaskChange,
  TaskListPage,
  TaskListPosition,
  TaskListQuery,
  TaskStore,
} from '../../tasks/task-store';

/** The statuses a task may move to each status from: forwards only. */
const ALLOWED_FROM: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  queued: [],
  running: ['queued', 'running'],
  succeeded: ['queued', 'running'],
  failed: ['queued', 'running'],
  cancelled: ['queued', 'running'],
};

/** Options of {@link DynamoTaskStore}. */
export interface DynamoTaskStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly clock: Clock;
  /** Deadline of a new task, from its creation (default {@link QUEUED_DEADLINE_MS}). */
  readonly queuedDeadlineMs?: number;
  /**
   * Deadline of a task that starts running when the worker gives none (default
   * {@link RUNNING_DEADLINE_MS}).
   */
  readonly runningDeadlineMs?: number;
}

/** The reaper's index: open tasks by status and deadline (src/tasks/schema.ts). */
const OPEN_INDEX = 'openByDeadline';
/** Tasks by status, newest last (keys and expiry only). */
const STATUS_INDEX = 'byStatus';
/** A user's tasks, newest last, with every task attribute (sparse: `ownerUserId`). */
const USER_INDEX = 'listByUser';
/** Round trips one listing makes at most; a page cut short there still carries its cursor. */
const MAX_LIST_QUERIES = 10;
/** Items a filtered Query evaluates per round trip. */
const FILTERED_PAGE = 100;

/**
 * Attributes kept on the item for the store's own bookkeeping, not part of {@link Task}: the
 * enqueue claim, and the reaper's deadline (present only while the task is open, which is what
 * makes its index sparse) and re-queue count.
 */
const INTERNAL = ['enqueueClaimAt', 'deadlineAt', 'reaps', 'ownerUserId'] as const;

function toTask(item: Record<string, unknown>): Task {
  const copy = { ...item };
  for (const k of INTERNAL) delete copy[k];
  return copy as unknown as Task;
}

/** Tasks on DynamoDB (or dynalite): one item per task, keyed by taskId. */
export class DynamoTaskStore implements TaskStore, ReaperStore, LeaseStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly clock: Clock;
  private readonly queuedDeadlineMs: number;
  private readonly runningDeadlineMs: number;

  public constructor(options: DynamoTaskStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.clock = options.clock;
    this.queuedDeadlineMs = options.queuedDeadlineMs ?? QUEUED_DEADLINE_MS;
    this.runningDeadlineMs = options.runningDeadlineMs ?? RUNNING_DEADLINE_MS;
  }

  /** ISO time `ms` from now. */
  private after(ms: number): string {
    return new Date(this.clock.now().getTime() + ms).toISOString();
  }

  public async create(task: Task): Promise<CreateResult> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          // The creator holds the enqueue claim from the start, so a concurrent duplicate
          // that loses the race cannot enqueue a second message.
          // The deadline puts the task in the reaper's index until it ends: a task whose message
          // is lost (a send that fails after this write) is queued again from there.
          Item: {
            ...task,
            enqueueClaimAt: this.clock.now().getTime(),
            // listByUser keys on a top-level copy of the requester's user id.
            ...(task.requester.userId !== undefined ? { ownerUserId: task.requester.userId } : {}),
            ...(isTerminal(task.status) ? {} : { deadlineAt: this.after(this.queuedDeadlineMs) }),
          },
          ConditionExpression: 'attribute_not_exists(taskId)',
        }),
      );
      return { task, created: true };
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const existing = await this.get(task.taskId);
      if (!existing) throw new Error(`task ${task.taskId} exists but cannot be read`, { cause: e });
      return { task: existing, created: false };
    }
  }

  public async get(taskId: string): Promise<Task | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.table, Key: { taskId }, ConsistentRead: true }),
    );
    return out.Item ? toTask(out.Item) : undefined;
  }

  public async claimEnqueue(taskId: string, staleAfterMs: number): Promise<boolean> {
    const now = this.clock.now().getTime();
    const claimed = await updateIfAllowed(this.client, {
      TableName: this.table,
      Key: { taskId },
      UpdateExpression: 'SET enqueueClaimAt = :now',
      ConditionExpression:
        'attribute_exists(taskId) AND attribute_not_exists(enqueuedAt) AND #s = :queued AND ' +
        '(attribute_not_exists(enqueueClaimAt) OR enqueueClaimAt < :stale)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':now': now, ':stale': now - staleAfterMs, ':queued': 'queued' },
    });
    return claimed !== undefined;
  }

  public async markEnqueued(taskId: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { taskId },
        UpdateExpression: 'SET enqueuedAt = if_not_exists(enqueuedAt, :now)',
        ConditionExpression: 'attribute_exists(taskId)',
        ExpressionAttributeValues: { ':now': this.clock.now().toISOString() },
      }),
    );
  }

  public async transition(taskId: string, change: TaskChange): Promise<Task | undefined> {
    const from = ALLOWED_FROM[change.to];
    if (from.length === 0) return undefined;
    const sets = ['#s = :to', 'updatedAt = :now'];
    const names: Record<string, string> = { '#s': 'status' };
    const values: Record<string, unknown> = {
      ':to': change.to,
      ':now': this.clock.now().toISOString(),
    };
    from.forEach((s, i) => (values[`:f${i}`] = s));
    for (const field of ['progress', 'result', 'error'] as const) {
      if (change[field] === undefined) continue;
      sets.push(`#${field} = :${field}`);
      names[`#${field}`] = field;
      values[`:${field}`] = change[field];
    }
    // An open task keeps a deadline (each run starts a new one); a finished one leaves the
    // reaper's index.
    if (!isTerminal(change.to)) {
      sets.push('deadlineAt = :deadline');
      values[':deadline'] = change.deadlineAt ?? this.after(this.runningDeadlineMs);
    }
    const item = await updateIfAllowed(this.client, {
      TableName: this.table,
      Key: { taskId },
      UpdateExpression: `SET ${sets.join(', ')}${isTerminal(change.to) ? ' REMOVE deadlineAt' : ''}`,
      ConditionExpression: `attribute_exists(taskId) AND #s IN (${from.map((_, i) => `:f${i}`).join(', ')})`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    return item ? toTask(item) : undefined;
  }

  public async setProgress(taskId: string, progress: number): Promise<Task | undefined> {
    const item = await updateIfAllowed(this.client, {
      TableName: this.table,
      Key: { taskId },
      UpdateExpression: 'SET progress = :p, updatedAt = :now',
      ConditionExpression: '#s = :running',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':p': progress,
        ':now': this.clock.now().toISOString(),
        ':running': 'running',
      },
    });
    return item ? toTask(item) : undefined;
  }

  public async stillRunning(taskId: string): Promise<boolean> {
    const item = await updateIfAllowed(this.client, {
      TableName: this.table,
      Key: { taskId },
      UpdateExpression: 'SET updatedAt = :now',
      ConditionExpression: '#s = :running',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':now': this.clock.now().toISOString(), ':running': 'running' },
    });
    return item !== undefined;
  }

  /**
   * Queries listByUser (a user; a status is then a filter) or byStatus (a status alone; the
   * records are then read with one BatchGetItem per page), newest first, skipping expired
   * records. A page stops at `limit` tasks or after {@link MAX_LIST_QUERIES} round trips.
   */
  public async list(query: TaskListQuery): Promise<TaskListPage> {
    const byUser = query.userId !== undefined;
    if (!byUser && query.status === undefined) throw new Error('list needs a userId or a status');
    const partition = byUser
      ? { name: 'ownerUserId', value: query.userId }
      : { name: 'status', value: query.status };
    const filtered = byUser && query.status !== undefined;
    const names: Record<string, string> = { '#pk': partition.name };
    const values: Record<string, unknown> = {
      ':pk': partition.value,
      ':now': Math.floor(this.clock.now().getTime() / 1000),
    };
    if (filtered) {
      names['#s'] = 'status';
      values[':s'] = query.status;
    }
    const keyOf = (p: TaskListPosition) => ({
      taskId: p.taskId,
      createdAt: p.createdAt,
      [partition.name]: partition.value,
    });
    const positionOf = (item: Record<string, unknown>): TaskListPosition => ({
      taskId: String(item.taskId),
      createdAt: String(item.createdAt),
    });

    const found: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined = query.after && keyOf(query.after);
    let next: TaskListPosition | undefined;
    for (let round = 0; round < MAX_LIST_QUERIES; round++) {
      const remaining = query.limit - found.length;
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: byUser ? USER_INDEX : STATUS_INDEX,
          KeyConditionExpression: '#pk = :pk',
          FilterExpression: `expiresAt > :now${filtered ? ' AND #s = :s' : ''}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          // A filter drops items after the Limit counted them: read more than needed, and
          // resume after the last item taken rather than after the page.
          Limit: filtered ? FILTERED_PAGE : remaining,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      const items = out.Items ?? [];
      const taken = items.slice(0, remaining);
      found.push(...taken);
      const last = taken.at(-1);
      if (taken.length < items.length && last) {
        next = positionOf(last);
        break;
      }
      if (!out.LastEvaluatedKey) {
        next = undefined;
        break;
      }
      next = positionOf(out.LastEvaluatedKey);
      if (found.length >= query.limit) break;
      startKey = out.LastEvaluatedKey;
    }
    const tasks = byUser ? found.map(toTask) : await this.readAll(found, query.status);
    return { tasks, ...(next ? { next } : {}) };
  }

  /**
   * The records of index entries, in their order. A task that changed status since its entry
   * was indexed is left out: it is listed under its new status.
   */
  private async readAll(
    entries: readonly Record<string, unknown>[],
    status: TaskStatus | undefined,
  ): Promise<Task[]> {
    if (entries.length === 0) return [];
    const byId = new Map<string, Record<string, unknown>>();
    let keys: Record<string, unknown>[] = entries.map((e) => ({ taskId: e.taskId }));
    for (let tries = 0; keys.length > 0 && tries < 5; tries++) {
      const out = await this.client.send(
        new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys } } }),
      );
      for (const item of out.Responses?.[this.table] ?? []) byId.set(String(item.taskId), item);
      keys = out.UnprocessedKeys?.[this.table]?.Keys ?? [];
    }
    if (keys.length > 0) throw new Error(`could not read ${keys.length} listed tasks`);
    return entries.flatMap((e) => {
      const item = byId.get(String(e.taskId));
      return item && (status === undefined || item.status === status) ? [toTask(item)] : [];
    });
  }

  public async countByStatus(): Promise<Record<TaskStatus, number>> {
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    const entries = await Promise.all(
      TASK_STATUSES.map(async (status) => {
        let count = 0;
        for await (const page of queryPages(this.client, {
          TableName: this.table,
          IndexName: 'byStatus',
          KeyConditionExpression: '#s = :s',
          FilterExpression: 'expiresAt > :now',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': status, ':now': nowSeconds },
          Select: 'COUNT',
        })) {
          count += page.Count ?? 0;
        }
        return [status, count] as const;
      }),
    );
    return Object.fromEntries(entries) as Record<TaskStatus, number>;
  }

  public async overdue(status: OpenStatus, before: string, limit: number): Promise<OpenTask[]> {
    const out: OpenTask[] = [];
    for await (const page of queryPages(this.client, {
      TableName: this.table,
      IndexName: OPEN_INDEX,
      KeyConditionExpression: '#s = :s AND deadlineAt <= :before',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': status, ':before': before },
      Limit: Math.min(limit, 1000),
    })) {
      for (const item of page.Items ?? []) {
        out.push({
          taskId: String(item.taskId),
          taskType: String(item.taskType),
          status,
          deadlineAt: String(item.deadlineAt),
          reaps: typeof item.reaps === 'number' ? item.reaps : 0,
        });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  public async claimReap(task: OpenTask, nextDeadlineAt: string, countReap: boolean) {
    const claimed = await updateIfAllowed(this.client, {
      TableName: this.table,
      Key: { taskId: task.taskId },
      UpdateExpression: `SET deadlineAt = :next${countReap ? ' ADD reaps :one' : ''}`,
      ConditionExpression: '#s = :s AND deadlineAt = :seen',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':next': nextDeadlineAt,
        ':s': task.status,
        ':seen': task.deadlineAt,
        ...(countReap ? { ':one': 1 } : {}),
      },
    });
    return claimed !== undefined;
  }

  public async failOverdue(task: OpenTask, error: string): Promise<Task | undefined> {
    const item = await updateIfAllowed(this.client, {
      TableName: this.table,
      Key: { taskId: task.taskId },
      UpdateExpression: 'SET #s = :failed, #e = :error, updatedAt = :now REMOVE deadlineAt',
      ConditionExpression: '#s = :s AND deadlineAt = :seen',
      ExpressionAttributeNames: { '#s': 'status', '#e': 'error' },
      ExpressionAttributeValues: {
        ':failed': 'failed',
        ':error': error,
        ':now': this.clock.now().toISOString(),
        ':s': task.status,
        ':seen': task.deadlineAt,
      },
    });
    return item ? toTask(item) : undefined;
  }

  /* Leases of socket workers (src/tasks/socket/lease-store.ts): each one conditional write. */

  public async takeLease(
    taskId: string,
    previousAttempt: number,
    terms: LeaseTerms,
  ): Promise<Task | undefined> {
    const item = await updateIfAllowed(this.client, {
      TableName: this.table,
      Key: { taskId },
      // The lease's expiry is the reaper's deadline too: the sweep finds it in openByDeadline.
      UpdateExpression:
        'SET #s = :running, workerConnectionId = :c, leaseExpiresAt = :l, attempt = :a, ' +
        'deadlineAt = :l, updatedAt = :now',
      ConditionExpression:
        '#s = :queued AND (attempt = :prev OR (attribute_not_exists(attempt) AND :prev = :zero))',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':running': 'running',
        ':queued': 'queued',
        ':c': terms.connectionId,
        ':l': terms.leaseExpiresAt,
        ':a': terms.attempt,
        ':prev': previousAttempt,
        ':zero': 0,
        ':now': this.clock.now().toISOString(),
      },
    });
    return item ? toTask(item) : undefined;
  }

  public async renewLease(
    taskId: string,
    connectionId: string,
    now: string,
    leaseExpiresAt: string,
    progress?: number,
    note?: string,
  ): Promise<Task | undefined> {
    const sets = ['leaseExpiresAt = :l', 'deadlineAt = :l', 'updatedAt = :now'];
    if (progress !== undefined) sets.push('progress = :p');
    // Named through #n: a worker's free text, kept clear of DynamoDB's reserved words.
    if (note !== undefined) sets.push('#n = :n');
    const item = await updateIfAllowed(this.client, {
      TableName: this.table,
      Key: { taskId },
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: '#s = :running AND workerConnectionId = :c AND leaseExpiresAt > :now',
      ExpressionAttributeNames: { '#s': 'status', ...(note !== undefined ? { '#n': 'note' } : {}) },
      ExpressionAttributeValues: {
        ':running': 'running',
        ':c': connectionId,
        ':l': leaseExpiresAt,
        ':now': now,
        ...(progress !== undefined ? { ':p': progress } : {}),
        ...(note !== undefined ? { ':n': note } : {}),
      },
    });
    return item ? toTask(item) : undefined;
  }

  public async endLeased(
    taskId: string,
    connectionId: string,
    now: string,
    end: LeasedEnd,
  ): Promise<Task | undefined> {
    const names: Record<string, string> = { '#s': 'status' };
    const values: Record<string, unknown> = {
      ':to': end.to,
      ':running': 'running',
      ':c': connectionId,
      ':now': now,
    };
    const sets = ['#s = :to', 'updatedAt = :now'];
    for (const field of ['result', 'error'] as const) {
      if (end[field] === undefined) continue;
      sets.push(`#${field} = :${field}`);
      names[`#${field}`] = field;
      values[`:${field}`] = end[field];
    }
    const item = await updateIfAllowed(this.client, {
      TableName: this.table,
      Key: { taskId },
      UpdateExpression: `SET ${sets.join(', ')} REMOVE deadlineAt`,
      ConditionExpression: '#s = :running AND workerConnectionId = :c AND leaseExpiresAt > :now',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    return item ? toTask(item) : undefined;
  }

  public async releaseLease(
    taskId: string,
    connectionId: string,
    attempt: number,
    nextAttempt: number,
    deadlineAt: string,
  ): Promise<Task | undefined> {
    const item = await updateIfAllowed(this.client, {
      TableName: this.table,
      Key: { taskId },
      UpdateExpression:
        'SET #s = :queued, attempt = :next, deadlineAt = :d, updatedAt = :now ' +
        'REMOVE workerConnectionId, leaseExpiresAt',
      ConditionExpression: '#s = :running AND workerConnectionId = :c AND attempt = :a',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':queued': 'queued',
        ':running': 'running',
        ':c': connectionId,
        ':a': attempt,
        ':next': nextAttempt,
        ':d': deadlineAt,
        ':now': this.clock.now().toISOString(),
      },
    });
    return item ? toTask(item) : undefined;
  }

  public async failLeased(
    taskId: string,
    connectionId: string,
    attempt: number,
    error: string,
  ): Promise<Task | undefined> {
    const item = await updateIfAllowed(this.client, {
      TableName: this.table,
      Key: { taskId },
      UpdateExpression: 'SET #s = :failed, #e = :error, updatedAt = :now REMOVE deadlineAt',
      ConditionExpression: '#s = :running AND workerConnectionId = :c AND attempt = :a',
      ExpressionAttributeNames: { '#s': 'status', '#e': 'error' },
      ExpressionAttributeValues: {
        ':failed': 'failed',
        ':running': 'running',
        ':c': connectionId,
        ':a': attempt,
        ':error': error,
        ':now': this.clock.now().toISOString(),
      },
    });
    return item ? toTask(item) : undefined;
  }
}
