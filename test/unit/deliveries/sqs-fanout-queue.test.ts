import {
  type SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  fullJitterDelay,
  MAX_BATCH_ATTEMPTS,
  RETRY_BASE_MS,
  RETRY_CAP_MS,
  SqsFanoutQueue,
} from '../../../src/adapters/sqs/fanout-queue';
import type { FanoutMessage } from '../../../src/deliveries/records';

type Failure = { Id: string; SenderFault: boolean; Code: string; Message?: string };

/**
 * A fake SQS client for SendMessageBatch: each call answers with the next scripted list of
 * failed entry ids (the rest succeed); records the entry ids of every call.
 */
function fakeSqs(script: ((ids: string[]) => Failure[])[]) {
  const calls: string[][] = [];
  const send = jest.fn(async (command: SendMessageBatchCommand) => {
    const ids = (command.input.Entries ?? []).map((e) => String(e.Id));
    calls.push(ids);
    const failed = script[calls.length - 1]?.(ids) ?? [];
    const out: Partial<SendMessageBatchCommandOutput> = {
      Successful: ids
        .filter((id) => !failed.some((f) => f.Id === id))
        .map((Id) => ({ Id, MessageId: `m-${Id}`, MD5OfMessageBody: '' })),
      Failed: failed,
    };
    return out;
  });
  return { client: { send } as unknown as SQSClient, calls, send };
}

const throttled =
  (...which: string[]) =>
  (ids: string[]) =>
    ids
      .filter((id) => which.length === 0 || which.includes(id))
      .map((Id) => ({ Id, SenderFault: false, Code: 'RequestThrottled' }));

const messages = (n: number): FanoutMessage[] =>
  Array.from({ length: n }, (_, i): FanoutMessage => ({
    kind: 'scheduled',
    scheduledId: `s_${i}`,
  }));

function queueWith(script: ((ids: string[]) => Failure[])[], random = () => 0.5) {
  const sqs = fakeSqs(script);
  const sleeps: number[] = [];
  const queue = new SqsFanoutQueue(sqs.client, 'https://sqs.local/q', {
    sleep: async (ms) => void sleeps.push(ms),
    random,
  });
  return { ...sqs, queue, sleeps };
}

describe('fullJitterDelay', () => {
  it('is random in [0, min(cap, base·2^retry))', () => {
    expect(fullJitterDelay(0, () => 0)).toBe(0);
    expect(fullJitterDelay(0, () => 0.999)).toBe(RETRY_BASE_MS - 1);
    expect(fullJitterDelay(2, () => 0.5)).toBe(2 * RETRY_BASE_MS);
    // Far retries stop growing at the cap.
    expect(fullJitterDelay(30, () => 0.999)).toBe(RETRY_CAP_MS - 1);
  });
});

describe('SqsFanoutQueue.sendAll', () => {
  it('sends ten messages in one call and never waits when SQS takes them all', async () => {
    const { queue, calls, sleeps } = queueWith([]);
    await queue.sendAll(messages(10));
    expect(calls).toEqual([['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']]);
    expect(sleeps).toEqual([]);
  });

  it('resends only the throttled entries, after a growing, jittered wait', async () => {
    // Prepare: entries 1 and 3 throttled twice, then accepted
    const { queue, calls, sleeps } = queueWith([throttled('1', '3'), throttled('1', '3')]);

    // Act
    await queue.sendAll(messages(4));

    // Assess
    expect(calls).toEqual([
      ['0', '1', '2', '3'],
      ['1', '3'],
      ['1', '3'],
    ]);
    // random() = 0.5: half of base·2^0, then half of base·2^1
    expect(sleeps).toEqual([RETRY_BASE_MS / 2, RETRY_BASE_MS]);
  });

  it('uses the random source for every wait (full jitter, not a fixed step)', async () => {
    const randoms = [0.1, 0.9];
    const { queue, sleeps } = queueWith([throttled(), throttled()], () => randoms.shift() ?? 0);
    await queue.sendAll(messages(2));
    expect(sleeps).toEqual([Math.floor(0.1 * RETRY_BASE_MS), Math.floor(0.9 * 2 * RETRY_BASE_MS)]);
  });

  it('gives up after a bounded number of calls and says how many were refused', async () => {
    // Prepare: SQS throttles everything, always
    const { queue, calls, sleeps } = queueWith(Array.from({ length: 20 }, () => throttled('0')));

    // Act
    const error = await queue.sendAll(messages(3)).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      `the fan-out queue refused 1 of 3 messages after ${MAX_BATCH_ATTEMPTS} attempts`,
    );
    expect(calls).toHaveLength(MAX_BATCH_ATTEMPTS);
    expect(sleeps).toHaveLength(MAX_BATCH_ATTEMPTS - 1);
    for (const ms of sleeps) expect(ms).toBeLessThanOrEqual(RETRY_CAP_MS);
  });

  it('does not retry an entry refused as the sender’s fault', async () => {
    const { queue, calls, sleeps } = queueWith([
      (ids) => [{ Id: ids[0] ?? '0', SenderFault: true, Code: 'InvalidMessageContents' }],
    ]);
    await expect(queue.sendAll(messages(2))).rejects.toThrow(/InvalidMessageContents/);
    expect(calls).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('refuses more than ten messages without calling SQS', async () => {
    const { queue, send } = queueWith([]);
    await expect(queue.sendAll(messages(11))).rejects.toThrow('at most 10');
    expect(send).not.toHaveBeenCalled();
  });
});
