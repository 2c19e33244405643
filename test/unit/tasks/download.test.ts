import { createHash } from 'node:crypto';
import { downloadType, type DownloadResult } from '../../../src/tasks/types/download';
import { logicArgsSchema } from '../../../src/tasks/types/logic';
import { PermanentTaskError, type ResolvedServer } from '../../../src/tasks/types/task-type';
import { fakeContext, fakeServer } from './context';
import { type LocalServer, startServer } from './http-fixture';

const servers: LocalServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(...args: Parameters<typeof startServer>): Promise<LocalServer> {
  const server = await startServer(...args);
  servers.push(server);
  return server;
}

const credentials = { username: 'svc', password: 'p@ss:word' };
const expectedAuth = `Basic ${Buffer.from('svc:p@ss:word').toString('base64')}`;

/** A body big enough to arrive in several chunks. */
const payload = Buffer.from(
  ['id,box,value', ...Array.from({ length: 4000 }, (_, i) => `${i},b${i % 3},${i * 7}`)].join('\n'),
);

function serverAt(base: string, overrides: Partial<ResolvedServer> = {}): ResolvedServer {
  return fakeServer({ baseUrl: base, credentials, ...overrides });
}

async function run(server: ResolvedServer, args: { dsNumber?: string; boxId?: string } = {}) {
  const fake = fakeContext({ servers: [server] });
  const result = downloadType.run(
    {
      dsNumber: args.dsNumber ?? 'DS1',
      server: server.name,
      ...(args.boxId ? { boxId: args.boxId } : {}),
    },
    fake.ctx,
  );
  return { ...fake, result: result as Promise<DownloadResult> };
}

