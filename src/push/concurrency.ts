/**
 * Runs `work` on every item with at most `limit` in flight: `limit` workers pull items from
 * the async source a page at a time, so a fan-out never holds more than a page of recipients
 * and pays no per-item bookkeeping (a pool, not a `Promise.race` over the in-flight set).
 * `work` should not reject; if it does, the first rejection is thrown once all workers stop.
 */
export async function forEachBounded<T>(
  source: AsyncIterable<readonly T[]>,
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const pages = source[Symbol.asyncIterator]();
  let page: readonly T[] = [];
  let index = 0;
  let exhausted = false;
  let fetching: Promise<void> | undefined;

  const fetchPage = async () => {
    const next = await pages.next();
    if (next.done) exhausted = true;
    else {
      page = next.value;
      index = 0;
    }
  };

  const take = async (): Promise<{ item: T } | undefined> => {
    for (;;) {
      if (index < page.length) return { item: page[index++] as T };
      if (exhausted) return undefined;
      // One worker reads the next page; the others wait for the same read.
      fetching ??= fetchPage().finally(() => (fetching = undefined));
      await fetching;
    }
  };

  const worker = async () => {
    for (let next = await take(); next; next = await take()) await work(next.item);
  };
  const results = await Promise.allSettled(Array.from({ length: Math.max(1, limit) }, worker));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
