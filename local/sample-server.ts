import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { closeServer, listen } from './net';

/** Basic-auth credentials the sample server expects (and the local runtime configures). */
export const SAMPLE_CREDENTIALS = { username: 'taskwire', password: 'sample-password' } as const;

/**
 * The sample datasets, by dsNumber: a CSV, a JSON document and a log file, generated so the
 * repository carries no binary fixtures. Any other number answers 404.
 */
export function sampleDataset(dsNumber: string): { body: Buffer; contentType: string } | undefined {
  const seed = createHash('sha256').update(dsNumber).digest();
  switch (dsNumber) {
    case '12345': {
      const rows = ['id,sensor,value'];
      for (let i = 0; i < 200; i++) rows.push(`${i},s${i % 7},${(seed[i % 32] ?? 0) + i}`);
      return { body: Buffer.from(`${rows.join('\n')}\n`), contentType: 'text/csv' };
    }
    case '22222':
      return {
        body: Buffer.from(
          JSON.stringify({
            dsNumber,
            records: Array.from({ length: 50 }, (_, i) => ({ i, ok: i % 3 !== 0 })),
          }),
        ),
        contentType: 'application/json',
      };
    case '33333': {
      const lines = Array.from(
        { length: 120 },
        (_, i) => `2026-11-22T00:00:${String(i % 60).padStart(2, '0')}Z INFO step ${i}`,
      );
      return { body: Buffer.from(`${lines.join('\n')}\n`), contentType: 'text/plain' };
    }
    default:
      return undefined;
  }
}

/** A running sample download server. */
export interface SampleServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the sample datasets at `/datasets/{dsNumber}` behind basic auth, so `download 12345`
 * works offline exactly as against a real server.
 */
export async function startSampleServer(
  options: { host?: string; port?: number } = {},
): Promise<SampleServer> {
  const host = options.host ?? '127.0.0.1';
  const expected = `Basic ${Buffer.from(`${SAMPLE_CREDENTIALS.username}:${SAMPLE_CREDENTIALS.password}`).toString('base64')}`;
  const server: Server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="samples"' });
      return res.end('unauthorized');
    }
    const m = /^\/datasets\/([A-Za-z0-9_-]+)$/.exec(
      new URL(req.url ?? '/', `http://${host}`).pathname,
    );
    const dataset = m?.[1] ? sampleDataset(m[1]) : undefined;
    if (!dataset) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('no such dataset');
    }
    res.writeHead(200, {
      'content-type': dataset.contentType,
      'content-length': dataset.body.length,
    });
    res.end(dataset.body);
  });
  const port = await listen(server, host, options.port);
  return {
    url: `http://${host}:${port}`,
    close: () => closeServer(server),
  };
}
