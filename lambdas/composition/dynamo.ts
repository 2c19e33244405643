import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoConnectionStore } from '../../src/adapters/dynamodb/connection-store';
import { DynamoMessageStore } from '../../src/adapters/dynamodb/message-store';
import { DynamoStreamLog } from '../../src/adapters/dynamodb/stream-log';
import { DynamoTaskStore } from '../../src/adapters/dynamodb/task-store';
import { DynamoWorkerStore } from '../../src/adapters/dynamodb/worker-store';
import type { HistorySettings } from '../config/stream-config';
import type { Clock } from '../../src/ports/clock';

/**
 * The tables' stores over one document client. Builders take clients and settings and nothing
 * else: the cloud (lambdas/composition/cloud/) passes SDK clients made from the function's
 * environment, the local runtime passes clients pointed at its emulators.
 */

/** What every DynamoDB store is built from. */
export interface DynamoDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly clock: Clock;
}

/**
 * The document client every store shares. Undefined attributes are left out of items (the
 * stores build items with optional fields spread in).
 */
export const buildDocumentClient = (client: DynamoDBClient): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

/** The connections table. */
export const buildConnectionStore = (deps: DynamoDeps, tableName: string): DynamoConnectionStore =>
  new DynamoConnectionStore({ client: deps.doc, tableName, clock: deps.clock });

/** Deadlines of the tasks table's reaper index (defaults in src/tasks/reaper.ts). */
export interface TaskDeadlines {
  readonly queuedDeadlineMs?: number;
  readonly runningDeadlineMs?: number;
}

/** The tasks table. */
export const buildTaskStore = (
  deps: DynamoDeps,
  tableName: string,
  deadlines: TaskDeadlines = {},
): DynamoTaskStore =>
  new DynamoTaskStore({
    client: deps.doc,
    tableName,
    clock: deps.clock,
    ...(deadlines.queuedDeadlineMs !== undefined
      ? { queuedDeadlineMs: deadlines.queuedDeadlineMs }
      : {}),
    ...(deadlines.runningDeadlineMs !== undefined
      ? { runningDeadlineMs: deadlines.runningDeadlineMs }
      : {}),
  });

/** The messages table (deliveries, scheduled messages). */
export const buildMessageStore = (deps: DynamoDeps, tableName: string): DynamoMessageStore =>
  new DynamoMessageStore(deps.doc, tableName, deps.clock);

/** The streams table: the log every pushed frame is appended to (src/streams/). */
export const buildStreamLog = (
  deps: DynamoDeps,
  tableName: string,
  history: HistorySettings,
): DynamoStreamLog =>
  new DynamoStreamLog({
    client: deps.doc,
    table: tableName,
    clock: deps.clock,
    historySeconds: history.historySeconds,
    historySize: history.historySize,
  });

/** Socket workers' capacity, in the connections table (src/adapters/dynamodb/worker-store.ts). */
export const buildWorkerStore = (deps: DynamoDeps, connectionsTable: string): DynamoWorkerStore =>
  new DynamoWorkerStore(deps.doc, connectionsTable, deps.clock);
