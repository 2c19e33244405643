import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a {@link LocalServer} received. */
export interface ReceivedRequest {
  readonly url: string;
  readonly authorization?: string;
}

/** A real HTTP server on 127.0.0.1 and an ephemeral port: the only network the tests use. */
export interface LocalServer {
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  readonly requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** Starts a server that records each request, then hands it to `handler`. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<LocalServer> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({
      url: req.url ?? '',
      ...(req.headers.authorization !== undefined
        ? { authorization: req.headers.authorization }
        : {}),
    });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // Slow and endless responses would otherwise keep close() waiting.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
