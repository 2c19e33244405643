import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

/**
 * `npm start` stopped the way a process manager or a terminal stops it: a signal to the pid npm
 * has. npm runs the runtime under `sh -c`, so npm's death alone does not reach it; the runtime
 * must notice and stop, freeing its ports, instead of living on as an orphan.
 */

const root = path.resolve(__dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Whether a port can be listened on again. */
async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.each(['SIGTERM', 'SIGKILL'] as const)('npm start, its npm process sent %s', (signal) => {
  const leftovers: number[] = [];
  afterEach(() => {
    for (const pid of leftovers.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('stops the runtime and frees its ports', async () => {
    // Prepare
    const [httpPort, wsPort] = [await freePort(), await freePort()];
    const npm = spawn('npm', ['start'], {
      cwd: root,
      env: {
        ...process.env,
        TASKWIRE_HTTP_PORT: String(httpPort),
        TASKWIRE_WS_PORT: String(wsPort),
        TASKWIRE_LOG_LEVEL: 'WARN',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const npmExited = new Promise<void>((resolve) => npm.on('exit', () => resolve()));
    const runtimePid = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line:\n${out}`)), 20_000);
      npm.stdout.on('data', () => {
        const m = /ready: ws=\S+ http=\S+ pid=(\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    leftovers.push(runtimePid);
    expect(runtimePid).not.toBe(npm.pid);
    expect(await portFree(httpPort)).toBe(false);

    // Act
    npm.kill(signal);
    await npmExited;
    // A bound, not a speed: the runtime checks on its parent twice a second, then stops in order.
    const deadline = Date.now() + 30_000;
    while (alive(runtimePid) && Date.now() < deadline) await sleep(100);

    // Assess
    expect({ alive: alive(runtimePid), out: alive(runtimePid) ? out.slice(-3000) : '' }).toEqual({
      alive: false,
      out: '',
    });
    expect([await portFree(httpPort), await portFree(wsPort)]).toEqual([true, true]);
  }, 60_000);
});
