import { DeleteConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { LocalRuntime } from '../../local/runtime';
import { SAMPLE_CREDENTIALS, SLOW_DATASET } from '../../local/sample-server';
import { LocalArtifactStore } from '../../src/adapters/local-files/artifact-store';
import { resolveServers } from '../../lambdas/config/download-servers';
import type { Task } from '../../src/tasks/task';
import { jsonLineLog } from '../../worker/log';
import { type RunReport, type SocketWorker, startSocketWorker } from '../../worker/socket-worker';
import { signToken } from '../../src/auth/token';
import { killSpawned, type Spawned, spawnTracked } from '../support/processes';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { eventually, type Frame, TestClient } from '../support/ws-client';

/**
 * The reference socket worker (`npm run worker`, worker/) against the local runtime with every
 * task placed `websocket`: in process for the volume run, as child processes
 * (`node --import tsx scripts/worker.ts …`) for SIGKILL and SIGTERM, and the CLI's answers to
 * bad flags. A run is counted by the worker's own report (`onTaskEnd` in process, the
 * `task finished` JSON line on a child's stderr); the rest is what a user sees: the requester's
 * `task.update` frames and `GET /tasks/{taskId}`.
 */

const TERMINAL = ['succeeded', 'failed', 'cancelled'];
/** A bound for a whole batch of tasks to end on this machine, not a speed. */
const BATCH_BOUND_MS = 150_000;

const sockets: TestClient[] = [];
const workers: SocketWorker[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
  await Promise.all(sockets.splice(0).map((c) => c.close()));
  await killSpawned();
});

/** Starts a runtime that places download and logic on socket workers only. */
const startWebsocketRuntime = (leaseSeconds: number) =>
  startTestRuntime({
    placement: {
      placement: { download: 'websocket', logic: 'websocket' },
      leaseSeconds,
      placementTimeoutSeconds: 300,
    },
    connectionSweepMs: 0,
  });

/** The runtime's download servers as `--servers`/`DOWNLOAD_SERVERS` JSON (and credentials). */
const serversJson = (rt: LocalRuntime) =>
  JSON.stringify({ local: { baseUrl: rt.sampleServerUrl, path: '/datasets/{dsNumber}' } });
const credentialsJson = JSON.stringify({ local: SAMPLE_CREDENTIALS });

/** A worker token (role `worker`). */
const workerToken = (sub: string) => tokenFor({ sub, roles: ['worker'] });

/** An in-process socket worker on the runtime's artifacts folder, reporting each run. */
async function inProcessWorker(
  rt: LocalRuntime,
  sub: string,
  taskTypes: string[],
  concurrency: number,
  reports: RunReport[],
): Promise<SocketWorker> {
  const worker = startSocketWorker({
    url: rt.wsUrl,
    token: await workerToken(sub),
    taskTypes,
    concurrency,
    artifacts: new LocalArtifactStore({
      root: rt.artifactsRoot,
      baseUrl: rt.httpUrl,
      secret: 'test-worker-links',
    }),
    servers: resolveServers(
      { local: { baseUrl: rt.sampleServerUrl, path: '/datasets/{dsNumber}' } },
      { local: { ...SAMPLE_CREDENTIALS } },
    ),
    log: jsonLineLog({ write: () => true }, { level: 'error' }),
    backoff: { baseMs: 100, capMs: 1000 },
    onTaskEnd: (report) => reports.push(report),
  });
  workers.push(worker);
  await worker.ready;
  return worker;
}

/** `scripts/worker.ts` as a child process, as `npm run worker` runs it. */
function spawnWorker(args: readonly string[], env: NodeJS.ProcessEnv = {}): Spawned {
  return spawnTracked(process.execPath, ['--import', 'tsx', 'scripts/worker.ts', ...args], {
    ...process.env,
    ...env,
  });
}

/** A child worker for download and logic on the runtime; resolves once it has registered. */
async function childWorker(
  rt: LocalRuntime,
  sub: string,
  types: string,
  concurrency: number,
): Promise<Spawned> {
  const child = spawnWorker([
    '--url',
    rt.wsUrl,
    '--token',
    await workerToken(sub),
    '--type',
    types,
    '--concurrency',
    String(concurrency),
    '--artifacts',
    rt.artifactsRoot,
    '--servers',
    serversJson(rt),
    '--credentials',
    credentialsJson,
  ]);
  await child.waitForOutput(/worker: ready, registered as connection \S+/);
  return child;
}

/** The JSON lines a child worker logged (stderr) with that `msg`. */
function logLines(child: Spawned, msg: string): Record<string, unknown>[] {
  return child
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.msg === msg);
}

