import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Log } from '../../src/ports/log';
import { TASK_QUEUE_SETTINGS } from '../../src/tasks/queues';
import { failFromDeadLetter, type FinishPorts } from '../../src/tasks/worker';
import { lazyHandler } from '../runtime/lazy';
import { tryReadRecord } from '../edge/sqs-record';
import { deadLetterPorts } from '../composition/cloud/workers';
import { invocationLog, logger } from '../runtime/logger';
import { workMessageSchema } from '../edge/work-message';

/** Ports of the dead-letter handler. */
export interface DeadLetterPorts {
  readonly worker: FinishPorts;
  readonly log: Log;
}

/**
 * Consumes every task DLQ: a message there means its task's worker failed on every try
 * (crashed, timed out, or kept throwing). The task is marked `failed` with that reason and its
 * audience and chat are told, so no accepted task ends silently.
 */
export function createDeadLetterHandler(ports: DeadLetterPorts) {
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      const message = tryReadRecord(record, workMessageSchema);
      // Every line about this record, the domain's included, names it and its task.
      const log = invocationLog(ports.log, context, {
        taskId: message?.taskId,
        taskType: message?.taskType,
        messageId: record.messageId,
      });
      if (!message) {
        // Not a task message: nothing to mark; its body stays in this log line for a person.
        log.error('unreadable dead letter dropped', {
          messageId: record.messageId,
          body: record.body.slice(0, 2000),
        });
        continue;
      }
      try {
        // The DLQ's own receive count says nothing about the tries on the task queue.
        const outcome = await failFromDeadLetter(
          { ...ports.worker, log },
          message,
          TASK_QUEUE_SETTINGS.maxReceiveCount,
        );
        log.warn('dead letter handled', { taskId: message.taskId, outcome });
      } catch (e) {
        log.error('dead letter not handled; will retry', {
          taskId: message.taskId,
          error: e instanceof Error ? e.message : String(e),
        });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createDeadLetterHandler({ worker: deadLetterPorts(), log: logger }),
);
