import type { Server } from 'node:http';
import { closeServer, listen } from './net';

/** A running emulator: its endpoint URL and how to stop it. */
export interface Emulator {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts dynalite (the DynamoDB API on LevelDB; in memory unless `path` is given) on a port
 * (0 picks a free one). Tables are ready at once (createTableMs 0).
 */
export async function startDynalite(options: { host?: string; port?: number; path?: string } = {}) {
  // dynalite ships no types; its factory returns a plain http.Server.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (o: Record<string, unknown>) => Server;
  const host = options.host ?? '127.0.0.1';
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  const port = await listen(server, host, options.port);
  return {
    endpoint: `http://${host}:${port}`,
    close: () => closeServer(server),
  } satisfies Emulator;
}

/** A queue the local SQS emulator creates, with its dead-letter queue. */
export interface LocalQueue {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  /** Receives before SQS moves a message to the DLQ. */
  readonly maxReceiveCount: number;
}

/** Queue name → URL, for the queues and their DLQs (`<name>-dlq`). */
export type QueueUrls = Readonly<Record<string, string>>;

/**
 * Starts local-aws-sqs (the SQS JSON protocol, with redrive to DLQs) and creates each queue and
 * its DLQ.
 */
export async function startSqs(options: {
  host?: string;
  port?: number;
  queues: readonly LocalQueue[];
}) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createSqsServer } = require('local-aws-sqs') as {
    createSqsServer: (o: Record<string, unknown>) => Promise<Server>;
  };
  const host = options.host ?? '127.0.0.1';
  const account = '000000000000';
  const region = 'us-east-1';
  const server = await createSqsServer({
    port: options.port ?? 0,
    hostname: host,
    region,
    accountId: account,
    emulateQueueCreationLifecycle: false,
    queues: options.queues.flatMap((q) => [
      { QueueName: `${q.name}-dlq`, Attributes: { MessageRetentionPeriod: 1209600 } },
      {
        QueueName: q.name,
        Attributes: {
          VisibilityTimeout: q.visibilityTimeoutSeconds,
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: `arn:aws:sqs:${region}:${account}:${q.name}-dlq`,
            maxReceiveCount: q.maxReceiveCount,
          }),
        },
      },
    ]),
  });
  const endpoint = `http://${host}:${(server.address() as { port: number }).port}`;
  const urls: Record<string, string> = {};
  for (const q of options.queues) {
    urls[q.name] = `${endpoint}/${account}/${q.name}`;
    urls[`${q.name}-dlq`] = `${endpoint}/${account}/${q.name}-dlq`;
  }
  return {
    endpoint,
    urls: urls as QueueUrls,
    close: () => closeServer(server),
  } satisfies Emulator & {
    urls: QueueUrls;
  };
}
