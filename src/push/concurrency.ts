/**
 * Runs `work` on every item with at most `limit` in flight, pulling items lazily from an async
 * source so a fan-out never holds more than a page of recipients at once.
 */
export async function forEachBounded<T>(
  source: AsyncIterable<readonly T[]>,
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for await (const page of source) {
    for (const item of page) {
      const p = work(item).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= limit) await Promise.race(inFlight);
    }
  }
  await Promise.all(inFlight);
}
