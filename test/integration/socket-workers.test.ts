import type { LocalRuntime } from '../../local/runtime';
import type { PlacementSettings } from '../../src/tasks/socket/placement';
import type { Task } from '../../src/tasks/task';
import { INLINE_RESULT_BYTES } from '../../src/tasks/worker';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { eventually, type Frame, TestClient } from '../support/ws-client';

/**
 * Socket workers (docs/protocol.md, "Workers over WebSocket") through the local runtime: each
 * worker here is a raw `ws` client the test drives, registered with the `worker` role, that
 * answers the `task.assign` frames it gets itself. Everything is asserted on what a user sees:
 * frames, HTTP answers and task records by `GET /tasks/{taskId}`. Cancel on a Lambda worker
 * (it stops the work) is in cancel.test.ts.
 */

// Generous bounds for a loaded machine: every wait ends as soon as its condition holds.
jest.setTimeout(120_000);

const sockets: TestClient[] = [];
const TASK_ID_RE = /^t_[a-z2-7]{20}$/;

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((c) => c.close()));
});

/** Starts a runtime with the placement a describe needs (and a quiet connection sweep). */
const startWith = (placement: Partial<PlacementSettings>) =>
  startTestRuntime({ placement, connectionSweepMs: 0 });

/** A connection of `sub` with `roles`, registered as `clientType` (no worker). */
async function connect(
  rt: LocalRuntime,
  sub: string,
  roles: Parameters<typeof tokenFor>[0]['roles'] = ['client'],
  clientType = 'viewer',
): Promise<TestClient> {
  const client = await TestClient.connect(rt.wsUrl, await tokenFor({ sub, roles }));
  sockets.push(client);
  const registered = await client.request({ action: 'register', clientType });
  expect(registered.type).toBe('registered');
  return client;
}

/** A test-driven socket worker and its connection id. */
interface Worker {
  readonly client: TestClient;
  readonly connectionId: string;
}

/** Connects a socket worker (role `worker`) for `taskTypes` with `concurrency` slots. */
async function connectWorker(
  rt: LocalRuntime,
  sub: string,
  taskTypes: string[] = ['download'],
  concurrency = 1,
): Promise<Worker> {
  const client = await TestClient.connect(rt.wsUrl, await tokenFor({ sub, roles: ['worker'] }));
  sockets.push(client);
  const registered = await client.request({
    action: 'register',
    clientType: taskTypes[0] ?? 'download',
    worker: { taskTypes, concurrency },
  });
  expect(registered).toMatchObject({ type: 'registered', clientType: taskTypes[0] });
  return { client, connectionId: String(registered.connectionId) };
}

/** Submits a task over WebSocket and returns its id. */
async function submitOver(client: TestClient, taskType: string, args: unknown): Promise<string> {
  const accepted = await client.request({ action: 'submit', taskType, args });
  expect(accepted.type).toBe('task.accepted');
  return String(accepted.taskId);
}

const isAssign = (taskId: string, attempt?: number) => (f: Frame) =>
  f.type === 'task.assign' &&
  f.taskId === taskId &&
  (attempt === undefined || f.attempt === attempt);

/** Waits for the worker's offer of the task (of that attempt, when given). */
const assigned = (w: Worker, taskId: string, attempt?: number) =>
  w.client.waitFor(isAssign(taskId, attempt), 30_000);

const assignsOf = (w: Worker) => w.client.ofType('task.assign');

const updatesOf = (client: TestClient, taskId: string): Frame[] =>
  client.frames.filter((f) => f.type === 'task.update' && f.taskId === taskId);

const TERMINAL = ['succeeded', 'failed', 'cancelled'];

/** Waits for the task's terminal `task.update` at the client and returns it. */
const ended = (client: TestClient, taskId: string) =>
  client.waitFor(
    (f) => f.type === 'task.update' && f.taskId === taskId && TERMINAL.includes(String(f.status)),
    30_000,
  );