/** A requester (role client) whose connection records every frame. */
async function requester(rt: LocalRuntime, sub: string): Promise<TestClient> {
  const client = await TestClient.connect(rt.wsUrl, await tokenFor({ sub, roles: ['client'] }));
  sockets.push(client);
  const registered = await client.request({ action: 'register', clientType: 'viewer' });
  expect(registered.type).toBe('registered');
  return client;
}

/** Submits `count` downloads of a dataset over WebSocket at once; returns their ids. */
async function submitDownloads(
  client: TestClient,
  dsNumber: string,
  count: number,
): Promise<string[]> {
  const replies = await Promise.all(
    Array.from({ length: count }, () =>
      client.request({ action: 'submit', taskType: 'download', args: [dsNumber] }, 60_000),
    ),
  );
  for (const reply of replies) expect(reply.type).toBe('task.accepted');
  return replies.map((r) => String(r.taskId));
}

/** The requester's terminal `task.update` frames, by taskId. */
function terminalUpdates(client: TestClient): Map<string, Frame[]> {
  const byTask = new Map<string, Frame[]>();
  for (const f of client.frames) {
    if (f.type !== 'task.update' || !TERMINAL.includes(String(f.status))) continue;
    const list = byTask.get(String(f.taskId)) ?? [];
    list.push(f);
    byTask.set(String(f.taskId), list);
  }
  return byTask;
}

