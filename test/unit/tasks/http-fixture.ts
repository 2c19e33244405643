import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listen } from '../../../local/net';

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
  const port = await listen(server, '127.0.0.1');
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    // closeServer drops open connections too: slow and endless responses would keep it waiting.
    close: () => closeServer(server),
  };
}
