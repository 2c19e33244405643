import { AppError } from '../../../src/errors/app-error';
import { frameFactory } from '../../../src/push/frames';
import type { PostOutcome } from '../../../src/push/frame-pusher';
import type { Pusher } from '../../../src/push/pusher';
import {
  dispatchTask,
  loseTask,
  NO_WORKER_ERROR,
  offerQueuedTask,
  type SocketWorkerPorts,
  sweepLapsedLease,
  workerFail,
  workerGone,
  workerProgress,
  workerResult,
} from '../../../src/tasks/socket/socket-workers';
import type { PlacementSettings } from '../../../src/tasks/socket/placement';
import type { SubmitPorts } from '../../../src/tasks/submit';
import type { Task } from '../../../src/tasks/task';
import type { TaskMessage } from '../../../src/tasks/task-queue';
import { INLINE_RESULT_BYTES } from '../../../src/tasks/worker';
import { ChatNotifier } from '../../../src/wecom/chat-notifier';
import { handleClientFrame } from '../../../src/ws/session';
import { ManualClock, MemoryConnectionStore, RecordingLog } from '../core/fakes';
import { MemoryRateLimiter } from '../../support/memory-rate-limiter';
import { MemoryArtifactStore } from '../../support/memory-stores';
import { MemoryTaskStore } from '../../support/memory-task-store';
import { MemoryWorkerStore } from '../../support/memory-worker-store';

const START = '2030-01-01T00:00:00.000Z';
const TASK_ID = 't_aaaaaaaaaaaaaaaaaaab';
const LEASE_SECONDS = 30;

/** Socket-worker ports on memory stores, a hand-moved clock and a poster the test steers. */
function setup(placement: PlacementSettings['placement'] = { download: 'websocket' }) {
  const tasks = new MemoryTaskStore();
  const workers = new MemoryWorkerStore();
  const clock = new ManualClock(new Date(START));
  const log = new RecordingLog();
  const queued: { message: TaskMessage; delaySeconds?: number }[] = [];
  const queue = {
    enqueue: async (message: TaskMessage, options: { delaySeconds?: number } = {}) =>
      void queued.push({ message, ...options }),
  };
  /** Frames posted to each connection; `outcomes` says how a post to a connection ends. */
  const posted: { connectionId: string; frame: Record<string, unknown> }[] = [];
  const outcomes = new Map<string, PostOutcome>();
  const updates: Record<string, unknown>[] = [];
  const pushTo: Pusher['pushTo'] = async (_recipients, frame) => {
    updates.push(frame as Record<string, unknown>);
    return { attempted: 1, delivered: 1, gone: 0, failed: 0, retried: 0 };
  };
  const submit: SubmitPorts = {
    tasks,
    queue,
    clock,
    log,
    args: { servers: ['main'], defaultServer: 'main' },
  };
  const noFetch = (async () => new Response('', { status: 500 })) as typeof fetch;
  const artifacts = new MemoryArtifactStore();
  const ports: SocketWorkerPorts = {
    tasks,
    leases: tasks,
    workers,
    queue,
    updates: {
      pusher: { pushTo } as unknown as Pusher,
      store: new MemoryConnectionStore(),
      frames: frameFactory(clock),
    },
    submit,
    chat: new ChatNotifier({ fetch: noFetch, limiter: new MemoryRateLimiter(), log }),
    requeueNotify: async () => undefined,
    poster: {
      post: async (connectionId, data) => {
        posted.push({
          connectionId,
          frame: JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, unknown>,
        });
        return { outcome: outcomes.get(connectionId) ?? 'delivered', retries: 0 };
      },
    },
    frames: frameFactory(clock),
    artifacts,
    clock,
    log,
    settings: { placement, placementTimeoutSeconds: 60, leaseSeconds: LEASE_SECONDS },
    maxAttempts: 3,
  };
  const add = async (overrides: Partial<Task> = {}): Promise<Task> => {
    const task: Task = {
      taskId: TASK_ID,
      taskType: 'download',
      args: { dsNumber: '12345', server: 'main' },
      status: 'queued',
      source: 'ws',
      requester: { userId: 'alice' },
      createdAt: START,
      updatedAt: START,
      expiresAt: 1_900_000_000,
      ...overrides,
    };
    await tasks.create(task);
    return task;
  };
  const message: TaskMessage = { taskId: TASK_ID, taskType: 'download' };
  const assigns = () => posted.filter((p) => p.frame.type === 'task.assign');
  return {
    ports,
    tasks,
    workers,
    clock,
    log,
    queued,
    posted,
    outcomes,
    updates,
    artifacts,
    add,
    message,
    assigns,
  };
}

