import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MAX_DELAY_SECONDS } from '../tasks/task-queue';
import type { FanoutMessage, FanoutQueue } from './records';

/** The fan-out queue on SQS (with its DLQ, set up by the stack). */
export class SqsFanoutQueue implements FanoutQueue {
  public constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

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

  public async sendAll(messages: readonly FanoutMessage[]): Promise<void> {
    if (messages.length > 10) throw new Error('SendMessageBatch takes at most 10 messages');
    let entries = messages.map((m, i) => ({ Id: String(i), MessageBody: JSON.stringify(m) }));
    // SQS may refuse some entries of a batch (throttling): send those again, a few times.
    for (let attempt = 0; entries.length > 0; attempt++) {
      const out = await this.client.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }),
      );
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      entries = entries.filter((e) => failed.has(e.Id));
      if (entries.length > 0 && attempt >= 3) {
        throw new Error(`the fan-out queue refused ${entries.length} batches`);
      }
    }
  }
}
