import {
  type ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { createServer, type Server } from 'node:http';
import { listen } from '../local/net';
import { mapLimit } from './harness';

/**
 * The baseline every push benchmark divides by: a minimal HTTP server on 127.0.0.1 that answers
 * 200 to everything, at the same path shape as the gateway's management endpoint
 * (…/{stage}/@connections/{id}), so the same SDK client can post to it.
 */
export async function startBareServer(): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200);
      res.end();
    });
  });
  // Idle keep-alive sockets stay open between rounds: with Node's 5 s default, the server could
  // close one just as the next round's first post reuses it (ECONNRESET, seen once), and the
  // baseline's client makes no retries (the engine's settings).
  server.keepAliveTimeout = 10 * 60_000;
  const port = await listen(server, '127.0.0.1');
  return { endpoint: `http://127.0.0.1:${port}/local`, server };
}

/** The bare loop: PostToConnection for every id at the given concurrency; returns how many. */
export async function bareLoop(
  client: ApiGatewayManagementApiClient,
  ids: readonly string[],
  data: Uint8Array,
  concurrency: number,
): Promise<number> {
  let delivered = 0;
  await mapLimit(ids, concurrency, async (id) => {
    await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: data }));
    delivered++;
  });
  return delivered;
}
