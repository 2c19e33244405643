import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ChatNotifier, WECOM_WEBHOOK_HOSTS } from '../../src/chat/chat-notifier';
import { DynamoRateLimiter } from '../../src/chat/dynamo-rate-limiter';
import { systemClock } from '../../src/ports/clock';
import type { Log } from '../../src/ports/log';
import { frameFactory } from '../../src/push/frames';
import { DynamoTaskStore } from '../../src/tasks/dynamo-task-store';
import {
  reapTasks,
  type ReapOptions,
  type ReaperPorts,
  type ReapReport,
} from '../../src/tasks/reaper';
import { SqsTaskQueue, type TaskQueue } from '../../src/tasks/task-queue';
import type { Task } from '../../src/tasks/task';
import { publishTaskUpdate, type TaskUpdatePorts } from '../../src/tasks/updates';
import { notifyChat, type ChatPorts } from '../../src/tasks/chat-notify';
import { ENV } from '../env';
import { connectionStore, documentClient, pusher } from '../shared/aws';
import { ConfigError, requireEnv } from '../shared/config';
import { lazyHandler } from '../shared/lazy';
import { logger } from '../shared/logger';
import { type Counters, noCounters, powertoolsCounters } from '../shared/metrics';
import { sqsClient } from '../shared/tasks';

/** Ports of the task reaper. */
export interface TaskReaperPorts {
  readonly reaper: ReaperPorts;
  readonly log: Log;
  /** Counted per run: TasksReaped (re-queued) and TasksReapedFailed. */
  readonly counters?: Counters;
  /** Deadlines and limits of a run (defaults in src/tasks/reaper.ts). */
  readonly options?: ReapOptions;
}

/**
 * Runs every minute (EventBridge): re-queues tasks still queued or running past their deadline
 * and fails those that were re-queued too often, so no accepted task is stranded.
 */
export function createTaskReaperHandler(ports: TaskReaperPorts) {
  const counters = ports.counters ?? noCounters;
  return async (): Promise<ReapReport> => {
    try {
      const report = await reapTasks(ports.reaper, ports.options);
      counters.count('TasksReaped', report.requeued);
      counters.count('TasksReapedFailed', report.failed);
      if (report.requeued + report.failed + report.errors > 0) {
        ports.log.warn('reaper run', { ...report });
      }
      return report;
    } finally {
      counters.flush();
    }
  };
}

/** What announcing a failed task needs: its audience, and its chat. */
export interface AnnouncePorts extends ChatPorts {
  readonly updates: TaskUpdatePorts;
}

/** Tells a task's audience and its chat about its current state (the reaper's `announce`). */
export function announcer(ports: AnnouncePorts): (task: Task) => Promise<void> {
  return async (task) => {
    await publishTaskUpdate(ports.updates, task);
    await notifyChat(ports, task);
  };
}

const queuesSchema = z.record(z.string(), z.url());

/** TASK_QUEUES: task type → queue URL. @throws ConfigError when missing or malformed. */
function taskQueues(env: NodeJS.ProcessEnv): Record<string, string> {
  const raw = requireEnv(env, ENV.taskQueues);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError(`setting ${ENV.taskQueues} is not valid JSON`);
  }
  const parsed = queuesSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(`setting ${ENV.taskQueues}: not type → URL`);
  return parsed.data;
}

/** The reaper's ports in Lambda: the tasks table, the task queues, pushes and the chat. */
function cloudReaperPorts(): ReaperPorts {
  const tasksTable = requireEnv(process.env, ENV.tasksTable);
  const queue: TaskQueue = new SqsTaskQueue(sqsClient(), taskQueues(process.env));
  const webhookHosts = process.env[ENV.wecomWebhookHosts]
    ?.split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const defaultWebhookUrl = process.env[ENV.wecomWebhookUrl];
  const chat = new ChatNotifier({
    fetch,
    limiter: new DynamoRateLimiter(documentClient(), tasksTable, systemClock),
    log: logger,
    allowedHosts: webhookHosts?.length ? webhookHosts : WECOM_WEBHOOK_HOSTS,
    ...(defaultWebhookUrl ? { defaultWebhookUrl } : {}),
  });
  return {
    tasks: new DynamoTaskStore({
      client: documentClient(),
      tableName: tasksTable,
      clock: systemClock,
    }),
    queue,
    announce: announcer({
      updates: {
        pusher: pusher(),
        store: connectionStore(),
        frames: frameFactory(systemClock, randomUUID),
      },
      chat,
      requeueNotify: (task, delaySeconds, attempt) =>
        queue.enqueue(
          { taskId: task.taskId, taskType: task.taskType, kind: 'notify', attempt },
          { delaySeconds },
        ),
      log: logger,
    }),
    clock: systemClock,
    log: logger,
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createTaskReaperHandler({
    reaper: cloudReaperPorts(),
    log: logger,
    counters: powertoolsCounters(),
  }),
);
