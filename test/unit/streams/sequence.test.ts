import { deliver } from '../../../src/deliveries/deliver';
import type { FramePusher } from '../../../src/push/frame-pusher';
import { frameFactory } from '../../../src/push/frames';
import { sequenced } from '../../../src/streams/sequence';
import type { StreamLog } from '../../../src/streams/stream-log';
import { MemoryFanoutQueue, MemoryMessageStore } from '../../support/memory-stores';
import { ManualClock, MemoryConnectionStore } from '../core/fakes';

const clock = new ManualClock(new Date('2024-06-01T12:00:00.000Z'));
const frames = frameFactory(clock, () => 'frame-1');
const FRAME = frames.make('message', { data: { n: 1 }, to: { user: 'alice' } });

/** A stream log whose writes all fail, as DynamoDB does when it throttles past its retries. */
const failingLog = (): StreamLog => ({
  historySize: 1000,
  append: () => Promise.reject(new Error('ProvisionedThroughputExceededException')),
  tips: () => Promise.resolve(new Map()),
  read: () => Promise.resolve([]),
});

const recordingPusher = () => {
  const pushed: unknown[] = [];
  const pusher: FramePusher = {
    push: () => Promise.reject(new Error('not used')),
    pushTo: async (_recipients, frame) => {
      pushed.push(frame);
      return { attempted: 1, delivered: 1, gone: 0, failed: 0, retried: 0 };
    },
    post: () => Promise.resolve({ outcome: 'delivered', retries: 0 }),
    isGone: () => Promise.resolve(false),
  };
  return { pusher, pushed };
};

describe('sequenced: a push is appended before it goes out, or it does not go out', () => {
  it('leaves a frame to a single connection unsequenced (it is in no stream)', async () => {
    // Act
    const frame = await sequenced(failingLog(), { kind: 'connection', connectionId: 'c1' }, FRAME);

    // Assess
    expect(frame).toBe(FRAME);
  });

  it('answers unavailable, with the cause kept, when the log cannot be written', async () => {
    // Act
    const attempt = sequenced(failingLog(), { kind: 'user', userId: 'alice' }, FRAME);

    // Assess
    await expect(attempt).rejects.toMatchObject({
      code: 'unavailable',
      message: 'the stream history could not be written, so nothing was sent; try again',
      cause: expect.objectContaining({ message: 'ProvisionedThroughputExceededException' }),
    });
  });

  it('sends nothing to anyone when the append fails', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    store.seed({ connectionId: 'a1', userId: 'alice' });
    const { pusher, pushed } = recordingPusher();

    // Act
    const attempt = deliver(
      {
        store,
        pusher,
        messages: new MemoryMessageStore(),
        fanout: new MemoryFanoutQueue(),
        clock,
        streams: failingLog(),
      },
      { kind: 'user', userId: 'alice' },
      FRAME,
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'unavailable' });
    expect(pushed).toEqual([]);
  });
});
