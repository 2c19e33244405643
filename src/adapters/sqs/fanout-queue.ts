import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MAX_DELAY_SECONDS } from '../../tasks/task-queue';
import type { FanoutMessage, FanoutQueue } from '../../deliveries/records';

/** SendMessageBatch calls per `sendAll` at most: the first and three retries of refused entries. */
export const MAX_BATCH_ATTEMPTS = 4;
/** The first retry waits up to this long; each further one doubles it, up to the cap. */
export const RETRY_BASE_MS = 50;
/** No retry waits longer than this. */
export const RETRY_CAP_MS = 1000;

/** Options of {@link SqsFanoutQueue}; the defaults suit Lambda, tests inject the clock parts. */
export interface SqsFanoutQueueOptions {
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly capDelayMs?: number;
  /** Waits; default setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1); default Math.random. */
  readonly random?: () => number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * "Full jitter" backoff: a random wait in [0, min(cap, base·2^retry)). Random rather than fixed,
 * so fan-out workers throttled together do not all come back at the same instant.
 */
export const fullJitterDelay = (
  retry: number,
  random: () => number,
  baseMs = RETRY_BASE_MS,
  capMs = RETRY_CAP_MS,
): number => Math.floor(random() * Math.min(capMs, baseMs * 2 ** retry));

/** The fan-out queue on SQS (with its DLQ, set up by the stack). */
export class SqsFanoutQueue implements FanoutQueue {
  private readonly options: Required<SqsFanoutQueueOptions>;

  public constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    options: SqsFanoutQueueOptions = {},
  ) {
    this.options = {
      maxAttempts: options.maxAttempts ?? MAX_BATCH_ATTEMPTS,
      baseDelayMs: options.baseDelayMs ?? RETRY_BASE_MS,
      capDelayMs: options.capDelayMs ?? RETRY_CAP_MS,
      sleep: options.sleep ?? realSleep,
      random: options.random ?? Math.random,
    };
  }

  public async send(
    message: FanoutMessage,
    options: { delaySeconds?: number } = {},
  ): Promise<void> {
    const delay = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(options.delaySeconds ?? 0)));
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        ...(delay > 0 ? { DelaySeconds: delay } : {}),
      }),
    );
  }

  /**
   * Sends up to 10 messages in one SendMessageBatch. Entries SQS refuses for its own reasons
   * (throttling, an internal error) are sent again after a full-jitter backoff, at most
   * `maxAttempts` calls in all; entries refused as the sender's fault are not retried.
   * @throws when entries are still refused after the last attempt, or one is the sender's fault.
   */
  public async sendAll(messages: readonly FanoutMessage[]): Promise<void> {
    if (messages.length > 10) throw new Error('SendMessageBatch takes at most 10 messages');
    const { maxAttempts, baseDelayMs, capDelayMs, sleep, random } = this.options;
    let entries = messages.map((m, i) => ({ Id: String(i), MessageBody: JSON.stringify(m) }));
    for (let attempt = 1; entries.length > 0; attempt++) {
      const out = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }),
      );
      const failures = out.Failed ?? [];
      const senderFault = failures.find((f) => f.SenderFault === true);
      if (senderFault) {
        // Retrying cannot fix a message SQS calls malformed; the caller's retry will not either.
        throw new Error(
          `the fan-out queue refused a message: ${senderFault.Code ?? 'error'} ${senderFault.Message ?? ''}`.trim(),
        );
      }
      const failed = new Set(failures.map((f) => f.Id));
      entries = entries.filter((e) => failed.has(e.Id));
      if (entries.length === 0) return;
      if (attempt >= maxAttempts) {
        throw new Error(
          `the fan-out queue refused ${entries.length} of ${messages.length} messages after ${attempt} attempts`,
        );
      }
      await sleep(fullJitterDelay(attempt - 1, random, baseDelayMs, capDelayMs));
    }
  }
}