/** The AppError a call rejects with. */
async function appErrorOf(p: Promise<unknown>): Promise<AppError> {
  const e: unknown = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof AppError)) throw new Error(`expected an AppError, got ${String(e)}`);
  return e;
}

describe('dispatchTask', () => {
  it('offers a queued task to a free worker: lease, slot, task.assign (attempt 1) and a running update', async () => {
    // Prepare
    const { ports, workers, tasks, add, message, assigns, updates } = setup();
    await workers.register('c1', ['download'], 1, 0);
    await add();

    // Act
    const outcome = await dispatchTask(ports, message);

    // Assess
    expect(outcome).toBe('assigned');
    expect(assigns()).toEqual([
      {
        connectionId: 'c1',
        frame: expect.objectContaining({
          type: 'task.assign',
          taskId: TASK_ID,
          taskType: 'download',
          args: { dsNumber: '12345', server: 'main' },
          attempt: 1,
          leaseSeconds: LEASE_SECONDS,
        }),
      },
    ]);
    expect(await tasks.get(TASK_ID)).toMatchObject({
      status: 'running',
      workerConnectionId: 'c1',
      attempt: 1,
      leaseExpiresAt: '2030-01-01T00:00:30.000Z',
    });
    expect(workers.heldBy('download', 'c1')).toEqual([TASK_ID]);
    expect(updates.map((u) => u.status)).toEqual(['running']);
  });

  it('skips a repeated queue message for a task a worker holds already', async () => {
    // Prepare
    const { ports, workers, add, message, assigns } = setup();
    await workers.register('c1', ['download'], 2, 0);
    await workers.register('c2', ['download'], 2, 0);
    await add();
    await dispatchTask(ports, message);

    // Act
    const again = await dispatchTask(ports, message);

    // Assess: one offer only, one slot taken
    expect(again).toBe('skipped');
    expect(assigns()).toHaveLength(1);
    expect([...workers.heldBy('download', 'c1'), ...workers.heldBy('download', 'c2')]).toEqual([
      TASK_ID,
    ]);
  });

  it('skips an ended or unknown task', async () => {
    // Prepare
    const { ports, add, message, assigns } = setup();
    await add({ status: 'succeeded' });

    // Act
    const ended = await dispatchTask(ports, message);
    const unknown = await dispatchTask(ports, {
      taskId: 't_aaaaaaaaaaaaaaaaaaac',
      taskType: 'download',
    });

    // Assess
    expect([ended, unknown]).toEqual(['skipped', 'skipped']);
    expect(assigns()).toEqual([]);
  });

  it('offers to the next worker when an offer is not delivered, and frees the first one’s slot', async () => {
    // Prepare: c1 (registered first, so first of two equally loaded) is gone
    const { ports, workers, tasks, add, message, assigns, outcomes } = setup();
    await workers.register('c1', ['download'], 1, 0);
    await workers.register('c2', ['download'], 1, 0);
    outcomes.set('c1', 'gone');
    await add();

    // Act
    const outcome = await dispatchTask(ports, message);

    // Assess: tried c1, then c2, which holds it at attempt 1 (the lost offer did not count)
    expect(outcome).toBe('assigned');
    expect(assigns().map((a) => [a.connectionId, a.frame.attempt])).toEqual([
      ['c1', 1],
      ['c2', 1],
    ]);
    expect(await tasks.get(TASK_ID)).toMatchObject({ workerConnectionId: 'c2', attempt: 1 });
    expect(workers.heldBy('download', 'c1')).toEqual([]);
    expect(workers.heldBy('download', 'c2')).toEqual([TASK_ID]);
  });

  it('leaves the task queued and its attempt as it was when no offer is delivered (websocket: waits)', async () => {
    // Prepare
    const { ports, workers, tasks, add, message, outcomes, queued } = setup();
    await workers.register('c1', ['download'], 1, 0);
    outcomes.set('c1', 'failed');
    await add();

    // Act
    const outcome = await dispatchTask(ports, message);

    // Assess
    expect(outcome).toBe('waiting');
    const task = await tasks.get(TASK_ID);
    expect(task?.status).toBe('queued');
    expect(task?.attempt ?? 0).toBe(0);
    expect(task?.workerConnectionId).toBeUndefined();
    expect(workers.heldBy('download', 'c1')).toEqual([]);
    expect(queued).toEqual([{ message, delaySeconds: 1 }]);
  });

  it('does not offer a worker at capacity a second task', async () => {
    // Prepare: c1's only slot holds another task
    const { ports, workers, add, message, assigns } = setup();
    await workers.register('c1', ['download'], 1, 0);
    await workers.takeSlot('download', 'c1', 't_aaaaaaaaaaaaaaaaaaad');
    await add();

    // Act
    const outcome = await dispatchTask(ports, message);

    // Assess
    expect(outcome).toBe('waiting');
    expect(assigns()).toEqual([]);
  });

  it('returns lambda for a lambda type, and for auto with no free worker', async () => {
    // Prepare
    const lambda = setup({});
    const auto = setup({ download: 'auto' });
    await lambda.add();
    await auto.add();

    // Act / Assess
    expect(await dispatchTask(lambda.ports, lambda.message)).toBe('lambda');
    expect(await dispatchTask(auto.ports, auto.message)).toBe('lambda');
    expect(auto.queued).toEqual([]);
  });

  it('fails a websocket task with no_worker once it waited the placement timeout', async () => {
    // Prepare
    const { ports, tasks, clock, add, message, queued, updates } = setup();
    await add();
    clock.advanceSeconds(60);

    // Act
    const outcome = await dispatchTask(ports, message);

    // Assess
    expect(outcome).toBe('noWorker');
    const task = await tasks.get(TASK_ID);
    expect(task?.status).toBe('failed');
    expect(task?.error).toBe(
      `${NO_WORKER_ERROR}: no socket worker for download was free within 60 s`,
    );
    expect(queued).toEqual([]);
    expect(updates.map((u) => u.status)).toEqual(['failed']);
  });
});

