import { forEachBounded } from '../../../src/push/concurrency';

/** Pages of `size` numbers, `count` of them; notes when each page read starts and ends. */
function pagesOf(count: number, size: number, events: string[], failAt?: number) {
  return {
    async *[Symbol.asyncIterator]() {
      for (let p = 0; p < count; p++) {
        events.push(`read ${p}`);
        await new Promise((r) => setTimeout(r, 5));
        if (p === failAt) throw new Error(`page ${p} unreadable`);
        yield Array.from({ length: size }, (_, i) => p * size + i);
      }
    },
  };
}

describe('forEachBounded', () => {
  it('works every item exactly once, with at most `limit` in flight', async () => {
    // Prepare
    const seen: number[] = [];
    let inFlight = 0;
    let most = 0;

    // Act
    await forEachBounded(pagesOf(7, 13, []), 5, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      seen.push(n);
      inFlight--;
    });

    // Assess
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 91 }, (_, i) => i));
    expect(most).toBe(5);
  });

  it('holds one page: the next is read only once the last item of this one is taken', async () => {
    // Prepare
    const events: string[] = [];

    // Act
    await forEachBounded(pagesOf(2, 4, events), 2, async (n) => {
      events.push(`work ${n}`);
      await new Promise((r) => setTimeout(r, 10));
    });

    // Assess
    expect(events.indexOf('read 1')).toBeGreaterThan(events.indexOf('work 3'));
  });

  it('throws a page read failure once, with no unhandled rejection', async () => {
    // Prepare
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const worked: number[] = [];

    try {
      // Act: page 1 fails once page 0 is taken
      const run = forEachBounded(pagesOf(3, 4, [], 1), 2, async (n) => {
        worked.push(n);
        await new Promise((r) => setTimeout(r, 20));
      });

      // Assess
      await expect(run).rejects.toThrow('page 1 unreadable');
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
      expect(worked.sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
