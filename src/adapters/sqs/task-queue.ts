import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MAX_DELAY_SECONDS, type TaskMessage, type TaskQueue } from '../../tasks/task-queue';

/** SQS queues, one per task type (each with its dead-letter queue, set up by the stack). */
export class SqsTaskQueue implements TaskQueue {
  public constructor(
    private readonly client: SQSClient,
    /** Task type → queue URL. */
    private readonly queueUrls: Readonly<Record<string, string>>,
  ) {}

  public async enqueue(
    message: TaskMessage,
    options: { delaySeconds?: number } = {},
  ): Promise<void> {
    const url = this.queueUrls[message.taskType];
    if (!url) throw new Error(`no queue configured for task type "${message.taskType}"`);
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: JSON.stringify(message),
        ...(options.delaySeconds
          ? {
              DelaySeconds: Math.min(
                MAX_DELAY_SECONDS,
                Math.max(0, Math.ceil(options.delaySeconds)),
              ),
            }
          : {}),
        MessageAttributes: { taskType: { DataType: 'String', StringValue: message.taskType } },
      }),
    );
  }
}
