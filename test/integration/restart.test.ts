import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TEST_SECRET, tokenFor } from '../support/runtime';
import { type Frame, TestClient } from '../support/ws-client';

/**
 * The local runtime as `npm start` runs it (a child process on a data folder), stopped with tasks
 * and scheduled messages in flight, then started again on the same folder and ports: the tables
 * survive, the in-memory queues do not, and every accepted task and scheduled message must still
 * come to its end, each once.
 */

const root = path.resolve(__dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two ports that were free a moment ago. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve) => {
          const s = createServer();
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

interface Child {
  readonly process: ChildProcess;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Starts `node --import tsx local/main.ts` on the folder and ports; resolves once it is ready. */
async function startChild(dataDir: string, httpPort: number, wsPort: number): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      TASKWIRE_DATA_DIR: dataDir,
      TASKWIRE_HTTP_PORT: String(httpPort),
      TASKWIRE_WS_PORT: String(wsPort),
      TASKWIRE_AUTH_SECRET: TEST_SECRET,
      TASKWIRE_LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line:\n${out}`)), 20_000);
    const check = () => {
      const m = /ready: ws=(\S+) http=(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', check);
    void exited.then(() => reject(new Error(`exited before ready:\n${out}`)));
  });
  return {
    process: child,
    wsUrl: ready[1] ?? '',
    httpUrl: ready[2] ?? '',
    exited,
    output: () => out,
  };
}

async function call(child: Child, method: string, urlPath: string, body?: unknown) {
  const token = await tokenFor({ sub: 'ops', roles: ['admin'] });
  const res = await fetch(`${child.httpUrl}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Task counts per status, from GET /stats (every task of the table, chained ones included). */
async function taskCounts(child: Child): Promise<Record<string, number>> {
  const stats = await call(child, 'GET', '/stats');
  return stats.body.tasks as Record<string, number>;
}

/** Runs `work` on up to `limit` items at once. */
async function bounded<T, R>(items: readonly T[], limit: number, work: (t: T) => Promise<R>) {
  const out: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i] as T);
      }
    }),
  );
  return out;
}

describe.each(['SIGTERM', 'SIGKILL'] as const)('a restart after %s', (signal) => {
  let dataDir: string;
  const children: Child[] = [];
  const clients: TestClient[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'taskwire-restart-'));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    for (const child of children.splice(0)) {
      if (child.process.exitCode === null && child.process.signalCode === null) {
        child.process.kill('SIGKILL');
        await child.exited;
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('ends every accepted task and sends every scheduled message once', async () => {
    // Prepare: a runtime on a data folder, a listener for the scheduled messages
    const [httpPort = 0, wsPort = 0] = await freePorts(2);
    const first = await startChild(dataDir, httpPort, wsPort);
    children.push(first);
    const listener = await TestClient.connect(first.wsUrl, await tokenFor({ sub: 'sched' }));
    // The socket dies with the runtime; that is expected here.
    listener.socket.on('error', () => undefined);
    await listener.request({ action: 'ping' });
    const schedule = async (data: string, sendAt: number) => {
      const res = await call(first, 'POST', '/users/sched/messages', {
        data,
        sendAt: new Date(sendAt).toISOString(),
      });
      expect(res.status).toBe(202);
      return { id: String(res.body.scheduledId), data, sendAt };
    };
    // Due around the stop.
    const t0 = Date.now();
    const scheduled = await Promise.all(
      [900, 1300, 1500, 1700].map((ms, i) => schedule(`scheduled-${i}`, t0 + ms)),
    );

    // Act: 100 tasks (downloads chain a logic task each), and the signal once 60 are accepted
    // (about 1.5 s in), while the rest are still being submitted
    const bodies = Array.from({ length: 100 }, (_, i) =>
      i % 3 === 0
        ? { taskType: 'download', args: ['12345'] }
        : { taskType: 'logic', args: ['restart', `n${i}`] },
    );
    let acceptedSoFar = 0;
    const submitting = bounded(bodies, 10, async (body) => {
      try {
        const res = await call(first, 'POST', '/tasks', body);
        if (res.status === 202) acceptedSoFar++;
        return res.status === 202 ? String(res.body.taskId) : undefined;
      } catch {
        return undefined; // the runtime went away mid-request: not accepted
      }
    });
    const submitBound = Date.now() + 20_000;
    while (acceptedSoFar < 60 && Date.now() < submitBound) await sleep(10);
    // Due well after the restart.
    const late = Date.now();
    scheduled.push(
      ...(await Promise.all([8000, 8500].map((ms, i) => schedule(`late-${i}`, late + ms)))),
    );
    const before = await taskCounts(first).catch(() => undefined);
    first.process.kill(signal);
    const code = await first.exited;
    const accepted = (await submitting).filter((id): id is string => id !== undefined);

    const second = await startChild(dataDir, httpPort, wsPort);
    children.push(second);
    const listener2 = await TestClient.connect(second.wsUrl, await tokenFor({ sub: 'sched' }));
    clients.push(listener2);
    await listener2.request({ action: 'ping' });
    const listening = Date.now();

    // Assess: nothing open once the restarted runtime has caught up
    if (signal === 'SIGTERM') {
      // A clean stop exits 0; on anything else, show what the runtime said.
      expect({ code, out: code === 0 ? '' : first.output().slice(-4000) }).toEqual({
        code: 0,
        out: '',
      });
    }
    expect(accepted.length).toBeGreaterThanOrEqual(60);
    // The stop did catch work in flight (otherwise this test would prove nothing).
    if (before) expect((before.queued ?? 0) + (before.running ?? 0)).toBeGreaterThan(0);
    let counts: Record<string, number>;
    const deadline = Date.now() + 30_000;
    do {
      await sleep(200);
      counts = await taskCounts(second);
    } while ((counts.queued ?? 0) + (counts.running ?? 0) > 0 && Date.now() < deadline);
    expect({ queued: counts.queued, running: counts.running }).toEqual({ queued: 0, running: 0 });
    const statuses = await bounded(accepted, 10, async (id) => {
      const res = await call(second, 'GET', `/tasks/${id}`);
      return String(res.body.status);
    });
    expect(statuses.filter((s) => s !== 'succeeded')).toEqual([]);
    expect(counts.failed).toBe(0);

    // Every scheduled message is sent, and no listener saw one twice.
    let states: string[];
    const sentBy = Date.now() + 15_000;
    do {
      await sleep(200);
      states = await Promise.all(
        scheduled.map(async ({ id }) =>
          String((await call(second, 'GET', `/scheduled/${id}`)).body.state),
        ),
      );
    } while (states.some((s) => s !== 'sent') && Date.now() < sentBy);
    expect(states).toEqual(scheduled.map(() => 'sent'));
    const seen = [...listener.frames, ...listener2.frames]
      .filter((f: Frame) => f.type === 'message')
      .map((f) => String(f.data));
    for (const { data } of scheduled) {
      expect({ data, times: seen.filter((d) => d === data).length }).toEqual({
        data,
        times: seen.includes(data) ? 1 : 0,
      });
    }
    // Those due once the second runtime's listener was there (normally the two `late` ones: the
    // restart takes a few seconds of their 8) reached it, once each.
    const dueLater = scheduled.filter((m) => m.sendAt > listening).map((m) => m.data);
    for (const data of dueLater) expect(seen.filter((d) => d === data)).toEqual([data]);
    await listener.close();
  }, 60_000);
});
