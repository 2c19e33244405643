import { startDynalite } from '../../local/emulators';
import { serveChild } from './serve';

/**
 * A bench child process running dynalite (in memory), as DynamoDB is a service of its own in the
 * cloud: the measured runtime then spends neither memory nor event-loop time on the emulator.
 * Replies `ready` with the endpoint.
 */
serveChild<never>(async () => {
  const dynamo = await startDynalite({ host: '127.0.0.1' });
  return {
    ready: { endpoint: dynamo.endpoint },
    handle: async () => undefined,
    close: () => dynamo.close(),
  };
});
