/** Reports a handler's error without stopping the emitter: `reportError` where there is one. */
function reportError(error: unknown): void {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (report) report(error);
  else console.error('@taskwire/client: an event handler threw', error);
}

/** A handler of one event type. */
export type Handler<T> = (event: T) => void;

/**
 * A small typed event emitter: `on` returns its own unsubscribe, a throwing handler does not
 * stop the others (its error goes to `onHandlerError`, by default `reportError`/`console.error`).
 */
export class Emitter<Events extends object> {
  private readonly handlers = new Map<keyof Events, Set<Handler<never>>>();

  public constructor(private readonly onHandlerError: (error: unknown) => void = reportError) {}

  /** Adds a handler; returns the function that removes it. */
  public on<K extends keyof Events>(type: K, handler: Handler<Events[K]>): () => void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    set.add(handler as Handler<never>);
    return () => {
      set.delete(handler as Handler<never>);
    };
  }

  /** Calls every handler of the type with the event. */
  public emit<K extends keyof Events>(type: K, event: Events[K]): void {
    const set = this.handlers.get(type);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        (handler as Handler<Events[K]>)(event);
      } catch (error) {
        this.onHandlerError(error);
      }
    }
  }

  /** Removes every handler. */
  public clear(): void {
    this.handlers.clear();
  }
}
