/**
 * Memoizes a factory: the value is built on first use and reused by every later invocation of
 * the same Lambda container (clients, stores, handlers). Tests and the local runtime bypass it
 * by calling the handler factories with their own ports.
 */
export function once<T>(factory: () => T): () => T {
  let built = false;
  let value: T;
  return () => {
    if (!built) {
      value = factory();
      built = true;
    }
    return value;
  };
}

/** A Lambda handler whose real handler (and its clients and config) is built on first call. */
export function lazyHandler<A extends unknown[], R>(
  build: () => (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  const get = once(build);
  return (...args: A) => get()(...args);
}
