import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type {
  SQSBatchResponse,
  SQSEvent,
  SQSMessageAttribute,
  SQSMessageAttributes,
  SQSRecord,
  SQSRecordAttributes,
} from 'aws-lambda';
import type { Log } from '../src/ports/log';
import { LOCAL_REGION } from './lambda-types';

/** An SQS-triggered handler, as Lambda's event source mapping invokes it. */
export type SqsBatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

/**
 * Builds the handler of one execution environment, as a Lambda cold start loads the module: it
 * is called once per environment, and that environment's handler never runs two batches at once.
 */
export type SqsHandlerFactory = () => SqsBatchHandler;

/** Options of {@link startQueuePoller}. Give exactly one of `createHandler` and `handler`. */
export interface QueuePollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** The queue's ARN, copied into each record's `eventSourceARN` (its region into `awsRegion`). */
  readonly queueArn: string;
  /**
   * Builds one handler per execution environment (what the local runtime uses): state a handler
   * keeps between invocations stays in its environment, as in Lambda.
   */
  readonly createHandler?: SqsHandlerFactory;
  /**
   * One handler that every environment calls, so concurrent batches share it: only for handlers
   * that keep no state of their own (tests' recording handlers).
   */
  readonly handler?: SqsBatchHandler;
  readonly log: Log;
  /** Messages per batch, 1-10 (default 10, the most one ReceiveMessage returns). */
  readonly batchSize?: number;
  /**
   * Long-poll time of a ReceiveMessage, 0-20 s (default 1, so stop() is quick). It is lowered
   * below the queue's visibility timeout when needed: local-aws-sqs keeps collecting during a
   * long poll and would hand a message whose visibility expired mid-poll out a second time.
   */
  readonly waitTimeSeconds?: number;
  /**
   * Execution environments, and so batches handled at once (default 2): each environment runs
   * one batch at a time, as Lambda does; the event source mapping's maximum concurrency.
   */
  readonly maxConcurrentBatches?: number;
  /** Honour `{ batchItemFailures }` answers, as `ReportBatchItemFailures` does (default true). */
  readonly reportBatchItemFailures?: boolean;
}

/** A running poller. */
export interface QueuePoller {
  /** Stops receiving; resolves once the current receive and every batch in flight are done. */
  stop(): Promise<void>;
  /** Batches whose handler (and deletes) are running now. */
  inFlight(): number;
  /** Batches finished so far, whatever their outcome. */
  batchesHandled(): number;
}

/** What becomes of a handled batch: deleted, deleted but for `failed`, or left to come back. */
export type BatchOutcome =
  | { readonly kind: 'success' }
  | { readonly kind: 'partial'; readonly failed: ReadonlySet<string> }
  | { readonly kind: 'failure'; readonly reason: string };

const MAX_BATCH = 10;
const MAX_WAIT_SECONDS = 20;
/** Pause after an empty short poll (waitTimeSeconds 0), so an idle queue is not hammered. */
const EMPTY_SHORT_POLL_DELAY_MS = 100;
const BACKOFF_FIRST_MS = 200;
const BACKOFF_MAX_MS = 5000;

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** A message attribute as Lambda puts it in an SQS record. */
function lambdaAttribute(a: MessageAttributeValue): SQSMessageAttribute {
  return {
    ...(a.StringValue !== undefined ? { stringValue: a.StringValue } : {}),
    ...(a.BinaryValue !== undefined ? { binaryValue: base64(a.BinaryValue) } : {}),
    stringListValues: a.StringListValues ?? [],
    binaryListValues: (a.BinaryListValues ?? []).map(base64),
    dataType: a.DataType ?? 'String',
  };
}

/** One received message as a record of Lambda's SQS event. */
export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const system: Partial<Record<string, string>> = message.Attributes ?? {};
  const attributes: SQSRecordAttributes = {
    ApproximateReceiveCount: system.ApproximateReceiveCount ?? '',
    SentTimestamp: system.SentTimestamp ?? '',
    SenderId: system.SenderId ?? '',
    ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? '',
  };
  // The optional ones (AWSTraceHeader, MessageGroupId, DeadLetterQueueSourceArn...) as they come.
  for (const [name, value] of Object.entries(system)) {
    if (value !== undefined && !(name in attributes)) {
      (attributes as unknown as Record<string, string>)[name] = value;
    }
  }
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = lambdaAttribute(value);
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes,
    messageAttributes,
    ...(message.MD5OfMessageAttributes
      ? { md5OfMessageAttributes: message.MD5OfMessageAttributes }
      : {}),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] || LOCAL_REGION,
  };
}

/**
 * Reads a handler's answer the way Lambda does with ReportBatchItemFailures: nothing, an empty
 * object or an empty/null `batchItemFailures` is a success; a list naming only messages of the
 * batch is a partial failure; anything else (not an object, an identifier that is empty, not a
 * string or not in the batch) fails the whole batch.
 */
