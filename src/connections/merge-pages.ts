/**
 * Reads several page sources at once and yields each page as soon as it arrives, so a
 * broadcast's shard Queries run side by side instead of one after another.
 */
export async function* mergePages<T>(sources: readonly AsyncIterable<T>[]): AsyncIterable<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<T> }>>();
  const arm = (index: number) => {
    const it = iterators[index];
    if (it)
      pending.set(
        index,
        it.next().then((result) => ({ index, result })),
      );
  };
  iterators.forEach((_, i) => arm(i));
  while (pending.size > 0) {
    const { index, result } = await Promise.race(pending.values());
    if (result.done) {
      pending.delete(index);
    } else {
      arm(index);
      yield result.value;
    }
  }
}