describe('a worker’s answers', () => {
  async function held() {
    const s = setup();
    await s.workers.register('c1', ['download'], 1, 0);
    await s.workers.register('c2', ['download'], 1, 0);
    await s.add();
    await dispatchTask(s.ports, s.message);
    return s;
  }

  it('progress renews the lease from now and records the progress', async () => {
    // Prepare
    const { ports, tasks, clock } = await held();
    clock.advanceSeconds(20);

    // Act
    const ack = await workerProgress(ports, 'c1', { taskId: TASK_ID, progress: 0.5, note: 'n' });

    // Assess
    expect(ack).toMatchObject({ type: 'task.ack', taskId: TASK_ID });
    expect(await tasks.get(TASK_ID)).toMatchObject({
      progress: 0.5,
      note: 'n',
      leaseExpiresAt: '2030-01-01T00:00:50.000Z',
    });
  });

  it('refuses a stale answer: another connection’s, or after the lease lapsed', async () => {
    // Prepare
    const { ports, clock } = await held();

    // Act
    const other = await appErrorOf(workerResult(ports, 'c2', { taskId: TASK_ID, result: 1 }));
    clock.advanceSeconds(LEASE_SECONDS);
    const lapsed = await appErrorOf(workerProgress(ports, 'c1', { taskId: TASK_ID }));
    const lapsedResult = await appErrorOf(
      workerResult(ports, 'c1', { taskId: TASK_ID, result: 1 }),
    );

    // Assess
    expect(other).toMatchObject({
      code: 'lease_lost',
      message: `task ${TASK_ID} is no longer yours: it is not assigned to this connection`,
    });
    expect(lapsed).toMatchObject({
      code: 'lease_lost',
      message: `task ${TASK_ID} is no longer yours: its lease lapsed`,
    });
    expect(lapsedResult.code).toBe('lease_lost');
  });

  it('result ends the task once; a second result is refused with lease_lost', async () => {
    // Prepare
    const { ports, tasks, workers, updates } = await held();

    // Act
    await workerResult(ports, 'c1', { taskId: TASK_ID, result: { ok: true } });
    const again = await appErrorOf(workerResult(ports, 'c1', { taskId: TASK_ID, result: 2 }));

    // Assess
    expect(await tasks.get(TASK_ID)).toMatchObject({ status: 'succeeded', result: { ok: true } });
    expect(again.message).toBe(`task ${TASK_ID} is no longer yours: it has ended (succeeded)`);
    expect(workers.heldBy('download', 'c1')).toEqual([]);
    expect(updates.filter((u) => u.status === 'succeeded')).toHaveLength(1);
  });

  it('result queues the chained task (source chain, its parent set) before the end', async () => {
    // Prepare
    const { ports, tasks, queued } = await held();

    // Act
    await workerResult(ports, 'c1', {
      taskId: TASK_ID,
      result: 'stored',
      next: { taskType: 'logic', args: { args: ['x'] } },
    });

    // Assess
    const children = [...tasks.all.values()].filter((t) => t.parentTaskId === TASK_ID);
    expect(children).toHaveLength(1);
    expect(children[0]).toMatchObject({ taskType: 'logic', source: 'chain', status: 'queued' });
    expect(queued.map((q) => q.message.taskType)).toEqual(['logic']);
  });

  it('result offers the chained task to a free worker at once (placement websocket), not after a poll', async () => {
    // Prepare: c2 also takes logic
    const s = setup({ download: 'websocket', logic: 'websocket' });
    await s.workers.register('c1', ['download'], 1, 0);
    await s.workers.register('c2', ['logic'], 1, 0);
    await s.add();
    await dispatchTask(s.ports, s.message);
    // The chained submit offers it, as the composition root wires submit's placeNow.
    const ports: SocketWorkerPorts = {
      ...s.ports,
      submit: { ...s.ports.submit, placeNow: (t) => offerQueuedTask(ports, t) },
    };

    // Act
    await workerResult(ports, 'c1', {
      taskId: TASK_ID,
      result: 'stored',
      next: { taskType: 'logic', args: { args: ['x'] } },
    });

    // Assess: held at once, so no queue message: a repeated one (the download's) is skipped
    const child = [...s.tasks.all.values()].find((t) => t.parentTaskId === TASK_ID);
    expect(child).toMatchObject({ status: 'running', workerConnectionId: 'c2', attempt: 1 });
    expect(s.assigns().map((a) => [a.connectionId, a.frame.taskType])).toEqual([
      ['c1', 'download'],
      ['c2', 'logic'],
    ]);
    expect(await dispatchTask(s.ports, s.queued[0]?.message ?? s.message)).toBe('skipped');
  });

  it('result leaves a chained task of a Lambda type to its queue', async () => {
    // Prepare: logic is placed lambda (the default)
    const { ports, tasks, workers, queued } = await held();
    await workers.register('c3', ['logic'], 1, 0);

    // Act
    await workerResult(ports, 'c1', {
      taskId: TASK_ID,
      result: 'stored',
      next: { taskType: 'logic', args: { args: ['x'] } },
    });

    // Assess
    const child = [...tasks.all.values()].find((t) => t.parentTaskId === TASK_ID);
    expect(child).toMatchObject({ status: 'queued' });
    expect(queued.map((q) => q.message.taskType)).toEqual(['logic']);
  });

  it('result with next of an unknown type is bad_request and changes nothing', async () => {
    // Prepare
    const { ports, tasks } = await held();

    // Act
    const e = await appErrorOf(
      workerResult(ports, 'c1', { taskId: TASK_ID, result: 1, next: { taskType: 'x', args: {} } }),
    );

    // Assess
    expect(e).toMatchObject({
      code: 'bad_request',
      message: 'next.taskType: unknown task type "x"',
    });
    expect((await tasks.get(TASK_ID))?.status).toBe('running');
  });

  it('stores a result over the inline cap as an artifact link', async () => {
    // Prepare
    const { ports, tasks, artifacts } = await held();
    const big = 'x'.repeat(INLINE_RESULT_BYTES + 1);

    // Act
    await workerResult(ports, 'c1', { taskId: TASK_ID, result: big });

    // Assess
    expect((await tasks.get(TASK_ID))?.result).toMatchObject({
      stored: true,
      resultUrl: `memory://results/${TASK_ID}.json?ttl=3600`,
    });
    expect(artifacts.items.has(`results/${TASK_ID}.json`)).toBe(true);
  });

  it('a retryable fail with attempts left queues the task again; without, it fails', async () => {
    // Prepare
    const { ports, tasks, queued, workers } = await held();

    // Act
    await workerFail(ports, 'c1', { taskId: TASK_ID, error: 'busy', retryable: true });
    const afterRetryable = await tasks.get(TASK_ID);
    await dispatchTask(ports, { taskId: TASK_ID, taskType: 'download' });
    const holder = (await tasks.get(TASK_ID))?.workerConnectionId ?? '';
    await workerFail(ports, holder, { taskId: TASK_ID, error: 'broken' });

    // Assess
    expect(afterRetryable).toMatchObject({ status: 'queued', attempt: 1 });
    expect(queued.map((q) => q.message.taskId)).toEqual([TASK_ID]);
    expect(await tasks.get(TASK_ID)).toMatchObject({
      status: 'failed',
      error: 'broken',
      attempt: 2,
    });
    expect(workers.heldBy('download', holder)).toEqual([]);
  });

  it('a task a worker refused (draining) is offered to another worker, not straight back', async () => {
    // Prepare: c1 holds it and both have a free slot once it gives it back
    const { ports, tasks, queued } = await held();
    await workerFail(ports, 'c1', { taskId: TASK_ID, error: 'draining', retryable: true });
    const requeued = queued[0]?.message;

    // Act
    const placed = await dispatchTask(ports, requeued ?? { taskId: '', taskType: '' });

    // Assess
    expect(requeued).toEqual({ taskId: TASK_ID, taskType: 'download', refusedBy: 'c1' });
    expect(placed).toBe('assigned');
    expect(await tasks.get(TASK_ID)).toMatchObject({ workerConnectionId: 'c2', attempt: 2 });
  });

  it('a task its only worker refused waits a retry delay instead of bouncing back', async () => {
    // Prepare
    const { ports, tasks, workers, add, message, queued } = setup();
    await workers.register('c1', ['download'], 1, 0);
    await add();
    await dispatchTask(ports, message);
    await workerFail(ports, 'c1', { taskId: TASK_ID, error: 'draining', retryable: true });

    // Act
    const placed = await dispatchTask(ports, queued[0]?.message ?? message);

    // Assess
    expect(placed).toBe('waiting');
    expect(await tasks.get(TASK_ID)).toMatchObject({ status: 'queued', attempt: 1 });
    expect(queued[1]).toEqual({
      message: { taskId: TASK_ID, taskType: 'download' },
      delaySeconds: expect.any(Number),
    });
  });
});

