import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from '../../src/validation/zod';
import { handleFanout, type FanoutPorts } from '../../src/deliveries/fanout';
import type { FanoutMessage } from '../../src/deliveries/records';
import { lazyHandler } from '../runtime/lazy';
import { readRecord } from '../edge/sqs-record';
import { invocationLog } from '../runtime/logger';
import { fanoutPorts } from '../composition/cloud/messages';
import { idempotencyStore } from '../composition/cloud/idempotency';

/** A whole number ≥ 0. */
const count = () => z.number().check(z.int(), z.nonnegative());

/** A fan-out queue message body. */
export const fanoutMessageSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('batch'),
    deliveryId: z.string().check(z.minLength(1), z.maxLength(64)),
    batch: count(),
    connectionIds: z
      .array(z.string().check(z.minLength(1), z.maxLength(128)))
      .check(z.maxLength(1000)),
    retry: z.optional(z.number().check(z.int(), z.gte(1), z.lte(100))),
    carried: z.optional(z.object({ delivered: count(), gone: count(), failed: count() })),
  }),
  z.object({
    kind: z.literal('scheduled'),
    scheduledId: z.string().check(z.minLength(1), z.maxLength(64)),
  }),
]);

/** Ports of the fan-out worker. */
export interface FanoutWorkerPorts {
  readonly fanout: FanoutPorts;
  readonly idempotencyStore: BasePersistenceLayer;
}

/**
 * The fan-out queue's worker: batches of large deliveries and due scheduled messages. Each
 * batch goes through Powertools Idempotency (keyed on delivery and batch number), so a
 * redelivered batch is not pushed twice; one failing record is retried alone. The batch
 * processor and the idempotency config (which holds the invocation's context) are made per
 * invocation, so concurrent invocations of one handler keep their batches apart.
 */
export function createFanoutHandler(ports: FanoutWorkerPorts) {
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const config = new IdempotencyConfig({
      eventKeyJmesPath: 'key',
      expiresAfterSeconds: 24 * 60 * 60,
    });
    if (context) config.registerLambdaContext(context);
    const batchOnce = makeIdempotent(
      // The ports come second: they carry the record's log; only the input is hashed.
      async (input: { key: string; message: FanoutMessage }, fanout: FanoutPorts) =>
        handleFanout(fanout, input.message),
      { persistenceStore: ports.idempotencyStore, config, dataIndexArgument: 0 },
    );
    const processor = new BatchProcessor(EventType.SQS);
    const onRecord = async (record: SQSRecord) => {
      const message = readRecord(record, fanoutMessageSchema);
      // Every line about this record, the domain's included, names what it delivers.
      const log = invocationLog(ports.fanout.log, context, {
        messageId: record.messageId,
        ...(message.kind === 'batch'
          ? { deliveryId: message.deliveryId, batch: message.batch }
          : { scheduledId: message.scheduledId }),
      });
      const fanout: FanoutPorts = { ...ports.fanout, log };
      if (message.kind === 'batch') {
        // A requeued rest of a batch is its own send (its own key), pushed once too.
        const key = `${message.deliveryId}#${message.batch}${message.retry ? `#r${message.retry}` : ''}`;
        await batchOnce({ key, message }, fanout);
      } else {
        // A scheduled send claims its record first, which makes a repeat a no-op.
        await handleFanout(fanout, message);
      }
    };
    return processPartialResponse(event, onRecord, processor, context ? { context } : undefined);
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createFanoutHandler({
    fanout: fanoutPorts(),
    idempotencyStore: idempotencyStore(),
  }),
);
