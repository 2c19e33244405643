/**
 * Runs `work` on every item with at most `limit` in flight: `limit` workers pull items from
 * the async source a page at a time, so a fan-out holds at most two pages of recipients (the
 * one being worked and the next, read while it is) and pays no per-item bookkeeping (a pool,
 * not a `Promise.race` over the in-flight set). Reading ahead keeps the workers posting
 * through each page read instead of all waiting for it. `work` should not reject; if it does,
 * the first rejection is thrown once all workers stop.
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
  const readAhead = () => {
    const next = pages.next();
    // Awaited by fetchPage; until then a failed read must not count as unhandled.
    next.catch(() => undefined);
    return next;
  };
  let ahead: Promise<IteratorResult<readonly T[]>> | undefined = readAhead();

  const fetchPage = async () => {
    const next = await (ahead ?? pages.next());
    ahead = undefined;
    if (next.done) exhausted = true;
    else {
      page = next.value;
      index = 0;
      ahead = readAhead();
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
