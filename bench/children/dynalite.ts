import { startDynalite } from '../../local/emulators';

/**
 * A bench child process running dynalite (in memory), so the memory section measures the
 * local runtime's gateway without the DynamoDB emulator's own memory (its tables and records)
 * in the same process. Replies `ready` with the endpoint; `close` stops it.
 */

type Command = { op: 'close' };

const send = (message: Record<string, unknown>) => process.send?.(message);

async function main(): Promise<void> {
  const dynamo = await startDynalite({ host: '127.0.0.1' });
  process.on('message', (command: Command) => {
    if (command.op !== 'close') return;
    dynamo
      .close()
      .then(() => {
        send({ op: 'closed' });
        process.disconnect?.();
      })
      .catch((e: unknown) =>
        send({ op: 'error', message: e instanceof Error ? e.message : String(e) }),
      );
  });
  send({ op: 'ready', endpoint: dynamo.endpoint });
}

process.on('disconnect', () => process.exit(0));
main().catch((e: unknown) => {
  send({ op: 'error', message: e instanceof Error ? e.message : String(e) });
  process.exit(1);
});
