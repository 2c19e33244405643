import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePorts } from '../support/ports';
import { killSpawned, spawnLocalMain, type Spawned } from '../support/processes';
import { TEST_SECRET, tokenFor } from '../support/runtime';
import { type Frame, TestClient } from '../support/ws-client';

/**
 * The local runtime as `npm start` runs it (a child process on a data folder), stopped with tasks
 * and scheduled messages in flight, then started again on the same folder and ports: the tables
 * survive, the in-memory queues do not, and every accepted task and scheduled message must still
 * come to its end, each once.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Bounds of the waits below, each on a condition: generous, for a loaded 2-core CI machine (a
 * bound, not a speed; on an idle machine each is met in a few seconds).
 */
const SUBMIT_BOUND_MS = 60_000;
const CATCH_UP_BOUND_MS = 90_000;
const SENT_BOUND_MS = 60_000;

interface Child {
  readonly process: Spawned['process'];
  readonly httpUrl: string;
  readonly wsUrl: string;
  exitWithin(): Promise<number | null>;
  output(): string;
}

/** Starts `node --import tsx local/main.ts` on the folder and ports; resolves once it is ready. */
async function startChild(dataDir: string, httpPort: number, wsPort: number): Promise<Child> {
  const child = spawnLocalMain({
    ...process.env,
    TASKWIRE_DATA_DIR: dataDir,
    TASKWIRE_HTTP_PORT: String(httpPort),
    TASKWIRE_WS_PORT: String(wsPort),
    TASKWIRE_AUTH_SECRET: TEST_SECRET,
    TASKWIRE_LOG_LEVEL: 'WARN',
  });
  const ready = await child.waitForOutput(/ready: ws=(\S+) http=(\S+)/);
  return {
    process: child.process,
    wsUrl: ready[1] ?? '',
    httpUrl: ready[2] ?? '',
    exitWithin: () => child.exitWithin(),
    output: child.output,
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
  const clients: TestClient[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'taskwire-restart-'));
  });
  afterEach(async () => {
    // Whatever a failed test left: every client, every child (killed), then the folder.
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await killSpawned();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('ends every accepted task and sends every scheduled message once', async () => {
    // Prepare: a runtime on a data folder, a listener for the scheduled messages
    const [httpPort = 0, wsPort = 0] = await freePorts(2);
    const first = await startChild(dataDir, httpPort, wsPort);
    const listener = await TestClient.connect(first.wsUrl, await tokenFor({ sub: 'sched' }));
    clients.push(listener);
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
    const submitBound = Date.now() + SUBMIT_BOUND_MS;
    while (acceptedSoFar < 60 && Date.now() < submitBound) await sleep(10);
    // Due well after the restart.
    const late = Date.now();
    scheduled.push(
      ...(await Promise.all([8000, 8500].map((ms, i) => schedule(`late-${i}`, late + ms)))),
    );
    const before = await taskCounts(first).catch(() => undefined);
    first.process.kill(signal);
    const code = await first.exitWithin();
    const accepted = (await submitting).filter((id): id is string => id !== undefined);

    const second = await startChild(dataDir, httpPort, wsPort);
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
    const deadline = Date.now() + CATCH_UP_BOUND_MS;
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
    const sentBy = Date.now() + SENT_BOUND_MS;
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
  }, 240_000);
});
