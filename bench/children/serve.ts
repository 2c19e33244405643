/**
 * The IPC side of every bench child (bench/processes.ts is the other): starts the child's
 * service, replies `ready` (with what the service offers, e.g. a URL), hands each command to it,
 * answers `close` by closing it and replying `closed`, turns every failure into an `error` reply,
 * and exits when the bench goes away.
 */

/** A message to the bench. */
export const send = (message: Record<string, unknown>): void => {
  process.send?.(message);
};

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** What a bench child runs. */
export interface ChildService<C extends { op: string }> {
  /** Fields of the `ready` reply. */
  readonly ready?: Record<string, unknown>;
  /** One command (any op but `close`); replies with `send`. */
  handle(command: C): Promise<void>;
  /** Frees what the service holds, before `closed` is replied. */
  close(): Promise<void>;
}

/** Runs a bench child: see the module comment. */
export function serveChild<C extends { op: string }>(start: () => Promise<ChildService<C>>): void {
  // The bench went away: nothing left to measure for.
  process.on('disconnect', () => process.exit(0));
  start().then(
    (service) => {
      process.on('message', (command: C | { op: 'close' }) => {
        const run =
          command.op === 'close'
            ? service.close().then(() => {
                send({ op: 'closed' });
                process.disconnect?.();
              })
            : service.handle(command as C);
        run.catch((e: unknown) => send({ op: 'error', message: errorText(e) }));
      });
      send({ op: 'ready', ...service.ready });
    },
    (e: unknown) => {
      send({ op: 'error', message: errorText(e) });
      process.exit(1);
    },
  );
}