export function outcomeOf(answer: unknown, batchIds: ReadonlySet<string>): BatchOutcome {
  if (answer === undefined || answer === null) return { kind: 'success' };
  if (typeof answer !== 'object' || Array.isArray(answer)) {
    return { kind: 'failure', reason: 'the answer is not an object' };
  }
  const failures = (answer as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) {
    return { kind: 'failure', reason: 'batchItemFailures is not a list' };
  }
  const failed = new Set<string>();
  for (const item of failures as unknown[]) {
    const id =
      typeof item === 'object' && item !== null
        ? (item as { itemIdentifier?: unknown }).itemIdentifier
        : undefined;
    if (typeof id !== 'string' || id === '' || !batchIds.has(id)) {
      return {
        kind: 'failure',
        reason: `itemIdentifier ${JSON.stringify(id)} is not in the batch`,
      };
    }
    failed.add(id);
  }
  return failed.size === 0 ? { kind: 'success' } : { kind: 'partial', failed };
}

/**
 * Polls an SQS queue and invokes `handler` the way Lambda's SQS event source mapping does:
 * batches of up to `batchSize` messages in Lambda's event shape; a handler that throws leaves
 * the whole batch to come back after its visibility timeout; `{ batchItemFailures }` deletes the
 * others and leaves the failed ones to come back (so the queue's redrive policy moves them to the
 * DLQ after maxReceiveCount receives); anything else deletes the whole batch.
 *
 * Concurrency is Lambda's: up to `maxConcurrentBatches` execution environments, each with its
 * own handler from `createHandler` and one batch at a time, so nothing an invocation keeps in its
 * handler is ever seen by another invocation running at the same time.
 *
 * SQS errors are logged and retried with a backoff; the poller never throws.
 * @throws TypeError when neither or both of `createHandler` and `handler` are given.
 */
