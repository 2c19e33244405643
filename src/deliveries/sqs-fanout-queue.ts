import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
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
}
