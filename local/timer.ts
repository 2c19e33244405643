import type { Log } from '../src/ports/log';

/**
 * Runs `job` every `ms` (never two at once), as an EventBridge schedule would invoke a
 * function; `close()` waits for a run in progress.
 */
export function every(
  ms: number,
  job: () => Promise<unknown>,
  log: Log,
): { close(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = job()
      .catch((e: unknown) =>
        log.error('scheduled job failed', { error: e instanceof Error ? e.message : String(e) }),
      )
      .finally(() => (running = undefined));
  }, ms);
  timer.unref();
  return {
    close: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
