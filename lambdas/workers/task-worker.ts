import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Log } from '../../src/ports/log';
import { TASK_QUEUE_SETTINGS } from '../../src/tasks/queues';
import {
  type Delivery,
  handleWork,
  type WorkerPorts,
  type WorkMessage,
  type WorkOutcome,
} from '../../src/tasks/worker';
import { dispatchTask, type SocketWorkerPorts } from '../../src/tasks/socket/socket-workers';
import { lazyHandler } from '../runtime/lazy';
import { readRecord } from '../edge/sqs-record';
import { workMessageSchema } from '../edge/work-message';
import { type Counters, noCounters, powertoolsCounters } from '../runtime/metrics';
import { invocationLog, logger } from '../runtime/logger';
import { idempotencyStore } from '../composition/cloud/idempotency';
import { workerPorts } from '../composition/cloud/workers';
import { socketWorkerPorts } from '../composition/cloud/socket-workers';

/** Ports of the task worker. */
export interface TaskWorkerPorts {
  readonly worker: WorkerPorts;
  /** Where Powertools Idempotency keeps its records (the idempotency table). */
  readonly idempotencyStore: BasePersistenceLayer;
  readonly log: Log;
  readonly maxReceiveCount?: number;
  /** Time a run may take when there is no Lambda context (local runtime). */
  readonly defaultTimeoutMs?: number;
  /** Task outcomes, counted as Task<Outcome> (TaskSucceeded, TaskCancelled, TaskNotified, …). */
  readonly counters?: Counters;
  /**
   * How long a task may stay `running` before the reaper takes it for stuck (default: the run's
   * budget plus one visibility timeout, when SQS has surely redelivered or dead-lettered it).
   */
  readonly runningDeadlineMs?: number;
  /**
   * Socket workers: a task of a type placed `websocket` or `auto` is offered to one first
   * (src/tasks/socket/socket-workers.ts); without it every task runs here.
   */
  readonly socket?: (log: Log) => SocketWorkerPorts;
}

/** How long before the Lambda's own deadline a run is told to stop. */
const DEADLINE_MARGIN_MS = 3000;

/**
 * The SQS worker of a task queue: each record is one task (or its chat notification). Records
 * are processed with Powertools Batch, so one failing record is retried alone; task runs are
 * wrapped in Powertools Idempotency keyed on the task id, so a redelivered message neither runs
 * the task twice nor sends its results twice.
 *
 * Everything that belongs to one batch (the batch processor, the idempotency config holding the
 * invocation's Lambda context, the run deadline) is made per invocation: a handler invoked for
 * two batches at once keeps them apart.
 */
export function createTaskWorkerHandler(ports: TaskWorkerPorts) {
  const counters = ports.counters ?? noCounters;
  const maxReceiveCount = ports.maxReceiveCount ?? TASK_QUEUE_SETTINGS.maxReceiveCount;

  /** The idempotent run of one invocation, registered with that invocation's context. */
  const idempotentRun = (context: Context | undefined) => {
    const config = new IdempotencyConfig({
      eventKeyJmesPath: 'taskId',
      // Long enough to cover every redelivery SQS may make of a message.
      expiresAfterSeconds: 24 * 60 * 60,
    });
    // The in-progress record then expires with this invocation, so a worker that died frees its
    // task for the next delivery (or the reaper's) once its own deadline is past.
    if (context) config.registerLambdaContext(context);
    return makeIdempotent(
      // The worker ports come last: they carry the record's log; only the message is hashed.
      async (message: WorkMessage, delivery: Delivery, worker: WorkerPorts): Promise<WorkOutcome> =>
        handleWork(worker, message, delivery),
      { persistenceStore: ports.idempotencyStore, config, dataIndexArgument: 0 },
    );
  };

  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const budget = context
      ? Math.max(1000, context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS)
      : (ports.defaultTimeoutMs ?? 60_000);
    const signal = AbortSignal.timeout(budget);
    // Past this, the run is surely over and SQS has redelivered its message (which starts a new
    // deadline) or dead-lettered it: a task still `running` then is stuck, for the reaper.
    const runningDeadlineMs =
      ports.runningDeadlineMs ??
      (budget + DEADLINE_MARGIN_MS) * (TASK_QUEUE_SETTINGS.visibilityFactor + 1);
    const runOnce = idempotentRun(context);
    const processor = new BatchProcessor(EventType.SQS);
    const onRecord = async (record: SQSRecord) => {
      const message = readRecord(record, workMessageSchema);
      // Every line about this record, the domain's included, names its task.
      const log = invocationLog(ports.log, context, {
        taskId: message.taskId,
        taskType: message.taskType,
        messageId: record.messageId,
      });
      if (message.kind !== 'notify' && ports.socket) {
        // Not under idempotency: the lease is its own guard, and a task taken back from a
        // worker must be offered (or run here) again under the same task id.
        const placed = await dispatchTask(ports.socket(log), message);
        if (placed !== 'lambda') {
          log.debug('record dispatched', { taskId: message.taskId, placed });
          counters.count(`Task${placed.charAt(0).toUpperCase()}${placed.slice(1)}`);
          return;
        }
      }
      const worker: WorkerPorts = { ...ports.worker, log };
      const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
      const delivery: Delivery = { receiveCount, maxReceiveCount, signal, runningDeadlineMs };
      // Notifications repeat on purpose (rate limits), so only runs go through idempotency.
      const outcome =
        message.kind === 'notify'
          ? await handleWork(worker, message, delivery)
          : await runOnce(message, delivery, worker);
      log.debug('record handled', {
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
  createTaskWorkerHandler({
    worker: workerPorts(),
    idempotencyStore: idempotencyStore(),
    log: logger,
    counters: powertoolsCounters(),
    socket: socketWorkerPorts,
  }),
);