describe('download.run', () => {
  it('fetches with basic auth, stores the bytes, reports progress and chains logic', async () => {
    const http = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': payload.length });
      // Several writes so the body arrives in more than one chunk.
      for (let i = 0; i < payload.length; i += 8192) res.write(payload.subarray(i, i + 8192));
      res.end();
    });
    const { result, store, chain, progress } = await run(serverAt(http.base), { boxId: 'B7' });
    const out = await result;

    expect(http.requests).toEqual([{ url: '/DS1', authorization: expectedAuth }]);
    expect(store.files.get('downloads/task-1/DS1')).toEqual(new Uint8Array(payload));
    expect(out.artifact).toEqual({
      key: 'downloads/task-1/DS1',
      name: 'DS1',
      size: payload.length,
      sha256: createHash('sha256').update(payload).digest('hex'),
      contentType: 'text/csv',
    });
    expect(chain).toHaveBeenCalledTimes(1);
    expect(chain).toHaveBeenCalledWith('logic', { artifact: out.artifact, boxId: 'B7' });
    // The chained args are what the logic type accepts.
    expect(logicArgsSchema.safeParse(chain.mock.calls[0]?.[1]).success).toBe(true);
    expect(out).toEqual({
      artifact: out.artifact,
      server: 'main',
      url: `${http.base}/DS1`,
      logicTaskId: 'logic-task-1',
    });
    const fractions = progress.mock.calls.map(([f]) => f);
    expect(fractions.length).toBeGreaterThanOrEqual(1);
    expect(fractions.length).toBeLessThanOrEqual(10);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
  });

  it('chains without a boxId when none was given, and fills the path template', async () => {
    const http = await serve((_req, res) => res.end('hello'));
    const { result, chain, progress } = await run(
      serverAt(http.base, { baseUrl: `${http.base}/`, path: 'data/{dsNumber}.csv' }),
      { dsNumber: 'A_b-9' },
    );
    const out = await result;
    expect(http.requests[0]?.url).toBe('/data/A_b-9.csv');
    expect(chain).toHaveBeenCalledWith('logic', { artifact: out.artifact });
    expect(out.url).toBe(`${http.base}/data/A_b-9.csv`);
    expect(progress.mock.calls.length).toBeLessThanOrEqual(1);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const http = await serve((_req, res) => res.end(Buffer.alloc(1000, 1)));
    const { result } = await run(serverAt(http.base, { maxBytes: 1000 }));
    await expect(result).resolves.toMatchObject({ artifact: { size: 1000 } });
  });

  it('never puts credentials in the reported URL', async () => {
    const http = await serve((_req, res) => res.end('x'));
    const withUserinfo = http.base.replace('http://', 'http://user:secret@');
    const { result } = await run(serverAt(withUserinfo));
    const out = await result;
    expect(out.url).toBe(`${http.base}/DS1`);
    expect(http.requests[0]?.authorization).toBe(expectedAuth);
  });

  it.each([404, 401, 403, 410])('fails permanently on HTTP %i, storing nothing', async (status) => {
    const http = await serve((_req, res) => {
      res.statusCode = status;
      res.end('no');
    });
    const { result, store, chain } = await run(serverAt(http.base));
    await expect(result).rejects.toThrow(PermanentTaskError);
    await expect(result).rejects.toThrow(`HTTP ${status}`);
    expect(store.put).not.toHaveBeenCalled();
    expect(chain).not.toHaveBeenCalled();
  });

  it.each([500, 503, 429])('fails retryably on HTTP %i', async (status) => {
    const http = await serve((_req, res) => {
      res.statusCode = status;
      res.end('later');
    });
    const { result, store } = await run(serverAt(http.base));
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(PermanentTaskError);
    expect(String(error)).toContain(`HTTP ${status}`);
    expect(store.put).not.toHaveBeenCalled();
  });

  it('times out a slow server retryably', async () => {
    const http = await serve((_req, res) => {
      setTimeout(() => res.end('too late'), 2000).unref();
    });
    const started = Date.now();
    const { result, store } = await run(serverAt(http.base, { timeoutMs: 200 }));
    const error = await result.catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(PermanentTaskError);
    expect(String(error)).toContain('timed out after 200 ms');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(store.put).not.toHaveBeenCalled();
  });

  it('times out a body that trickles in', async () => {
    const http = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 100 });
      res.write('a');
      // The rest never comes.
    });
    const { result } = await run(serverAt(http.base, { timeoutMs: 200 }));
    await expect(result).rejects.toThrow('timed out after 200 ms');
  });

  it('fails retryably when the worker is stopping', async () => {
    const http = await serve((_req, res) => {
      setTimeout(() => res.end('x'), 2000).unref();
    });
    const controller = new AbortController();
    const fake = fakeContext({ servers: [serverAt(http.base)], signal: controller.signal });
    const result = downloadType.run({ dsNumber: 'DS1', server: 'main' }, fake.ctx);
    setTimeout(() => controller.abort(), 50);
    const error = await result.catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(PermanentTaskError);
    expect(String(error)).toContain('aborted');
  });

  it('fails retryably when the server cannot be reached', async () => {
    const http = await startServer((_req, res) => res.end());
    await http.close();
    const { result } = await run(serverAt(http.base));
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(PermanentTaskError);
  });

  it('refuses a declared Content-Length over the cap without storing', async () => {
    const http = await serve((_req, res) => res.end(Buffer.alloc(2000)));
    const { result, store, chain } = await run(serverAt(http.base, { maxBytes: 1000 }));
    await expect(result).rejects.toThrow(PermanentTaskError);
    await expect(result).rejects.toThrow('over the 1000 byte cap');
    expect(store.put).not.toHaveBeenCalled();
    expect(chain).not.toHaveBeenCalled();
  });

  it('stops an endless body without Content-Length as soon as it passes the cap', async () => {
    let stopped = false;
    const http = await serve((_req, res) => {
      // Chunked, no length, never ends: only the running count can stop it.
      const timer = setInterval(() => res.write(Buffer.alloc(512, 65)), 5);
      res.on('close', () => {
        stopped = true;
        clearInterval(timer);
      });
    });
    const { result, store } = await run(serverAt(http.base, { maxBytes: 4096 }));
    await expect(result).rejects.toThrow('over the 4096 byte cap');
    await expect(result).rejects.toThrow(PermanentTaskError);
    expect(store.put).not.toHaveBeenCalled();
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(true);
  });

  it('follows a redirect on the same origin, with credentials', async () => {
    const http = await serve((req, res) => {
      if (req.url === '/DS1') {
        res.writeHead(302, { location: '/files/DS1' });
        res.end();
      } else res.end('moved content');
    });
    const { result, store } = await run(serverAt(http.base));
    const out = await result;
    expect(http.requests).toEqual([
      { url: '/DS1', authorization: expectedAuth },
      { url: '/files/DS1', authorization: expectedAuth },
    ]);
    expect(out.url).toBe(`${http.base}/files/DS1`);
    expect(Buffer.from(store.files.get('downloads/task-1/DS1') ?? []).toString()).toBe(
      'moved content',
    );
  });

  it('refuses a redirect to another origin, which never sees a request', async () => {
    const other = await serve((_req, res) => res.end('elsewhere'));
    const http = await serve((_req, res) => {
      res.writeHead(307, { location: `${other.base}/steal` });
      res.end();
    });
    const { result, store } = await run(serverAt(http.base));
    await expect(result).rejects.toThrow(PermanentTaskError);
    await expect(result).rejects.toThrow('redirect off the allow-list');
    expect(other.requests).toEqual([]);
    expect(store.put).not.toHaveBeenCalled();
  });

  it('gives up after three redirects', async () => {
    const http = await serve((req, res) => {
      res.writeHead(301, { location: `${req.url ?? '/'}x` });
      res.end();
    });
    const { result } = await run(serverAt(http.base));
    await expect(result).rejects.toThrow('more than 3 redirects');
    expect(http.requests).toHaveLength(4);
  });

  it('refuses a redirect without a Location', async () => {
    const http = await serve((_req, res) => {
      res.statusCode = 302;
      res.end();
    });
    const { result } = await run(serverAt(http.base));
    await expect(result).rejects.toThrow(PermanentTaskError);
  });

  it('sends no authorization header when the server has no credentials', async () => {
    const http = await serve((_req, res) => res.end('open'));
    const { result } = await run(fakeServer({ baseUrl: http.base }));
    await result;
    expect(http.requests).toEqual([{ url: '/DS1' }]);
  });

  it.each(['nowhere', 'constructor'])('fails permanently for unknown server %s', async (name) => {
    const fake = fakeContext();
    await expect(downloadType.run({ dsNumber: 'DS1', server: name }, fake.ctx)).rejects.toThrow(
      PermanentTaskError,
    );
  });
});