describe('lost leases', () => {
  it('the sweep takes a lapsed task back (attempt counted) and it is offered again as attempt 2', async () => {
    // Prepare
    const { ports, tasks, workers, clock, add, message, queued, assigns } = setup();
    await workers.register('c1', ['download'], 1, 0);
    await add();
    await dispatchTask(ports, message);
    clock.advanceSeconds(LEASE_SECONDS + 1);

    // Act
    const swept = await sweepLapsedLease(ports, TASK_ID);
    await dispatchTask(ports, message);

    // Assess
    expect(swept).toBe(true);
    expect(queued.map((q) => q.message)).toEqual([message]);
    expect(assigns().map((a) => a.frame.attempt)).toEqual([1, 2]);
    expect(await tasks.get(TASK_ID)).toMatchObject({ status: 'running', attempt: 2 });
  });

  it('the sweep leaves a lease renewed since the index was read', async () => {
    // Prepare
    const { ports, tasks, workers, add, message, queued } = setup();
    await workers.register('c1', ['download'], 1, 0);
    await add();
    await dispatchTask(ports, message);

    // Act
    const swept = await sweepLapsedLease(ports, TASK_ID);

    // Assess: handled (not the reaper's) but not taken back
    expect(swept).toBe(true);
    expect((await tasks.get(TASK_ID))?.status).toBe('running');
    expect(queued).toEqual([]);
  });

  it('a lapsed lease at the last attempt fails the task with the reason', async () => {
    // Prepare: attempt 3 of 3
    const { ports, tasks, workers, add, message, updates } = setup();
    await workers.register('c1', ['download'], 1, 0);
    await add({ attempt: 2 });
    await dispatchTask(ports, message);

    // Act
    const outcome = await loseTask(ports, (await tasks.get(TASK_ID)) as Task, 'it lapsed');

    // Assess
    expect(outcome).toBe('failed');
    expect(await tasks.get(TASK_ID)).toMatchObject({
      status: 'failed',
      error: 'it lapsed (gave up after 3 attempts)',
    });
    expect(workers.heldBy('download', 'c1')).toEqual([]);
    expect(updates.filter((u) => u.status === 'failed')).toHaveLength(1);
  });

  it('a worker gone takes back every task it held and only those', async () => {
    // Prepare: c1 holds the task; another task is c2's
    const { ports, tasks, workers, add, message, queued } = setup();
    await workers.register('c1', ['download'], 1, 0);
    await add();
    await dispatchTask(ports, message);

    // Act
    const lost = await workerGone(ports, 'c1');
    const none = await workerGone(ports, 'c9');

    // Assess
    expect([lost, none]).toEqual([1, 0]);
    expect(await tasks.get(TASK_ID)).toMatchObject({ status: 'queued', attempt: 1 });
    expect(queued.map((q) => q.message)).toEqual([message]);
    expect(workers.records.size).toBe(0);
  });

  it('a task lost twice at once is taken back once', async () => {
    // Prepare
    const { ports, tasks, workers, add, message, queued } = setup();
    await workers.register('c1', ['download'], 1, 0);
    await add();
    await dispatchTask(ports, message);
    const task = (await tasks.get(TASK_ID)) as Task;

    // Act
    const outcomes = await Promise.all([loseTask(ports, task, 'a'), loseTask(ports, task, 'b')]);

    // Assess
    expect(outcomes.sort()).toEqual(['requeued', 'skipped']);
    expect(queued).toHaveLength(1);
  });
});

