import { createServer, type Server } from 'node:http';
import { closeServer, listen } from '../../local/net';

/** A download server that misbehaves on purpose, by dsNumber. */
export interface FaultServer {
  readonly url: string;
  /** Requests seen per dsNumber. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

/**
 * `/ds/{dsNumber}`:
 * - `boom…` → 500 always; `flaky…` → 500 on the first request, then 200;
 * - `slow…` → never answers; `huge…` → streams past any small cap without Content-Length;
 * - `away…` → 302 to `redirectTo`; `missing…` → 404; anything else → 200 with a small CSV.
 */
export async function startFaultServer(
  options: { redirectTo?: string } = {},
): Promise<FaultServer> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const ds = /^\/ds\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '';
    const n = (hits.get(ds) ?? 0) + 1;
    hits.set(ds, n);
    if (ds.startsWith('boom') || (ds.startsWith('flaky') && n === 1)) {
      res.writeHead(500);
      return res.end('server error');
    }
    if (ds.startsWith('slow')) return; // never answers; the client's timeout ends it
    if (ds.startsWith('huge')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(16 * 1024, 120);
      let sent = 0;
      const pump = () => {
        while (sent < 64 && res.write(chunk)) sent++;
        if (sent < 64) res.once('drain', pump);
        else res.end();
      };
      return pump();
    }
    if (ds.startsWith('away')) {
      res.writeHead(302, { location: `${options.redirectTo ?? 'http://127.0.0.1:9'}/ds/${ds}` });
      return res.end();
    }
    if (ds.startsWith('missing')) {
      res.writeHead(404);
      return res.end('no such dataset');
    }
    res.writeHead(200, { 'content-type': 'text/csv' });
    res.end(`id,value\n1,${ds}\n2,${ds}\n`);
  });
  const port = await listen(server, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => closeServer(server),
  };
}