/** The task record as `GET /tasks/{taskId}` answers it (admin). */
async function taskRecord(rt: LocalRuntime, taskId: string): Promise<Task> {
  const token = await tokenFor({ sub: 'ops', roles: ['admin'] });
  const res = await fetch(`${rt.httpUrl}/tasks/${taskId}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Task;
}

/** The records of many tasks, a few requests at a time. */
async function taskRecords(rt: LocalRuntime, taskIds: readonly string[]): Promise<Task[]> {
  const out: Task[] = [];
  for (let i = 0; i < taskIds.length; i += 20) {
    out.push(...(await Promise.all(taskIds.slice(i, i + 20).map((id) => taskRecord(rt, id)))));
  }
  return out;
}

/** The ids of the logic tasks the downloads chained (from their results). */
const chainedOf = (downloads: readonly Task[]): string[] =>
  downloads.map((d) => String((d.result as { logicTaskId?: unknown } | undefined)?.logicTaskId));

/** How many times each key occurs. */
function counts(keys: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const k of keys) out.set(k, (out.get(k) ?? 0) + 1);
  return out;
}

describe('socket workers in process (placement websocket, lease 30 s)', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startWebsocketRuntime(30);
  });
  afterAll(async () => rt.stop());

  it('runs 200 downloads and their 200 chained logic tasks on two workers, each once to success', async () => {
    // Prepare
    const reports: RunReport[] = [];
    await inProcessWorker(rt, 'worker-a', ['download', 'logic'], 4, reports);
    await inProcessWorker(rt, 'worker-b', ['download', 'logic'], 4, reports);
    const alice = await requester(rt, 'alice');

    // Act
    const downloadIds = await submitDownloads(alice, '12345', 200);
    await eventually(() => terminalUpdates(alice).size >= 400, BATCH_BOUND_MS);

    // Assess: every download succeeded and chained the logic task the worker named
    const downloads = await taskRecords(rt, downloadIds);
    expect(downloads.map((t) => t.status)).toEqual(downloadIds.map(() => 'succeeded'));
    const logicIds = chainedOf(downloads);
    expect(new Set(logicIds).size).toBe(200);
    const logics = await taskRecords(rt, logicIds);
    for (const [i, logic] of logics.entries()) {
      expect(logic).toMatchObject({
        taskType: 'logic',
        status: 'succeeded',
        parentTaskId: downloadIds[i],
      });
    }
    // Assess: each of the 400 tasks ran to completion exactly once, on one worker or the other
    const all = [...downloadIds, ...logicIds];
    expect(reports.filter((r) => r.outcome !== 'succeeded')).toEqual([]);
    expect([...counts(reports.map((r) => r.taskId)).entries()].sort()).toEqual(
      all.map((id) => [id, 1]).sort(),
    );
    const chainedByWorker = reports.filter((r) => r.taskType === 'download');
    for (const r of chainedByWorker) {
      expect(r.chainedTaskId).toBe(logicIds[downloadIds.indexOf(r.taskId)]);
    }
    // Assess: the requester saw one terminal update per task, and no other
    const terminal = terminalUpdates(alice);
    expect(terminal.size).toBe(400);
    for (const id of all) expect(terminal.get(id)).toHaveLength(1);
  }, 240_000);

  it('reconnects when the gateway drops it mid-task and finishes the task offered again', async () => {
    // Prepare: one worker running a slow download
    const reports: RunReport[] = [];
    const worker = await inProcessWorker(rt, 'worker-r', ['download', 'logic'], 1, reports);
    const first = worker.connectionId() ?? '';
    const alice = await requester(rt, 'alice-reconnect');
    const [taskId = ''] = await submitDownloads(alice, SLOW_DATASET, 1);
    await eventually(() => worker.running() === 1, 60_000);

    // Act: the server side ends the worker's connection (as API Gateway does)
    await rt.management.send(new DeleteConnectionCommand({ ConnectionId: first }));
    await eventually(() => terminalUpdates(alice).size >= 2, BATCH_BOUND_MS);

    // Assess: a new connection took the task again (attempt 2) and finished it; the first run
    // was dropped, not answered
    expect(worker.connectionId()).not.toBe(first);
    const record = await taskRecord(rt, taskId);
    expect(record).toMatchObject({ status: 'succeeded', attempt: 2 });
    const ofTask = reports.filter((r) => r.taskId === taskId);
    expect(ofTask.map((r) => [r.attempt, r.outcome])).toEqual([
      [1, 'dropped'],
      [2, 'succeeded'],
    ]);
    expect(terminalUpdates(alice).get(taskId)).toHaveLength(1);
  }, 120_000);
});

describe('socket worker processes (placement websocket, lease 3 s)', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startWebsocketRuntime(3);
  });
  afterAll(async () => rt.stop());

  it('finishes on the other worker what a SIGKILLed worker held: none lost, none doubled', async () => {
    // Prepare: two workers, downloads of the slow dataset (about 4 s each)
    const a = await childWorker(rt, 'worker-a', 'download,logic', 2);
    const b = await childWorker(rt, 'worker-b', 'download,logic', 2);
    const alice = await requester(rt, 'alice');
    const downloadIds = await submitDownloads(alice, SLOW_DATASET, 8);
    await eventually(
      () => logLines(a, 'task run started').some((l) => l.taskType === 'download'),
      60_000,
    );

    // Act: kill worker A mid-task
    process.kill(-(a.process.pid ?? 0), 'SIGKILL');
    await a.exitWithin();
    await a.closed;
    await eventually(() => terminalUpdates(alice).size >= 16, BATCH_BOUND_MS);

    // Assess: every download and its logic task succeeded
    const downloads = await taskRecords(rt, downloadIds);
    expect(downloads.map((t) => t.status)).toEqual(downloadIds.map(() => 'succeeded'));
    const logicIds = chainedOf(downloads);
    const logics = await taskRecords(rt, logicIds);
    expect(logics.map((t) => t.status)).toEqual(logicIds.map(() => 'succeeded'));
    // Assess: each task was answered `succeeded` by exactly one worker
    const all = [...downloadIds, ...logicIds];
    const succeeded = [...logLines(a, 'task finished'), ...logLines(b, 'task finished')]
      .filter((l) => l.outcome === 'succeeded')
      .map((l) => String(l.taskId));
    expect([...counts(succeeded).entries()].sort()).toEqual(all.map((id) => [id, 1]).sort());
    // Assess: what A held mid-run was offered again and finished by B (attempts recorded)
    const finishedBy = (child: Spawned) =>
      new Set(
        logLines(child, 'task finished')
          .filter((l) => l.outcome === 'succeeded')
          .map((l) => String(l.taskId)),
      );
    const finishedByA = finishedBy(a);
    const lost = logLines(a, 'task run started')
      .map((l) => String(l.taskId))
      .filter((id) => !finishedByA.has(id));
    expect(lost.length).toBeGreaterThan(0);
    const records = await taskRecords(rt, lost);
    for (const record of records) {
      expect(record.status).toBe('succeeded');
      expect(record.attempt).toBeGreaterThanOrEqual(2);
    }
    const finishedByB = finishedBy(b);
    for (const id of lost) expect(finishedByB.has(id)).toBe(true);
    // Assess: the requester saw one terminal update per task
    const terminal = terminalUpdates(alice);
    for (const id of all) expect(terminal.get(id)).toHaveLength(1);
  }, 200_000);

  it('drains on SIGTERM: the task in flight succeeds, then the process exits 0', async () => {
    // Prepare: a download worker process and an in-process logic worker for the chained task
    const reports: RunReport[] = [];
    await inProcessWorker(rt, 'logic-worker', ['logic'], 1, reports);
    const worker = await childWorker(rt, 'worker-c', 'download', 1);
    const alice = await requester(rt, 'alice-drain');
    const [taskId = ''] = await submitDownloads(alice, SLOW_DATASET, 1);
    await eventually(() => logLines(worker, 'task run started').length > 0, 60_000);

    // Act
    worker.process.kill('SIGTERM');
    const code = await worker.exitWithin(60_000);

    // Assess: it said it drained, answered the task, and exited 0
    expect(code).toBe(0);
    expect(worker.stdout()).toMatch(/SIGTERM: draining 1 task\(s\) in flight/);
    expect(worker.stdout()).toMatch(/worker: drained, stopped/);
    expect(logLines(worker, 'task finished')).toEqual([
      expect.objectContaining({ taskId, outcome: 'succeeded' }),
    ]);
    const record = await taskRecord(rt, taskId);
    expect(record).toMatchObject({ status: 'succeeded' });
    // Assess: the chained logic task went on to the other worker
    const logicId = chainedOf([record])[0] ?? '';
    await eventually(async () => (await taskRecord(rt, logicId)).status === 'succeeded', 60_000);
    expect(terminalUpdates(alice).get(taskId)).toHaveLength(1);
  }, 120_000);
});

describe('npm run worker: a token the server refuses', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startWebsocketRuntime(30);
  });
  afterAll(async () => rt.stop());

  const run = (token: string) =>
    spawnWorker([
      '--url',
      rt.wsUrl,
      '--token',
      token,
      '--type',
      'logic',
      '--artifacts',
      rt.artifactsRoot,
    ]);

  it('exits 1 saying the registration was refused for a token without the worker role', async () => {
    // Prepare
    const token = await tokenFor({ sub: 'just-a-client', roles: ['client'] });

    // Act
    const child = run(token);
    const code = await child.exitWithin(60_000);
    await child.closed;

    // Assess
    expect(code).toBe(1);
    expect(child.stderr()).toMatch(
      /worker: the server refused the registration: forbidden: .*worker or admin role/,
    );
  });

  it('exits 1 saying the token was refused (401) for a token signed with another secret', async () => {
    // Prepare
    const token = await signToken(
      { sub: 'worker-x', roles: ['worker'] },
      'another-secret-0123456789-0123456789-abcdef',
    );

    // Act
    const child = run(token);
    const code = await child.exitWithin(60_000);
    await child.closed;

    // Assess
    expect(code).toBe(1);
    expect(child.stderr()).toMatch(/worker: the token was refused \(401\): check --token/);
  });
});

describe('npm run worker: bad flags', () => {
  const ok = ['--url', 'ws://127.0.0.1:9', '--token', 'aaa.bbb.ccc'];
  const cases: [string, string[], RegExp][] = [
    ['no --url', ['--token', 'aaa.bbb.ccc', '--type', 'logic'], /--url is required/],
    [
      'a --url that is not ws',
      ['--url', 'http://x', '--token', 'a.b.c', '--type', 'logic'],
      /--url must be a ws:\/\/ or wss:\/\/ URL/,
    ],
    ['no --token', ['--url', 'ws://127.0.0.1:9', '--type', 'logic'], /--token is required/],
    [
      'a --token that is no JWT',
      ['--url', 'ws://127.0.0.1:9', '--token', 'nope', '--type', 'logic'],
      /--token is not a JWT/,
    ],
    ['no --type', ok, /--type is required: one or more of download, logic/],
    [
      'an unknown --type',
      [...ok, '--type', 'upload'],
      /--type: unknown task type "upload"; known: download, logic/,
    ],
    [
      '--concurrency 0',
      [...ok, '--type', 'logic', '--concurrency', '0'],
      /--concurrency must be 1\.\.32/,
    ],
    [
      '--concurrency 33',
      [...ok, '--type', 'logic', '--concurrency', '33'],
      /--concurrency must be 1\.\.32/,
    ],
    [
      '--concurrency x',
      [...ok, '--type', 'logic', '--concurrency', 'x'],
      /--concurrency must be a whole number 1\.\.32/,
    ],
    [
      '--servers not JSON',
      [...ok, '--type', 'download', '--servers', '{"local":'],
      /--servers is not valid JSON/,
    ],
    [
      '--servers of a bad shape',
      [...ok, '--type', 'download', '--servers', '{"local":{"baseUrl":"ftp://x"}}'],
      /--servers: local\.baseUrl: /,
    ],
    [
      '--credentials not JSON',
      [...ok, '--type', 'logic', '--credentials', 'x'],
      /download credentials from --credentials are not JSON/,
    ],
    [
      'download without servers',
      [...ok, '--type', 'download'],
      /--type download needs download servers/,
    ],
    ['an unknown flag', [...ok, '--type', 'logic', '--bogus'], /Unknown option '--bogus'/],
  ];

  it.each(cases)('%s: exits 2 with its message and the usage', async (_name, args, message) => {
    // Prepare
    const env = { DOWNLOAD_SERVERS: '', DOWNLOAD_CREDENTIALS: '', TASKWIRE_TOKEN: '' };

    // Act
    const child = spawnWorker(args, env);
    const code = await child.exitWithin(60_000);
    await child.closed;

    // Assess
    expect(code).toBe(2);
    expect(child.stderr()).toMatch(message);
    expect(child.stderr()).toMatch(/^worker: /);
    expect(child.stderr()).toContain('usage: npm run worker -- --url <ws url>');
    expect(child.stdout()).toBe('');
  });
});