describe('the session’s worker answers', () => {
  it('refuses result/progress/fail from a connection without the worker or admin role, before any read of the task', async () => {
    // Prepare: a viewer (role client) beside a worker that holds the task
    const { ports, tasks, workers, add, message } = setup();
    await workers.register('c1', ['download'], 1, 0);
    await add();
    await dispatchTask(ports, message);
    const store = new MemoryConnectionStore();
    store.seed({ connectionId: 'v1', userId: 'alice', roles: ['client'] });
    store.seed({ connectionId: 'c1', userId: 'w', roles: ['worker'] });
    const session = { store, frames: ports.frames, clock: ports.clock, workers: ports };
    const get = jest.spyOn(tasks, 'get');

    // Act
    const refusals = await Promise.all(
      [
        { action: 'result' as const, taskId: TASK_ID, result: 'forged' },
        { action: 'progress' as const, taskId: TASK_ID, progress: 1 },
        { action: 'fail' as const, taskId: TASK_ID, error: 'forged' },
      ].map((frame) => appErrorOf(handleClientFrame(session, 'v1', frame))),
    );
    const reads = get.mock.calls.length;
    const [ack] = await handleClientFrame(session, 'c1', {
      action: 'result',
      taskId: TASK_ID,
      result: 'ok',
    });

    // Assess
    for (const e of refusals) {
      expect(e).toMatchObject({
        code: 'forbidden',
        message: 'only a socket worker (role worker or admin) may answer for a task',
      });
    }
    expect(reads).toBe(0);
    expect(ack).toMatchObject({ type: 'task.ack', taskId: TASK_ID });
    expect(await tasks.get(TASK_ID)).toMatchObject({ status: 'succeeded', result: 'ok' });
  });
});
