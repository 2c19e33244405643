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

/**
 * The slow dataset: {@link SLOW_DATASET_BYTES} bytes sent in {@link SLOW_DATASET_CHUNKS} chunks
 * {@link SLOW_DATASET_GAP_MS} apart (about 4 s in all), so a download of it is still running
 * when a test or a person cancels it (`download 90000`, then `cancel <taskId>`).
 */
export const SLOW_DATASET = '90000';
export const SLOW_DATASET_BYTES = 40 * 2048;
export const SLOW_DATASET_CHUNKS = 40;
export const SLOW_DATASET_GAP_MS = 100;

/** The slow dataset's bytes: log lines, cut to length. */
function slowBody(): Buffer {
  const lines: string[] = [];
  for (let i = 0; lines.join('\n').length < SLOW_DATASET_BYTES; i++) {
    lines.push(`2026-11-22T00:00:00Z INFO slow step ${i}`);
  }
  return Buffer.from(lines.join('\n')).subarray(0, SLOW_DATASET_BYTES);
}

/** A running sample download server. */
export interface SampleServer {
  readonly url: string;
  /** Body bytes written so far for a dataset (a stopped download of the slow one reads fewer). */
  bytesServed(dsNumber: string): number;
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
  const served = new Map<string, number>();
  const count = (dsNumber: string, bytes: number) =>
    served.set(dsNumber, (served.get(dsNumber) ?? 0) + bytes);
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="samples"' });
      return res.end('unauthorized');
    }
    const m = /^\/datasets\/([A-Za-z0-9_-]+)$/.exec(
      new URL(req.url ?? '/', `http://${host}`).pathname,
    );
    if (m?.[1] === SLOW_DATASET) {
      const body = slowBody();
      const size = Math.ceil(body.length / SLOW_DATASET_CHUNKS);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
      let offset = 0;
      const next = () => {
        // A reader that went away (a cancelled download) stops the sending.
        if (res.destroyed || res.writableEnded) return;
        const chunk = body.subarray(offset, offset + size);
        offset += chunk.length;
        count(SLOW_DATASET, chunk.length);
        if (offset >= body.length) return void res.end(chunk);
        res.write(chunk);
        const timer = setTimeout(() => {
          timers.delete(timer);
          next();
        }, SLOW_DATASET_GAP_MS);
        timers.add(timer);
      };
      return next();
    }
    const dataset = m?.[1] ? sampleDataset(m[1]) : undefined;
    if (!dataset) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('no such dataset');
    }
    res.writeHead(200, {
      'content-type': dataset.contentType,
      'content-length': dataset.body.length,
    });
    if (m?.[1]) count(m[1], dataset.body.length);
    res.end(dataset.body);
  });
  const port = await listen(server, host, options.port);
  return {
    url: `http://${host}:${port}`,
    bytesServed: (dsNumber) => served.get(dsNumber) ?? 0,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await closeServer(server);
    },
  };
}
