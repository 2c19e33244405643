import { createTokenBucket } from '../../../src/connections/token-bucket';

describe('createTokenBucket', () => {
  afterEach(() => jest.useRealTimers());

  it('lets a burst go at once and holds the next take until a token refills', async () => {
    // Prepare
    jest.useFakeTimers({ now: 0 });
    const bucket = createTokenBucket({ perSecond: 10, burst: 2, now: () => Date.now() });
    let done = 0;

    // Act
    await bucket.take();
    await bucket.take();
    const third = bucket.take().then(() => done++);
    await jest.advanceTimersByTimeAsync(50);
    const before = done;
    await jest.advanceTimersByTimeAsync(60);
    await third;

    // Assess
    expect(before).toBe(0);
    expect(done).toBe(1);
  });

  it('does not limit at a rate of 0', async () => {
    // Prepare
    const bucket = createTokenBucket({ perSecond: 0 });

    // Act
    const taken = await Promise.all(Array.from({ length: 1000 }, () => bucket.take()));

    // Assess
    expect(taken).toHaveLength(1000);
  });
});
