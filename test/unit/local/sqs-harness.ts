import {
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { Agent } from 'node:http';
import { type LocalQueue, startSqs } from '../../../local/emulators';
import { LOCAL_ACCOUNT, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/lambda-types';

/** A local-aws-sqs emulator with one queue (and its DLQ) and a client configured as the runtime's. */
export interface TestQueue {
  readonly sqs: SQSClient;
  readonly url: string;
  readonly dlqUrl: string;
  readonly arn: string;
  readonly endpoint: string;
  /** Sends bodies (in batches of 10), optionally with message attributes. */
  send(
    bodies: readonly string[],
    attributes?: Record<string, MessageAttributeValue>,
  ): Promise<string[]>;
  /**
   * Message counts of a queue: `messages` is ApproximateNumberOfMessages, which local-aws-sqs
   * counts with the in-flight ones included (SQS counts only the visible ones).
   */
  counts(url?: string): Promise<{ messages: number; inFlight: number }>;
  /** Receives what a queue has, with every attribute (the messages stay, invisible). */
  peek(url: string, waitSeconds?: number): Promise<Message[]>;
  /** Closes the emulator (once) and the client. */
  close(): Promise<void>;
  /** Closes only the emulator. */
  closeEmulator(): Promise<void>;
}

/** Starts the emulator on a free port with queue `name` and `name-dlq`. */
export async function startTestQueue(queue: LocalQueue): Promise<TestQueue> {
  const emulator = await startSqs({ queues: [queue] });
  const sqs = new SQSClient({
    endpoint: emulator.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 256 }) },
  });
  const url = emulator.urls[queue.name] ?? '';
  const dlqUrl = emulator.urls[`${queue.name}-dlq`] ?? '';
  let emulatorClosed: Promise<void> | undefined;
  const closeEmulator = () => (emulatorClosed ??= emulator.close());
  return {
    sqs,
    url,
    dlqUrl,
    arn: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${queue.name}`,
    endpoint: emulator.endpoint,
    async send(bodies, attributes) {
      const ids: string[] = [];
      for (let i = 0; i < bodies.length; i += 10) {
        const out = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: bodies.slice(i, i + 10).map((body, j) => ({
              Id: `e${i + j}`,
              MessageBody: body,
              ...(attributes ? { MessageAttributes: attributes } : {}),
            })),
          }),
        );
        if (out.Failed?.length) throw new Error(`send failed: ${JSON.stringify(out.Failed)}`);
        const sorted = [...(out.Successful ?? [])].sort(
          (a, b) => Number(a.Id?.slice(1)) - Number(b.Id?.slice(1)),
        );
        ids.push(...sorted.map((s) => s.MessageId ?? ''));
      }
      return ids;
    },
    async counts(queueUrl = url) {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return {
        messages: Number(out.Attributes?.ApproximateNumberOfMessages),
        inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible),
      };
    },
    async peek(queueUrl, waitSeconds = 0) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: waitSeconds,
          // local-aws-sqs reads only the older AttributeNames.
          AttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      return out.Messages ?? [];
    },
    async close() {
      sqs.destroy();
      await closeEmulator();
    },
    closeEmulator,
  };
}

/** Resolves once `check` returns true; fails after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 8000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A handler that records every event it gets and answers with `answer`. */
export function recordingHandler<T>(answer: (event: SQSEvent, call: number) => Promise<T> | T) {
  const events: SQSEvent[] = [];
  const handler = async (event: SQSEvent) => {
    events.push(event);
    return answer(event, events.length);
  };
  return {
    handler,
    events,
    records: (): SQSRecord[] => events.flatMap((e) => e.Records),
  };
}

/** A promise and its resolver, to hold a handler until the test lets it go. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