/** The task record as `GET /tasks/{taskId}` answers it (admin). */
async function taskRecord(rt: LocalRuntime, taskId: string): Promise<Task> {
  const token = await tokenFor({ sub: 'ops', roles: ['admin'] });
  const res = await fetch(`${rt.httpUrl}/tasks/${taskId}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Task;
}

/** Waits until the task's record is in `status` and returns it. */
async function recordIn(rt: LocalRuntime, taskId: string, status: string): Promise<Task> {
  let task: Task | undefined;
  await eventually(async () => {
    task = await taskRecord(rt, taskId);
    return task.status === status;
  }, 30_000);
  if (!task) throw new Error('unreachable');
  return task;
}

/** Waits until no frame more arrives for a short while (a bound for what must not happen). */
const quiet = (ms = 500) => new Promise((r) => setTimeout(r, ms));

describe('placement websocket', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startWith({
      placement: { download: 'websocket' },
      leaseSeconds: 30,
      placementTimeoutSeconds: 120,
    });
  });
  afterAll(async () => {
    await rt.stop();
  });

  it('offers a download to the worker, relays its progress and queues the chained logic task from its result', async () => {
    // Prepare
    const worker = await connectWorker(rt, 'dl-1');
    const alice = await connect(rt, 'alice');

    // Act: the submit, the worker's progress, then its result with a chained logic task
    const taskId = await submitOver(alice, 'download', ['12345']);
    const offer = await assigned(worker, taskId);
    const progressAck = await worker.client.request({
      action: 'progress',
      taskId,
      progress: 0.5,
      note: 'half way',
    });
    await alice.waitFor(
      (f) => f.type === 'task.update' && f.taskId === taskId && f.progress === 0.5,
    );
    const whileRunning = await taskRecord(rt, taskId);
    const resultAck = await worker.client.request({
      action: 'result',
      taskId,
      result: { bytes: 42 },
      next: { taskType: 'logic', args: { args: ['from-worker'] } },
    });

    // Assess: the offer, the acks, one terminal update, and the chained task that ran in Lambda
    expect(offer).toMatchObject({
      type: 'task.assign',
      taskId,
      taskType: 'download',
      args: { dsNumber: '12345', server: 'local' },
      attempt: 1,
      leaseSeconds: 30,
    });
    expect(typeof offer.id).toBe('string');
    expect(progressAck).toMatchObject({ type: 'task.ack', taskId });
    // The record keeps the progress and the worker's last note (the chat's status view shows it).
    expect(whileRunning).toMatchObject({ status: 'running', progress: 0.5, note: 'half way' });
    expect(resultAck).toMatchObject({ type: 'task.ack', taskId });
    const end = await ended(alice, taskId);
    expect(end).toMatchObject({ status: 'succeeded', result: { bytes: 42 } });
    expect(await taskRecord(rt, taskId)).toMatchObject({
      status: 'succeeded',
      result: { bytes: 42 },
      attempt: 1,
      workerConnectionId: worker.connectionId,
    });
    const logic = await alice.waitFor(
      (f) =>
        f.type === 'task.update' &&
        f.taskType === 'logic' &&
        f.taskId !== taskId &&
        f.status === 'succeeded',
      30_000,
    );
    expect(await taskRecord(rt, String(logic.taskId))).toMatchObject({
      taskType: 'logic',
      source: 'chain',
      parentTaskId: taskId,
      status: 'succeeded',
    });
    await quiet();
    expect(
      updatesOf(alice, taskId).filter((f) => TERMINAL.includes(String(f.status))),
    ).toHaveLength(1);
    expect(updatesOf(alice, taskId).map((f) => f.status)).toContain('running');
    // The worker was offered nothing else (the logic task is Lambda's).
    expect(assignsOf(worker)).toHaveLength(1);
  });

  it('ends a task failed on the worker’s `fail`, with its error', async () => {
    // Prepare
    const worker = await connectWorker(rt, 'dl-fail');
    const alice = await connect(rt, 'alice');
    const taskId = await submitOver(alice, 'download', ['12345']);
    await assigned(worker, taskId);

    // Act
    const ack = await worker.client.request({ action: 'fail', taskId, error: 'disk full' });

    // Assess
    expect(ack).toMatchObject({ type: 'task.ack', taskId });
    expect(await ended(alice, taskId)).toMatchObject({ status: 'failed', error: 'disk full' });
    expect(await taskRecord(rt, taskId)).toMatchObject({ status: 'failed', error: 'disk full' });
  });

  it('offers a task again (attempt 2) after a retryable `fail`, and it ends once', async () => {
    // Prepare
    const worker = await connectWorker(rt, 'dl-retry');
    const alice = await connect(rt, 'alice');
    const taskId = await submitOver(alice, 'download', ['12345']);
    await assigned(worker, taskId, 1);

    // Act
    const ack = await worker.client.request({
      action: 'fail',
      taskId,
      error: 'mirror busy',
      retryable: true,
    });
    const again = await assigned(worker, taskId, 2);
    await worker.client.request({ action: 'result', taskId, result: 'second try' });

    // Assess
    expect(ack).toMatchObject({ type: 'task.ack', taskId });
    expect(again).toMatchObject({ attempt: 2 });
    expect(await ended(alice, taskId)).toMatchObject({ status: 'succeeded', result: 'second try' });
    await quiet();
    expect(
      updatesOf(alice, taskId).filter((f) => TERMINAL.includes(String(f.status))),
    ).toHaveLength(1);
  });

  it('spreads tasks least loaded first: two workers of concurrency 1 get one task each', async () => {
    // Prepare
    const a = await connectWorker(rt, 'dl-a');
    const b = await connectWorker(rt, 'dl-b');
    const alice = await connect(rt, 'alice');

    // Act
    const first = await submitOver(alice, 'download', ['12345']);
    const second = await submitOver(alice, 'download', ['22222']);

    // Assess: each worker holds one of the two
    await eventually(() => assignsOf(a).length + assignsOf(b).length === 2, 30_000);
    expect(assignsOf(a)).toHaveLength(1);
    expect(assignsOf(b)).toHaveLength(1);
    const offered = [...assignsOf(a), ...assignsOf(b)].map((f) => f.taskId).sort();
    expect(offered).toEqual([first, second].sort());
    const holder = (taskId: string) => (assignsOf(a)[0]?.taskId === taskId ? a : b);
    for (const taskId of [first, second]) {
      const ack = await holder(taskId).client.request({ action: 'result', taskId, result: 'ok' });
      expect(ack).toMatchObject({ type: 'task.ack', taskId });
      expect(await ended(alice, taskId)).toMatchObject({ status: 'succeeded' });
    }
  });

  it('does not offer a worker at capacity a second task: it waits queued until the first ends', async () => {
    // Prepare
    const worker = await connectWorker(rt, 'dl-cap');
    const alice = await connect(rt, 'alice');
    const first = await submitOver(alice, 'download', ['12345']);
    await assigned(worker, first);

    // Act: a second task while the worker's only slot is taken
    const second = await submitOver(alice, 'download', ['22222']);
    // The waiting task is looked at again every placement retry (2 s here): give it two.
    await quiet(5000);
    const whileBusy = await taskRecord(rt, second);
    const offersWhileBusy = assignsOf(worker).length;
    await worker.client.request({ action: 'result', taskId: first, result: 'ok' });

    // Assess: not offered while busy, offered (attempt 1) once the slot is free
    expect(whileBusy.status).toBe('queued');
    expect(offersWhileBusy).toBe(1);
    expect(await assigned(worker, second)).toMatchObject({ attempt: 1 });
    await worker.client.request({ action: 'result', taskId: second, result: 'ok' });
    expect(await ended(alice, second)).toMatchObject({ status: 'succeeded' });
  });

  it('cancels a task running on a socket worker: the worker gets task.cancel and its late result lease_lost', async () => {
    // Prepare
    const worker = await connectWorker(rt, 'dl-cancel');
    const alice = await connect(rt, 'alice');
    const taskId = await submitOver(alice, 'download', ['12345']);
    await assigned(worker, taskId);
    await worker.client.request({ action: 'progress', taskId, progress: 0.1 });

    // Act
    const reply = await alice.request({ action: 'cancel', taskId });
    const notice = await worker.client.waitFor(
      (f) => f.type === 'task.cancel' && f.taskId === taskId,
    );
    const late = await worker.client.request({ action: 'result', taskId, result: 'too late' });

    // Assess
    expect(reply).toMatchObject({ type: 'task.cancelled', taskId, status: 'cancelled' });
    expect(notice).toMatchObject({ type: 'task.cancel', taskId });
    expect(late).toMatchObject({
      type: 'error',
      code: 'lease_lost',
      message: `task ${taskId} is no longer yours: it has ended (cancelled)`,
    });
    expect(await ended(alice, taskId)).toMatchObject({ status: 'cancelled' });
    const record = await taskRecord(rt, taskId);
    expect(record.status).toBe('cancelled');
    await quiet();
    expect(
      updatesOf(alice, taskId).filter((f) => TERMINAL.includes(String(f.status))),
    ).toHaveLength(1);
    expect(record.result).toBeUndefined();
    // The slot is free again: the next task is offered to the same worker.
    const next = await submitOver(alice, 'download', ['12345']);
    await assigned(worker, next);
    await worker.client.request({ action: 'result', taskId: next, result: 'ok' });
    await ended(alice, next);
  });

  it('stores a result over the inline cap as an artifact link, as a Lambda run does', async () => {
    // Prepare
    const worker = await connectWorker(rt, 'dl-big');
    const alice = await connect(rt, 'alice');
    const taskId = await submitOver(alice, 'download', ['12345']);
    await assigned(worker, taskId);
    const big = { text: 'x'.repeat(INLINE_RESULT_BYTES + 1000) };

    // Act
    const ack = await worker.client.request({ action: 'result', taskId, result: big });

    // Assess
    expect(ack).toMatchObject({ type: 'task.ack', taskId });
    const record = await recordIn(rt, taskId, 'succeeded');
    expect(record.result).toMatchObject({
      stored: true,
      resultUrl: expect.any(String),
      artifact: { key: `results/${taskId}.json`, name: `${taskId}.json` },
    });
    const { resultUrl } = record.result as { resultUrl: string };
    const stored = await fetch(resultUrl);
    expect(stored.status).toBe(200);
    expect(await stored.json()).toEqual(big);
  });

  describe('bad input', () => {
    it('refuses a client-role connection that registers as a worker (forbidden)', async () => {
      // Prepare
      const client = await TestClient.connect(
        rt.wsUrl,
        await tokenFor({ sub: 'mallory', roles: ['client'] }),
      );
      sockets.push(client);

      // Act
      const reply = await client.request({
        action: 'register',
        clientType: 'viewer',
        worker: { taskTypes: ['download'] },
      });

      // Assess
      expect(reply).toMatchObject({
        type: 'error',
        code: 'forbidden',
        message: 'registering as a socket worker needs the worker or admin role',
      });
    });

    it.each<[string, unknown, string]>([
      [
        'concurrency 0',
        { taskTypes: ['download'], concurrency: 0 },
        'worker.concurrency: Too small: expected number to be >=1',
      ],
      [
        'concurrency 33',
        { taskTypes: ['download'], concurrency: 33 },
        'worker.concurrency: Too big: expected number to be <=32',
      ],
      [
        'concurrency 1.5',
        { taskTypes: ['download'], concurrency: 1.5 },
        'worker.concurrency: Invalid input: expected int, received number',
      ],
      [
        'no task types',
        { taskTypes: [] },
        'worker.taskTypes: Too small: expected array to have >=1 items',
      ],
      [
        'an unknown task type',
        { taskTypes: ['download', 'render'] },
        'worker.taskTypes: unknown task type "render"; known: download, logic',
      ],
    ])('refuses a worker registration with %s (bad_request)', async (_what, worker, message) => {
      // Prepare
      const client = await TestClient.connect(
        rt.wsUrl,
        await tokenFor({ sub: 'w-bad', roles: ['worker'] }),
      );
      sockets.push(client);

      // Act
      const reply = await client.request({ action: 'register', clientType: 'download', worker });

      // Assess
      expect(reply).toMatchObject({ type: 'error', code: 'bad_request', message });
    });

    it('refuses answers about a task the connection does not hold with lease_lost and a reason', async () => {
      // Prepare: `holder` holds a task; `other` is a worker that does not; one task has ended
      const holder = await connectWorker(rt, 'dl-holder');
      const alice = await connect(rt, 'alice');
      const held = await submitOver(alice, 'download', ['12345']);
      await assigned(holder, held);
      const other = await connectWorker(rt, 'dl-other');
      const done = await submitOver(alice, 'logic', ['x']);
      await ended(alice, done);
      const unknown = 't_aaaaaaaaaaaaaaaaaaaa';

      // Act
      const answers = {
        resultOfOthers: await other.client.request({ action: 'result', taskId: held, result: 1 }),
        progressOfOthers: await other.client.request({ action: 'progress', taskId: held }),
        failOfOthers: await other.client.request({ action: 'fail', taskId: held, error: 'x' }),
        unknown: await other.client.request({ action: 'result', taskId: unknown, result: 1 }),
        unknownProgress: await other.client.request({ action: 'progress', taskId: unknown }),
        ended: await holder.client.request({ action: 'result', taskId: done, result: 1 }),
        endedProgress: await holder.client.request({ action: 'progress', taskId: done }),
        endedFail: await holder.client.request({ action: 'fail', taskId: done, error: 'x' }),
      };

      // Assess
      const lost = (taskId: string, why: string) => ({
        type: 'error',
        code: 'lease_lost',
        message: `task ${taskId} is no longer yours: ${why}`,
      });
      expect(answers.resultOfOthers).toMatchObject(
        lost(held, 'it is not assigned to this connection'),
      );
      expect(answers.progressOfOthers).toMatchObject(
        lost(held, 'it is not assigned to this connection'),
      );
      expect(answers.failOfOthers).toMatchObject(
        lost(held, 'it is not assigned to this connection'),
      );
      expect(answers.unknown).toMatchObject(lost(unknown, 'no such task'));
      expect(answers.unknownProgress).toMatchObject(lost(unknown, 'no such task'));
      expect(answers.ended).toMatchObject(lost(done, 'it has ended (succeeded)'));
      expect(answers.endedFail).toMatchObject(lost(done, 'it has ended (succeeded)'));
      expect(answers.endedProgress).toMatchObject(lost(done, 'it has ended (succeeded)'));
      // Nothing changed: the holder still holds its task and finishes it.
      expect((await taskRecord(rt, held)).status).toBe('running');
      expect((await taskRecord(rt, done)).result).not.toBe(1);
      const ack = await holder.client.request({ action: 'result', taskId: held, result: 'ok' });
      expect(ack).toMatchObject({ type: 'task.ack', taskId: held });
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['result', { action: 'result', taskId: 'nope', result: 1 }, 'taskId: not a task id'],
      ['progress', { action: 'progress', taskId: 'nope' }, 'taskId: not a task id'],
      ['fail', { action: 'fail', taskId: 'nope', error: 'x' }, 'taskId: not a task id'],
      [
        'progress over 1',
        { action: 'progress', taskId: 't_aaaaaaaaaaaaaaaaaaaa', progress: 1.5 },
        'progress: Too big: expected number to be <=1',
      ],
      [
        'result without result',
        { action: 'result', taskId: 't_aaaaaaaaaaaaaaaaaaaa' },
        'result: result is required',
      ],
      [
        'fail without error',
        { action: 'fail', taskId: 't_aaaaaaaaaaaaaaaaaaaa' },
        'error: Invalid input: expected string, received undefined',
      ],
    ])('refuses a malformed %s with bad_request', async (_what, frame, message) => {
      // Prepare
      const worker = await connectWorker(rt, 'dl-malformed');

      // Act
      const reply = await worker.client.request(frame);

      // Assess
      expect(reply).toMatchObject({ type: 'error', code: 'bad_request', message });
    });

    it('refuses a result whose next names an unknown task type (bad_request) and keeps the task', async () => {
      // Prepare
      const worker = await connectWorker(rt, 'dl-next');
      const alice = await connect(rt, 'alice');
      const taskId = await submitOver(alice, 'download', ['12345']);
      await assigned(worker, taskId);

      // Act
      const reply = await worker.client.request({
        action: 'result',
        taskId,
        result: 'ok',
        next: { taskType: 'render', args: {} },
      });

      // Assess: refused, the task still the worker's, which then finishes it
      expect(reply).toMatchObject({
        type: 'error',
        code: 'bad_request',
        message: 'next.taskType: unknown task type "render"',
      });
      expect((await taskRecord(rt, taskId)).status).toBe('running');
      const ack = await worker.client.request({ action: 'result', taskId, result: 'ok' });
      expect(ack).toMatchObject({ type: 'task.ack', taskId });
    });

    it('refuses worker answers from a viewer connection with forbidden', async () => {
      // Prepare: a viewer (role client) and a task of its own it might claim to finish
      const viewer = await connect(rt, 'eve');
      const worker = await connectWorker(rt, 'dl-viewer');
      const taskId = await submitOver(viewer, 'download', ['12345']);
      await assigned(worker, taskId);

      // Act
      const result = await viewer.request({ action: 'result', taskId, result: 'forged' });
      const progress = await viewer.request({ action: 'progress', taskId, progress: 1 });
      const fail = await viewer.request({ action: 'fail', taskId, error: 'forged' });

      // Assess
      for (const reply of [result, progress, fail]) {
        expect(reply).toMatchObject({
          type: 'error',
          code: 'forbidden',
          message: 'only a socket worker (role worker or admin) may answer for a task',
        });
      }
      expect((await taskRecord(rt, taskId)).status).toBe('running');
      await worker.client.request({ action: 'result', taskId, result: 'ok' });
      expect(await ended(viewer, taskId)).toMatchObject({ status: 'succeeded', result: 'ok' });
    });
  });
});

describe('placement auto', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startWith({ placement: { download: 'auto' }, placementTimeoutSeconds: 120 });
  });
  afterAll(async () => {
    await rt.stop();
  });

  it('runs a download in the Lambda worker when no socket worker is connected', async () => {
    // Prepare
    const alice = await connect(rt, 'alice');

    // Act
    const taskId = await submitOver(alice, 'download', ['12345']);

    // Assess: it ran as today (the Lambda worker stores the file and chains logic)
    expect(await ended(alice, taskId)).toMatchObject({ status: 'succeeded' });
    const record = await taskRecord(rt, taskId);
    expect(record.workerConnectionId).toBeUndefined();
    expect(record.attempt).toBeUndefined();
  });

  it('offers a download to a connected socket worker first', async () => {
    // Prepare
    const worker = await connectWorker(rt, 'dl-auto');
    const alice = await connect(rt, 'alice');

    // Act
    const taskId = await submitOver(alice, 'download', ['12345']);
    const offer = await assigned(worker, taskId);
    await worker.client.request({ action: 'result', taskId, result: { by: 'socket' } });

    // Assess
    expect(offer).toMatchObject({ attempt: 1, leaseSeconds: rt.placement.leaseSeconds });
    expect(await ended(alice, taskId)).toMatchObject({
      status: 'succeeded',
      result: { by: 'socket' },
    });
    expect(await taskRecord(rt, taskId)).toMatchObject({
      workerConnectionId: worker.connectionId,
      result: { by: 'socket' },
    });
  });

  it('runs a task in Lambda when its socket worker disconnects and no other is free', async () => {
    // Prepare
    const worker = await connectWorker(rt, 'dl-auto-gone');
    const alice = await connect(rt, 'alice');
    const taskId = await submitOver(alice, 'download', ['12345']);
    await assigned(worker, taskId, 1);

    // Act
    await worker.client.close();

    // Assess: the Lambda worker ran it to the end (it stores the file and chains logic)
    expect(await ended(alice, taskId)).toMatchObject({ status: 'succeeded' });
    const record = await taskRecord(rt, taskId);
    expect(record.workerConnectionId).toBeUndefined();
    expect(record.result).toMatchObject({ artifact: expect.any(Object) });
    await quiet();
    expect(
      updatesOf(alice, taskId).filter((f) => TERMINAL.includes(String(f.status))),
    ).toHaveLength(1);
  });

  it('runs it in Lambda when the only worker is at capacity', async () => {
    // Prepare: the worker's one slot is taken
    const worker = await connectWorker(rt, 'dl-auto-busy');
    const alice = await connect(rt, 'alice');
    const first = await submitOver(alice, 'download', ['12345']);
    await assigned(worker, first);

    // Act
    const second = await submitOver(alice, 'download', ['12345']);

    // Assess
    expect(await ended(alice, second)).toMatchObject({ status: 'succeeded' });
    expect((await taskRecord(rt, second)).workerConnectionId).toBeUndefined();
    expect(assignsOf(worker).map((f) => f.taskId)).toEqual([first]);
    await worker.client.request({ action: 'result', taskId: first, result: 'ok' });
    await ended(alice, first);
  });
});

describe('leases and failover', () => {
  const LEASE_SECONDS = 3;
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startWith({
      placement: { download: 'websocket', logic: 'websocket' },
      leaseSeconds: LEASE_SECONDS,
      placementTimeoutSeconds: 120,
    });
  });
  afterAll(async () => {
    await rt.stop();
  });

  /** Renews the worker's lease on the task every half second until stopped. */
  function keepRenewing(w: Worker, taskId: string): () => void {
    const timer = setInterval(() => w.client.send({ action: 'progress', taskId }), 500);
    return () => clearInterval(timer);
  }

  it('offers a task again (attempt 2) when its worker stops renewing; the late result gets lease_lost', async () => {
    // Prepare: `a` (2 slots) holds two tasks and renews only `kept`; `b` connects empty, so
    // the least loaded worker when `lapsing` is taken back is `b`.
    const a = await connectWorker(rt, 'dl-lapse-a', ['download'], 2);
    const alice = await connect(rt, 'alice');
    const kept = await submitOver(alice, 'download', ['12345']);
    await assigned(a, kept);
    const stop = keepRenewing(a, kept);
    try {
      const lapsing = await submitOver(alice, 'download', ['22222']);
      await assigned(a, lapsing, 1);
      const b = await connectWorker(rt, 'dl-lapse-b');

      // Act: `a` goes quiet on `lapsing`
      const again = await assigned(b, lapsing, 2);
      const late = await a.client.request({ action: 'result', taskId: lapsing, result: 'late' });
      const lateProgress = await a.client.request({ action: 'progress', taskId: lapsing });
      const ack = await b.client.request({ action: 'result', taskId: lapsing, result: 'from b' });

      // Assess
      expect(again).toMatchObject({ taskId: lapsing, attempt: 2, leaseSeconds: LEASE_SECONDS });
      expect(late).toMatchObject({
        type: 'error',
        code: 'lease_lost',
        message: `task ${lapsing} is no longer yours: it is not assigned to this connection`,
      });
      expect(lateProgress).toMatchObject({ type: 'error', code: 'lease_lost' });
      expect(ack).toMatchObject({ type: 'task.ack', taskId: lapsing });
      expect(await ended(alice, lapsing)).toMatchObject({ status: 'succeeded', result: 'from b' });
      expect(await taskRecord(rt, lapsing)).toMatchObject({
        status: 'succeeded',
        result: 'from b',
        attempt: 2,
        workerConnectionId: b.connectionId,
      });
      await quiet();
      expect(
        updatesOf(alice, lapsing).filter((f) => TERMINAL.includes(String(f.status))),
      ).toHaveLength(1);
      // `kept` was renewed all along and stays `a`'s.
      expect(assignsOf(a).filter((f) => f.taskId === kept)).toHaveLength(1);
      expect(
        await a.client.request({ action: 'result', taskId: kept, result: 'ok' }),
      ).toMatchObject({ type: 'task.ack', taskId: kept });
    } finally {
      stop();
    }
  });

  it('offers a lapsed task to the same worker again (attempt 2) when it is the only one', async () => {
    // Prepare: the only worker holds the task and lets its lease lapse
    const worker = await connectWorker(rt, 'dl-lapsed');
    const alice = await connect(rt, 'alice');
    const taskId = await submitOver(alice, 'download', ['12345']);
    await assigned(worker, taskId, 1);

    // Act: wait for the second offer (the same worker is the only one free)
    const again = await assigned(worker, taskId, 2);
    const ack = await worker.client.request({ action: 'result', taskId, result: 'second try' });

    // Assess: the record says attempt 2; it ended once
    expect(again).toMatchObject({ attempt: 2 });
    expect(ack).toMatchObject({ type: 'task.ack', taskId });
    expect(await ended(alice, taskId)).toMatchObject({ status: 'succeeded' });
    expect(await taskRecord(rt, taskId)).toMatchObject({ attempt: 2, result: 'second try' });
  });

  it('gives a disconnected worker’s task to the other worker (attempt + 1), and fails it with the reason once attempts are spent', async () => {
    // Prepare: two workers; the task goes to one of them
    const w1 = await connectWorker(rt, 'dl-gone-1');
    const w2 = await connectWorker(rt, 'dl-gone-2');
    const alice = await connect(rt, 'alice');
    const taskId = await submitOver(alice, 'download', ['12345']);
    await eventually(() => [w1, w2].some((w) => assignsOf(w).length > 0), 30_000);
    const [first, second] = assignsOf(w1).length > 0 ? [w1, w2] : [w2, w1];

    // Act: the holder goes away, then the next holder, then the last
    await first.client.close();
    const offer2 = await assigned(second, taskId, 2);
    const third = await connectWorker(rt, 'dl-gone-3');
    await second.client.close();
    const offer3 = await assigned(third, taskId, 3);
    await third.client.close();

    // Assess
    expect(offer2).toMatchObject({ attempt: 2 });
    expect(offer3).toMatchObject({ attempt: 3 });
    const end = await ended(alice, taskId);
    expect(end).toMatchObject({
      status: 'failed',
      error: 'the socket worker disconnected (gave up after 3 attempts)',
    });
    expect(await taskRecord(rt, taskId)).toMatchObject({
      status: 'failed',
      error: 'the socket worker disconnected (gave up after 3 attempts)',
      attempt: 3,
    });
    await quiet();
    expect(updatesOf(alice, taskId).filter((f) => TERMINAL.includes(String(f.status)))).toEqual([
      end,
    ]);
  });

  it('runs a chained logic task on a logic socket worker', async () => {
    // Prepare
    const downloader = await connectWorker(rt, 'dl-chain');
    const analyst = await connectWorker(rt, 'logic-chain', ['logic']);
    const alice = await connect(rt, 'alice');
    const taskId = await submitOver(alice, 'download', ['12345']);
    await assigned(downloader, taskId);

    // Act
    await downloader.client.request({
      action: 'result',
      taskId,
      result: 'stored',
      next: { taskType: 'logic', args: { args: ['report'] } },
    });
    const offer = await analyst.client.waitFor((f) => f.type === 'task.assign', 30_000);
    const logicId = String(offer.taskId);
    await analyst.client.request({ action: 'result', taskId: logicId, result: { report: 1 } });

    // Assess
    expect(offer).toMatchObject({
      taskType: 'logic',
      args: { args: ['report'] },
      parentTaskId: taskId,
      attempt: 1,
    });
    expect(logicId).toMatch(TASK_ID_RE);
    expect(await ended(alice, taskId)).toMatchObject({ status: 'succeeded' });
    expect(await ended(alice, logicId)).toMatchObject({
      status: 'succeeded',
      result: { report: 1 },
    });
  });
});

describe('no free socket worker', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startWith({ placement: { download: 'websocket' }, placementTimeoutSeconds: 3 });
  });
  afterAll(async () => {
    await rt.stop();
  });

  it('fails a websocket task with no_worker after the placement timeout', async () => {
    // Prepare
    const alice = await connect(rt, 'alice');

    // Act
    const taskId = await submitOver(alice, 'download', ['12345']);

    // Assess
    const end = await ended(alice, taskId);
    expect(end.status).toBe('failed');
    expect(String(end.error)).toMatch(/^no_worker: /);
    const record = await taskRecord(rt, taskId);
    expect(record).toMatchObject({
      status: 'failed',
      error: 'no_worker: no socket worker for download was free within 3 s',
    });
    expect(Date.parse(record.updatedAt) - Date.parse(record.createdAt)).toBeGreaterThanOrEqual(
      3000,
    );
  });
});