export function startQueuePoller(options: QueuePollerOptions): QueuePoller {
  const { sqs, queueUrl, queueArn, log } = options;
  if ((options.createHandler === undefined) === (options.handler === undefined)) {
    throw new TypeError('startQueuePoller: give exactly one of createHandler and handler');
  }
  const shared = options.handler;
  const createHandler: SqsHandlerFactory =
    options.createHandler ?? (() => shared as SqsBatchHandler);
  const batchSize = checkInteger('batchSize', options.batchSize ?? MAX_BATCH, 1, MAX_BATCH);
  const waitTimeSeconds = checkInteger(
    'waitTimeSeconds',
    options.waitTimeSeconds ?? 1,
    0,
    MAX_WAIT_SECONDS,
  );
  const maxConcurrent = checkInteger(
    'maxConcurrentBatches',
    options.maxConcurrentBatches ?? 2,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const reportFailures = options.reportBatchItemFailures ?? true;

  let stopping = false;
  let handled = 0;
  const batches = new Set<Promise<void>>();
  /**
   * The execution environments: each has its own handler (built on its first batch, a cold
   * start) and runs one batch at a time. There are never more than `maxConcurrent`.
   */
  const environments: { handler: SqsBatchHandler; busy: boolean }[] = [];
  function idleEnvironment() {
    const idle = environments.find((e) => !e.busy);
    if (idle) return idle;
    const created = { handler: createHandler(), busy: false };
    environments.push(created);
    return created;
  }
  /** Ends the current pause early (stop). */
  let endPause: (() => void) | undefined;
  /** Ends the current wait for a free slot (a batch finished, or stop). */
  let endSlotWait: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        endPause = undefined;
        resolve();
      }
      endPause = done;
    });
  const slotFree = () =>
    new Promise<void>((resolve) => {
      endSlotWait = () => {
        endSlotWait = undefined;
        resolve();
      };
    });

  /** The queue's visibility timeout, or undefined when it cannot be read. */
  async function visibilityTimeout(): Promise<number | undefined> {
    try {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['VisibilityTimeout'],
        }),
      );
      const v = Number(out.Attributes?.VisibilityTimeout);
      return Number.isFinite(v) ? v : undefined;
    } catch (e) {
      if (!stopping) {
        log.debug('sqs poller: cannot read the visibility timeout', {
          queueUrl,
          error: errorText(e),
        });
      }
      return undefined;
    }
  }

  async function receive(wait: number): Promise<Message[]> {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: batchSize,
        WaitTimeSeconds: wait,
        // SQS reads MessageSystemAttributeNames; local-aws-sqs reads only the older
        // AttributeNames. Both are accepted by SQS, so both are sent.
        MessageSystemAttributeNames: ['All'],
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    // SQS never returns a message twice in one answer, but an emulator might: keep the last copy
    // (its receipt handle is the current one).
    const byId = new Map<string, Message>();
    for (const m of out.Messages ?? []) byId.set(m.MessageId ?? '', m);
    return [...byId.values()];
  }

  async function deleteMessages(records: readonly SQSRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      const out = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: records.map((r, i) => ({ Id: `m${i}`, ReceiptHandle: r.receiptHandle })),
        }),
      );
      if (out.Failed?.length) {
        log.warn('sqs poller: some messages were not deleted and will be redelivered', {
          queueUrl,
          failed: out.Failed.map((f) => ({ id: f.Id, code: f.Code, message: f.Message })),
        });
      }
    } catch (e) {
      log.error('sqs poller: delete failed; the messages will be redelivered', {
        queueUrl,
        count: records.length,
        error: errorText(e),
      });
    }
  }

  async function handleBatch(
    handler: SqsBatchHandler,
    messages: readonly Message[],
  ): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, queueArn)) };
    const ids = new Set(event.Records.map((r) => r.messageId));
    let answer: unknown;
    try {
      answer = await handler(event);
    } catch (e) {
      log.error('sqs poller: handler failed; the batch returns after its visibility timeout', {
        queueUrl,
        messageIds: [...ids],
        error: errorText(e),
      });
      return;
    }
    const outcome: BatchOutcome = reportFailures ? outcomeOf(answer, ids) : { kind: 'success' };
    switch (outcome.kind) {
      case 'success':
        log.debug('sqs poller: batch handled', { queueUrl, count: ids.size });
        await deleteMessages(event.Records);
        return;
      case 'partial':
        log.warn('sqs poller: batch item failures; they return after their visibility timeout', {
          queueUrl,
          count: ids.size,
          failed: [...outcome.failed],
        });
        await deleteMessages(event.Records.filter((r) => !outcome.failed.has(r.messageId)));
        return;
      case 'failure':
        log.error('sqs poller: invalid batch response; the whole batch counts as failed', {
          queueUrl,
          messageIds: [...ids],
          reason: outcome.reason,
        });
        return;
    }
  }

  function dispatch(messages: readonly Message[]): void {
    // The loop dispatches only while fewer than maxConcurrent batches run, so one is idle (or
    // may still be created).
    let environment: { handler: SqsBatchHandler; busy: boolean };
    try {
      environment = idleEnvironment();
    } catch (e) {
      // A factory that throws is an init error: the batch comes back after its visibility timeout.
      log.error('sqs poller: handler init failed; the batch returns after its visibility timeout', {
        queueUrl,
        error: errorText(e),
      });
      return;
    }
    environment.busy = true;
    const batch = handleBatch(environment.handler, messages)
      .catch((e: unknown) =>
        log.error('sqs poller: batch crashed', { queueUrl, error: errorText(e) }),
      )
      .finally(() => {
        environment.busy = false;
        batches.delete(batch);
        handled += 1;
        endSlotWait?.();
      });
    batches.add(batch);
  }

  async function loop(): Promise<void> {
    const visibility = await visibilityTimeout();
    // A long poll of local-aws-sqs lasts its whole wait (plus ~40 ms) unless the batch fills, so
    // it must end before a message it took first becomes visible again.
    const longPoll =
      visibility === undefined
        ? waitTimeSeconds
        : Math.max(0, Math.min(waitTimeSeconds, visibility - 1));
    if (longPoll !== waitTimeSeconds) {
      log.debug('sqs poller: long poll shortened below the visibility timeout', {
        queueUrl,
        waitTimeSeconds: longPoll,
        visibilityTimeout: visibility,
      });
    }
    let drain = false;
    let errors = 0;
    while (!stopping) {
      if (batches.size >= maxConcurrent) {
        await slotFree();
        continue;
      }
      // Right after a non-empty answer more messages are likely waiting: take them at once (SQS
      // answers a long poll early anyway; local-aws-sqs waits for a full batch).
      const wait = drain ? 0 : longPoll;
      let messages: Message[];
      try {
        messages = await receive(wait);
      } catch (e) {
        // While stopping, the emulator may already be gone: that is not news.
        if (stopping) break;
        errors += 1;
        const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (errors - 1));
        log.error('sqs poller: receive failed; retrying', {
          queueUrl,
          error: errorText(e),
          retryInMs: delay,
        });
        await pause(delay);
        continue;
      }
      errors = 0;
      drain = messages.length > 0;
      if (messages.length > 0) dispatch(messages);
      else if (wait === 0 && longPoll === 0 && !stopping) await pause(EMPTY_SHORT_POLL_DELAY_MS);
    }
    while (batches.size > 0) await Promise.all([...batches]);
  }

  const running = loop().catch((e: unknown) =>
    log.error('sqs poller: stopped by an unexpected error', { queueUrl, error: errorText(e) }),
  );
  let stopped: Promise<void> | undefined;

  return {
    stop() {
      if (!stopped) {
        stopping = true;
        endPause?.();
        endSlotWait?.();
        stopped = running;
      }
      return stopped;
    },
    inFlight: () => batches.size,
    batchesHandled: () => handled,
  };
}
