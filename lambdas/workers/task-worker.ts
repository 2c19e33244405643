import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import type { Log } from '../../src/ports/log';
import { TASK_QUEUE_SETTINGS } from '../../src/tasks/queues';
import {
  handleWork,
  type WorkerPorts,
  type WorkMessage,
  type WorkOutcome,
} from '../../src/tasks/worker';
import { lazyHandler } from '../shared/lazy';
import { readRecord } from '../shared/sqs-record';
import { type Counters, noCounters, powertoolsCounters } from '../shared/metrics';
import { cloudTaskWorkerPorts } from '../shared/workers';

/** A task-queue message body. */
export const workMessageSchema = z.object({
  taskId: z.string().min(1).max(128),
  taskType: z.string().min(1).max(64),
  kind: z.enum(['run', 'notify']).optional(),
  attempt: z.number().int().min(0).max(1000).optional(),
});

/** Ports of the task worker. */
export interface TaskWorkerPorts {
  readonly worker: WorkerPorts;
  /** Where Powertools Idempotency keeps its records (the idempotency table). */
  readonly idempotencyStore: BasePersistenceLayer;
  readonly log: Log;
  readonly maxReceiveCount?: number;
  /** Time a run may take when there is no Lambda context (local runtime). */
  readonly defaultTimeoutMs?: number;
  /** Task outcomes counted as TaskSucceeded, TaskFailed, TaskSkipped, TaskNotified. */
  readonly counters?: Counters;
}

/** How long before the Lambda's own deadline a run is told to stop. */
const DEADLINE_MARGIN_MS = 3000;

/**
 * The SQS worker of a task queue: each record is one task (or its chat notification). Records
 * are processed with Powertools Batch, so one failing record is retried alone; task runs are
 * wrapped in Powertools Idempotency keyed on the task id, so a redelivered message neither runs
 * the task twice nor sends its results twice.
 */
export function createTaskWorkerHandler(ports: TaskWorkerPorts) {
  const processor = new BatchProcessor(EventType.SQS);
  const counters = ports.counters ?? noCounters;
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'taskId',
    // Long enough to cover every redelivery SQS may make of a message.
    expiresAfterSeconds: 24 * 60 * 60,
  });
  const maxReceiveCount = ports.maxReceiveCount ?? TASK_QUEUE_SETTINGS.maxReceiveCount;

  const runOnce = makeIdempotent(
    async (message: WorkMessage, receiveCount: number, signal: AbortSignal): Promise<WorkOutcome> =>
      handleWork(ports.worker, message, { receiveCount, maxReceiveCount, signal }),
    { persistenceStore: ports.idempotencyStore, config, dataIndexArgument: 0 },
  );

  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    if (context) config.registerLambdaContext(context);
    const budget = context
      ? Math.max(1000, context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS)
      : (ports.defaultTimeoutMs ?? 60_000);
    const signal = AbortSignal.timeout(budget);
    const onRecord = async (record: SQSRecord) => {
      const message = readRecord(record, workMessageSchema);
      const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
      // Notifications repeat on purpose (rate limits), so only runs go through idempotency.
      const outcome =
        message.kind === 'notify'
          ? await handleWork(ports.worker, message, { receiveCount, maxReceiveCount, signal })
          : await runOnce(message, receiveCount, signal);
      ports.log.debug('record handled', {
        taskId: message.taskId,
        outcome,
        messageId: record.messageId,
      });
      counters.count(`Task${outcome.charAt(0).toUpperCase()}${outcome.slice(1)}`);
    };
    try {
      return await processPartialResponse(
        event,
        onRecord,
        processor,
        context ? { context } : undefined,
      );
    } finally {
      counters.flush();
    }
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createTaskWorkerHandler({ ...cloudTaskWorkerPorts(), counters: powertoolsCounters() }),
);
