import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** The message a worker receives: the task is read from the tasks table by id. */
export interface TaskMessage {
  readonly taskId: string;
  readonly taskType: string;
  /** `notify` re-sends the chat notification of a finished task (default `run`). */
  readonly kind?: 'run' | 'notify';
  /** Which try of a `notify` this is (1 for the first re-send). */
  readonly attempt?: number;
}

/** SQS holds a message back at most 15 minutes. */
export const MAX_DELAY_SECONDS = 900;

/** The port through which tasks are queued for their workers. */
export interface TaskQueue {
  /** Sends the task to its type's queue. @throws when the type has no queue. */
  enqueue(message: TaskMessage, options?: { delaySeconds?: number }): Promise<void>;
}

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
