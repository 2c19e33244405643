import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { POSTER_CLIENT_SETTINGS } from '../../src/adapters/api-gateway/connection-poster';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/lambda-types';
import { closeServer } from '../../local/net';
import { bareLoop, startBareServer } from '../bare-loop';
import { send, serveChild } from './serve';

/**
 * A bench child process running the baseline: a 200-only server and the bare PostToConnection
 * loop of the same SDK client (keep-alive agent, maxSockets 256), in a process of their own so
 * the bench's runtime and clients do not slow the baseline (issue 10). Driven over IPC by
 * bench/processes.ts: each `run` posts `bytes`-sized data to `n` ids at `concurrency`.
 */

type Command = { op: 'run'; n: number; bytes: number; concurrency: number };

serveChild<Command>(async () => {
  const bare = await startBareServer();
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const client = new ApiGatewayManagementApiClient({
    // The engine's client, configured as the engine configures it.
    ...POSTER_CLIENT_SETTINGS,
    endpoint: bare.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    requestHandler: { httpAgent: agent },
  });
  return {
    handle: async (command) => {
      // Ids of the gateway's shape (16 random bytes, base64url, "=").
      const ids = Array.from(
        { length: command.n },
        () => `${randomBytes(12).toString('base64url')}=`,
      );
      const data = Buffer.alloc(command.bytes, 'x');
      const t0 = performance.now();
      const delivered = await bareLoop(client, ids, data, command.concurrency);
      send({ op: 'ran', delivered, ms: performance.now() - t0 });
    },
    close: async () => {
      client.destroy();
      agent.destroy();
      await closeServer(bare.server);
    },
  };
});
