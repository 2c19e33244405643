import { checksPerSecondOf } from '../../../lambdas/workers/connection-sweeper';
import { ENV } from '../../../lambdas/config/env';
import { frameFactory } from '../../../src/push/frames';
import { handleClientFrame } from '../../../src/ws/session';
import { ManualClock, MemoryConnectionStore } from '../core/fakes';

const clock = new ManualClock(new Date('2024-06-01T12:00:00.000Z'));
const frames = frameFactory(clock, () => 'frame-id');

describe('the heartbeat refreshes the last-seen time', () => {
  it('touches the connection on a ping and still answers pong', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    store.seed({ connectionId: 'c1', userId: 'u1' });

    // Act
    const reply = await handleClientFrame({ store, frames, clock }, 'c1', { action: 'ping' });

    // Assess
    expect(reply).toMatchObject([{ type: 'pong' }]);
    expect(store.touched).toEqual(['c1']);
  });

  it('touches on any other frame too', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    store.seed({ connectionId: 'c1', userId: 'u1', allowedGroups: ['*'] });

    // Act
    await handleClientFrame({ store, frames, clock }, 'c1', { action: 'join', group: 'ops' });

    // Assess
    expect(store.touched).toEqual(['c1']);
  });

  it('answers the frame even when the refresh fails', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    store.seed({ connectionId: 'c1', userId: 'u1' });
    jest.spyOn(store, 'touch').mockRejectedValue(new Error('ProvisionedThroughputExceeded'));

    // Act
    const reply = await handleClientFrame({ store, frames, clock }, 'c1', { action: 'ping' });

    // Assess
    expect(reply).toMatchObject([{ type: 'pong' }]);
  });
});

describe('checksPerSecondOf', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['abc', undefined],
    ['-5', undefined],
    ['250', 250],
    ['0', 0],
  ])('reads %p as %p', (value, expected) => {
    // Act
    const rate = checksPerSecondOf(
      value === undefined ? {} : { [ENV.sweepChecksPerSecond]: value },
    );

    // Assess
    expect(rate).toBe(expected);
  });
});
