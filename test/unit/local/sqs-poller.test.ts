import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createHash } from 'node:crypto';
import {
  outcomeOf,
  type QueuePoller,
  type QueuePollerOptions,
  startQueuePoller,
} from '../../../local/sqs-poller';
import { RecordingLog } from '../core/fakes';
import { deferred, recordingHandler, startTestQueue, type TestQueue, waitFor } from './sqs-harness';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bodiesOf = (event: SQSEvent | undefined) => (event?.Records ?? []).map((r) => r.body);
const failing = (...ids: string[]): SQSBatchResponse => ({
  batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })),
});

describe('startQueuePoller (against local-aws-sqs)', () => {
  let queue: TestQueue | undefined;
  let poller: QueuePoller | undefined;
  let log: RecordingLog;

  /** A fresh emulator with queue `jobs` and `jobs-dlq`. */
  async function openQueue(visibilityTimeoutSeconds: number, maxReceiveCount = 3) {
    queue = await startTestQueue({ name: 'jobs', visibilityTimeoutSeconds, maxReceiveCount });
    return queue;
  }

  function startPoller(
    q: TestQueue,
    handler: QueuePollerOptions['handler'],
    options: Partial<QueuePollerOptions> = {},
  ): QueuePoller {
    poller = startQueuePoller({
      sqs: q.sqs,
      queueUrl: q.url,
      queueArn: q.arn,
      handler,
      log,
      ...options,
    });
    return poller;
  }

  const queueEmpty = (q: TestQueue) => async () => {
    const c = await q.counts();
    return c.messages === 0 && c.inFlight === 0;
  };

  beforeEach(() => {
    log = new RecordingLog();
  });

  afterEach(async () => {
    await poller?.stop();
    await queue?.close();
    poller = undefined;
    queue = undefined;
  });

  it("delivers messages in batches of batchSize with Lambda's SQS event shape", async () => {
    // Prepare: 11 plain messages and one with String, Number and Binary attributes; a visibility
    // timeout long enough that the default 1 s long poll is used as is.
    const q = await openQueue(5);
    const plain = Array.from({ length: 11 }, (_, i) => `m${i}`);
    const plainIds = await q.send(plain);
    const [attrId] = await q.send(['with-attributes'], {
      kind: { DataType: 'String', StringValue: 'job' },
      size: { DataType: 'Number', StringValue: '3' },
      raw: { DataType: 'Binary', BinaryValue: Uint8Array.from([1, 2, 3]) },
    });
    const h = recordingHandler(() => undefined);

    // Act
    const p = startPoller(q, h.handler);
    await waitFor('12 records', () => h.records().length === 12);
    await waitFor('the batches to finish', () => p.batchesHandled() === 2);

    // Assess: two batches (10 + 2), in order, each message once, first receive.
    expect(h.events.map((e) => e.Records.length)).toEqual([10, 2]);
    expect(h.records().map((r) => r.body)).toEqual([...plain, 'with-attributes']);
    expect(h.records().map((r) => r.attributes.ApproximateReceiveCount)).toEqual(
      Array(12).fill('1'),
    );
    expect(h.records()[0]).toEqual({
      messageId: plainIds[0],
      receiptHandle: expect.any(String),
      body: 'm0',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: {},
      md5OfBody: md5('m0'),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:jobs',
      awsRegion: 'us-east-1',
    });
    const withAttributes = h.records()[11];
    expect(withAttributes?.messageId).toBe(attrId);
    expect(withAttributes?.messageAttributes).toEqual({
      kind: { stringValue: 'job', stringListValues: [], binaryListValues: [], dataType: 'String' },
      size: { stringValue: '3', stringListValues: [], binaryListValues: [], dataType: 'Number' },
      raw: {
        binaryValue: Buffer.from([1, 2, 3]).toString('base64'),
        stringListValues: [],
        binaryListValues: [],
        dataType: 'Binary',
      },
    });
    expect(withAttributes?.md5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(await queueEmpty(q)()).toBe(true);
  });

  it.each([
    ['nothing', undefined],
    ['an empty batchItemFailures', { batchItemFailures: [] }],
  ])('deletes the whole batch when the handler answers %s', async (_name, answer) => {
    // Prepare
    const q = await openQueue(1);
    await q.send(['a', 'b', 'c']);
    const h = recordingHandler(() => answer);

    // Act
    const p = startPoller(q, h.handler);
    await waitFor('one batch', () => p.batchesHandled() === 1);

    // Assess: nothing stored, nothing in flight: all three were deleted. The 1 s long poll was
    // shortened below the 1 s visibility timeout, so no message was taken twice in it.
    expect(bodiesOf(h.events[0])).toEqual(['a', 'b', 'c']);
    expect(h.records().map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '1', '1']);
    expect(await q.counts()).toEqual({ messages: 0, inFlight: 0 });
    expect(log.at('error')).toEqual([]);
  });

  it('deletes the others on a partial failure and redelivers the failed one after the visibility timeout', async () => {
    // Prepare
    const q = await openQueue(1);
    const [, bId] = await q.send(['a', 'b', 'c']);
    const h = recordingHandler((_event, call) => (call === 1 ? failing(bId ?? '') : undefined));

    // Act
    const p = startPoller(q, h.handler);
    await waitFor('the first batch', () => p.batchesHandled() === 1);
    const afterFirst = await q.counts();
    await waitFor('the redelivery', () => p.batchesHandled() === 2);

    // Assess: a and c deleted at once (only b is left, in flight until its visibility timeout),
    // then b alone with ApproximateReceiveCount 2.
    expect(bodiesOf(h.events[0])).toEqual(['a', 'b', 'c']);
    expect(afterFirst).toEqual({ messages: 1, inFlight: 1 });
    expect(h.events[1]?.Records).toEqual([
      expect.objectContaining({
        messageId: bId,
        body: 'b',
        attributes: expect.objectContaining({ ApproximateReceiveCount: '2' }),
      }),
    ]);
    await waitFor('an empty queue', queueEmpty(q));
    expect(log.at('warn').map((e) => e.message)).toEqual([
      expect.stringContaining('batch item failures'),
    ]);
  });

  it('moves a message that always fails to the DLQ after maxReceiveCount receives', async () => {
    // Prepare
    const q = await openQueue(1, 2);
    const [, poisonId] = await q.send(['ok', 'poison']);
    const h = recordingHandler((event) =>
      failing(...event.Records.filter((r) => r.body === 'poison').map((r) => r.messageId)),
    );

    // Act
    startPoller(q, h.handler);
    await waitFor(
      'the DLQ to get the message',
      async () => (await q.counts(q.dlqUrl)).messages === 1,
    );

    // Assess: poison delivered twice (receive counts 1 and 2), ok once; the DLQ holds the same
    // message with its source queue; the main queue is empty.
    const poison = h.records().filter((r) => r.body === 'poison');
    expect(poison.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(h.records().filter((r) => r.body === 'ok')).toHaveLength(1);
    expect(await q.counts()).toEqual({ messages: 0, inFlight: 0 });
    const [dead] = await q.peek(q.dlqUrl);
    expect(dead).toMatchObject({
      MessageId: poisonId,
      Body: 'poison',
      Attributes: expect.objectContaining({ DeadLetterQueueSourceArn: q.arn }),
    });
  });

  it('redelivers the whole batch when the handler throws', async () => {
    // Prepare
    const q = await openQueue(1);
    await q.send(['a', 'b']);
    const h = recordingHandler((_event, call) => {
      if (call === 1) throw new Error('boom');
    });

    // Act
    const p = startPoller(q, h.handler);
    await waitFor('the retry', () => p.batchesHandled() === 2);

    // Assess
    expect(bodiesOf(h.events[0])).toEqual(['a', 'b']);
    expect(bodiesOf(h.events[1]).sort()).toEqual(['a', 'b']);
    expect(h.events[1]?.Records.map((r) => r.attributes.ApproximateReceiveCount)).toEqual([
      '2',
      '2',
    ]);
    expect(log.at('error')).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('handler failed'),
        attributes: [expect.objectContaining({ error: 'boom' })],
      }),
    ]);
    await waitFor('an empty queue', queueEmpty(q));
  });

  it('treats an itemIdentifier that is not in the batch as a failure of the whole batch', async () => {
    // Prepare
    const q = await openQueue(1);
    await q.send(['a', 'b']);
    const h = recordingHandler((_event, call) =>
      call === 1 ? failing('not-in-batch') : undefined,
    );

    // Act
    const p = startPoller(q, h.handler);
    await waitFor('the retry', () => p.batchesHandled() === 2);

    // Assess
    expect(bodiesOf(h.events[1]).sort()).toEqual(['a', 'b']);
    expect(h.records().map((r) => r.attributes.ApproximateReceiveCount)).toEqual([
      '1',
      '1',
      '2',
      '2',
    ]);
    expect(log.at('error').map((e) => e.message)).toEqual([
      expect.stringContaining('invalid batch response'),
    ]);
  });

  it('ignores batchItemFailures when reportBatchItemFailures is off', async () => {
    // Prepare
    const q = await openQueue(1);
    const [aId] = await q.send(['a', 'b']);
    const h = recordingHandler(() => failing(aId ?? ''));

    // Act
    const p = startPoller(q, h.handler, { reportBatchItemFailures: false });
    await waitFor('one batch', () => p.batchesHandled() === 1);

    // Assess
    expect(await q.counts()).toEqual({ messages: 0, inFlight: 0 });
  });

  it('runs at most maxConcurrentBatches batches at once', async () => {
    // Prepare
    const q = await openQueue(30);
    await q.send(['a', 'b', 'c', 'd', 'e']);
    let active = 0;
    let peak = 0;
    const h = recordingHandler(async () => {
      active += 1;
      peak = Math.max(peak, active);
      await sleep(150);
      active -= 1;
    });

    // Act
    const p = startPoller(q, h.handler, { batchSize: 1, maxConcurrentBatches: 2 });
    await waitFor('five batches', () => p.batchesHandled() === 5);

    // Assess
    expect(h.events.map((e) => e.Records.length)).toEqual([1, 1, 1, 1, 1]);
    expect(peak).toBe(2);
    expect(await q.counts()).toEqual({ messages: 0, inFlight: 0 });
  });

  it('gives each execution environment its own handler, running one batch at a time', async () => {
    // Prepare: handlers that note every overlap of two batches on one instance
    const q = await openQueue(30);
    await q.send(Array.from({ length: 12 }, (_, i) => `m${i}`));
    let built = 0;
    let overlaps = 0;
    const seenBy = new Map<number, string[]>();
    const createHandler = () => {
      const instance = ++built;
      let busy = false;
      return async (event: SQSEvent) => {
        if (busy) overlaps += 1;
        busy = true;
        await sleep(40);
        seenBy.set(instance, [...(seenBy.get(instance) ?? []), ...bodiesOf(event)]);
        busy = false;
      };
    };

    // Act
    poller = startQueuePoller({
      sqs: q.sqs,
      queueUrl: q.url,
      queueArn: q.arn,
      createHandler,
      log,
      batchSize: 1,
      maxConcurrentBatches: 3,
      waitTimeSeconds: 0,
    });
    await waitFor('twelve batches', () => poller?.batchesHandled() === 12);

    // Assess: three environments at most, each reused, never two batches on one
    expect(built).toBeGreaterThanOrEqual(2);
    expect(built).toBeLessThanOrEqual(3);
    expect(overlaps).toBe(0);
    expect([...seenBy.values()].flat().sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `m${i}`).sort(),
    );
    expect(await queueEmpty(q)()).toBe(true);
  });

  it('leaves a batch to come back when building its environment fails', async () => {
    // Prepare: the first cold start throws (an init error)
    const q = await openQueue(1);
    await q.send(['after-init-error']);
    let attempts = 0;
    const h = recordingHandler(() => undefined);

    // Act
    poller = startQueuePoller({
      sqs: q.sqs,
      queueUrl: q.url,
      queueArn: q.arn,
      createHandler: () => {
        if (++attempts === 1) throw new Error('init failed');
        return h.handler;
      },
      log,
      waitTimeSeconds: 0,
    });
    await waitFor('the retry', () => h.records().length === 1, 8000);

    // Assess
    expect(h.records()[0]?.attributes.ApproximateReceiveCount).toBe('2');
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: expect.stringContaining('handler init failed'),
      }),
    );
  });

  it('takes exactly one of createHandler and handler', () => {
    // Prepare
    const base = {
      sqs: {} as QueuePollerOptions['sqs'],
      queueUrl: 'http://127.0.0.1:1/000000000000/jobs',
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:jobs',
      log,
    };
    const handler = async () => undefined;

    // Act + Assess
    expect(() => startQueuePoller(base)).toThrow(/exactly one of createHandler and handler/);
    expect(() => startQueuePoller({ ...base, handler, createHandler: () => handler })).toThrow(
      TypeError,
    );
  });

  it('stop() waits for the batch in flight, then receives nothing more', async () => {
    // Prepare
    const q = await openQueue(30);
    await q.send(['slow']);
    const gate = deferred();
    const h = recordingHandler(() => gate.promise);
    const p = startPoller(q, h.handler);
    await waitFor('the batch to start', () => p.inFlight() === 1);

    // Act
    let stopped = false;
    const stopping = p.stop().then(() => {
      stopped = true;
    });
    await sleep(100);
    const stoppedBeforeRelease = stopped;
    gate.resolve();
    await stopping;
    await q.send(['late']);
    await sleep(300);

    // Assess
    expect(stoppedBeforeRelease).toBe(false);
    expect(p.inFlight()).toBe(0);
    expect(p.batchesHandled()).toBe(1);
    expect(bodiesOf(h.events[0])).toEqual(['slow']);
    expect(h.events).toHaveLength(1);
    expect(await q.counts()).toEqual({ messages: 1, inFlight: 0 });
    expect(await p.stop()).toBeUndefined();
  });

  it('stops quickly and quietly during a long poll, even when the emulator closes under it', async () => {
    // Prepare: an idle queue, so the poller sits in a 1 s long poll.
    const q = await openQueue(30);
    const h = recordingHandler(() => undefined);
    const p = startPoller(q, h.handler);
    await sleep(200);

    // Act
    const started = Date.now();
    const stopping = p.stop();
    await q.closeEmulator();
    await stopping;

    // Assess
    expect(Date.now() - started).toBeLessThan(1500);
    expect(h.events).toHaveLength(0);
    expect(log.at('error')).toEqual([]);
    expect(log.at('warn')).toEqual([]);
  });

  it('logs SQS errors and retries with a backoff instead of throwing', async () => {
    // Prepare: a queue URL the emulator does not know.
    const q = await openQueue(1);
    const h = recordingHandler(() => undefined);

    // Act
    const p = startPoller(q, h.handler, { queueUrl: `${q.endpoint}/000000000000/missing` });
    await waitFor('two failed receives', () => log.at('error').length >= 2, 3000);
    const started = Date.now();
    await p.stop();

    // Assess: each failure logged with a growing delay; stop() does not wait out the backoff.
    const [first, second] = log.at('error');
    expect(first?.message).toContain('receive failed');
    expect(first?.attributes[0]).toMatchObject({ retryInMs: 200 });
    expect(second?.attributes[0]).toMatchObject({ retryInMs: 400 });
    expect(Date.now() - started).toBeLessThan(300);
    expect(h.events).toHaveLength(0);
  });

  it('rejects options outside the limits of the event source mapping', () => {
    // Prepare
    const base = {
      sqs: {} as QueuePollerOptions['sqs'],
      queueUrl: 'http://127.0.0.1:1/000000000000/jobs',
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:jobs',
      handler: async () => undefined,
      log,
    };

    // Act + Assess
    expect(() => startQueuePoller({ ...base, batchSize: 11 })).toThrow(RangeError);
    expect(() => startQueuePoller({ ...base, batchSize: 0 })).toThrow(RangeError);
    expect(() => startQueuePoller({ ...base, waitTimeSeconds: 21 })).toThrow(RangeError);
    expect(() => startQueuePoller({ ...base, maxConcurrentBatches: 0 })).toThrow(RangeError);
  });
});

describe('outcomeOf (how Lambda reads an SQS batch response)', () => {
  const ids = new Set(['a', 'b']);

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['a null list', { batchItemFailures: null }],
    ['an empty list', { batchItemFailures: [] }],
  ])('counts %s as a success', (_name, answer) => {
    // Act + Assess
    expect(outcomeOf(answer, ids)).toEqual({ kind: 'success' });
  });

  it('counts listed identifiers of the batch as a partial failure', () => {
    // Act
    const outcome = outcomeOf(failing('b', 'b'), ids);

    // Assess
    expect(outcome).toEqual({ kind: 'partial', failed: new Set(['b']) });
  });

  it.each([
    ['a string', 'ok'],
    ['a list', []],
    ['a non-list batchItemFailures', { batchItemFailures: 'a' }],
    ['an unknown identifier', { batchItemFailures: [{ itemIdentifier: 'c' }] }],
    ['an empty identifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null identifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a misspelt key', { batchItemFailures: [{ itemId: 'a' }] }],
    ['a non-object item', { batchItemFailures: ['a'] }],
  ])('counts %s as a failure of the whole batch', (_name, answer) => {
    // Act + Assess
    expect(outcomeOf(answer, ids).kind).toBe('failure');
  });
});
