import { DynamoTaskStore } from '../../../src/adapters/dynamodb/task-store';
import { isAppError } from '../../../src/errors/app-error';
import { silentLog } from '../../../src/ports/log';
import { type CancelAccess, cancelTask } from '../../../src/tasks/cancel';
import { decodeCursor, encodeCursor } from '../../../src/tasks/list';
import { TASKS_TABLE } from '../../../src/tasks/schema';
import { isTerminal, type Task, type TaskStatus } from '../../../src/tasks/task';
import { useDynalite } from '../../support/dynalite';

const T0 = Date.parse('2030-03-01T12:00:00.000Z');

const db = useDynalite();
let n = 0;

/** A table of its own per test, a clock the test moves, and what the cancel told. */
async function setup() {
  let now = T0;
  const clock = { now: () => new Date(now) };
  const tableName = `tasks-cancel-${++n}`;
  await db.createTable(tableName, TASKS_TABLE);
  const tasks = new DynamoTaskStore({ client: db.doc, tableName, clock });
  const told: Task[] = [];
  const ports = { tasks, log: silentLog, onCancelled: async (t: Task) => void told.push(t) };

  const add = async (overrides: Partial<Task> = {}): Promise<Task> => {
    now += 1000;
    const task: Task = {
      taskId: idOf(9000 + Math.floor(now / 1000)),
      taskType: 'download',
      args: { dsNumber: '1', server: 'local' },
      status: 'queued',
      source: 'ws',
      requester: { userId: 'alice' },
      createdAt: new Date(now).toISOString(),
      updatedAt: new Date(now).toISOString(),
      expiresAt: Math.floor(now / 1000) + 3600,
      ...overrides,
    };
    await tasks.create(task);
    return task;
  };
  return { tasks, ports, told, add, clock, advance: (ms: number) => (now += ms) };
}

/** Distinct task ids (`t_` and 20 base32 characters) from a number. */
const idOf = (i: number): string =>
  `t_${[...i.toString(32).padStart(20, '0')]
    .map((d) => 'abcdefghijklmnopqrstuvwxyz234567'.charAt(parseInt(d, 32)))
    .join('')}`;

const anyone: CancelAccess = { mayCancel: () => true, refusal: 'no' };

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (e) {
    if (isAppError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('cancelTask', () => {
  it('cancels a queued task with one write, tells its audience, and takes it off the reaper’s index', async () => {
    // Prepare
    const { tasks, ports, told, add } = await setup();
    const task = await add({ taskId: idOf(1) });

    // Act
    const out = await cancelTask(ports, task.taskId, anyone);

    // Assess
    expect(out).toMatchObject({
      changed: true,
      task: { taskId: task.taskId, status: 'cancelled' },
    });
    expect(told.map((t) => t.status)).toEqual(['cancelled']);
    expect((await tasks.get(task.taskId))?.status).toBe('cancelled');
    expect(await tasks.overdue('queued', '2100-01-01T00:00:00.000Z', 10)).toEqual([]);
  });

  it('cancels a running task; the worker’s progress, still-running check and result are then refused', async () => {
    // Prepare
    const { tasks, ports, add } = await setup();
    const task = await add({ taskId: idOf(2) });
    await tasks.transition(task.taskId, { to: 'running' });

    // Act
    const out = await cancelTask(ports, task.taskId, anyone);

    // Assess
    expect(out.changed).toBe(true);
    expect(await tasks.setProgress(task.taskId, 0.5)).toBeUndefined();
    expect(await tasks.stillRunning(task.taskId)).toBe(false);
    expect(await tasks.transition(task.taskId, { to: 'succeeded', result: 1 })).toBeUndefined();
    const stored = await tasks.get(task.taskId);
    expect(stored?.status).toBe('cancelled');
    expect(stored?.result).toBeUndefined();
  });

  it.each<TaskStatus>(['succeeded', 'failed', 'cancelled'])(
    'answers an ended (%s) task with its status and changes nothing',
    async (status) => {
      // Prepare
      const { tasks, ports, told, add } = await setup();
      const task = await add({ taskId: idOf(3) });
      await tasks.transition(task.taskId, {
        to: status,
        ...(status === 'failed' ? { error: 'x' } : {}),
      });
      const before = await tasks.get(task.taskId);

      // Act
      const out = await cancelTask(ports, task.taskId, anyone);

      // Assess
      expect(out).toEqual({ changed: false, task: before });
      expect(told).toEqual([]);
      expect(await tasks.get(task.taskId)).toEqual(before);
    },
  );

  it('refuses an unknown task with not_found', async () => {
    const { ports } = await setup();
    expect(await refusal(cancelTask(ports, idOf(4), anyone))).toEqual({
      code: 'not_found',
      message: `no task ${idOf(4)}`,
    });
  });

  it('refuses a caller the access rule refuses with its refusal, and changes nothing', async () => {
    // Prepare
    const { tasks, ports, told, add } = await setup();
    const task = await add({ taskId: idOf(5) });

    // Act
    const answer = await refusal(
      cancelTask(ports, task.taskId, {
        mayCancel: (t) => t.requester.userId === 'bob',
        refusal: 'only its requester may cancel it',
      }),
    );

    // Assess
    expect(answer).toEqual({ code: 'forbidden', message: 'only its requester may cancel it' });
    expect((await tasks.get(task.taskId))?.status).toBe('queued');
    expect(told).toEqual([]);
  });

  it('ends a task exactly once when a cancel races a succeeded or failed write', async () => {
    const { tasks, ports, told, add } = await setup();
    for (let i = 0; i < 12; i++) {
      // Prepare
      const task = await add({ taskId: idOf(100 + i) });
      await tasks.transition(task.taskId, { to: 'running' });
      const end: TaskStatus = i % 2 ? 'succeeded' : 'failed';

      // Act: both at once
      const [cancelled, ended] = await Promise.all([
        cancelTask(ports, task.taskId, anyone),
        tasks.transition(task.taskId, { to: end, ...(end === 'failed' ? { error: 'e' } : {}) }),
      ]);

      // Assess: one winner, and the record is the winner's
      expect(Number(cancelled.changed) + Number(ended !== undefined)).toBe(1);
      const stored = await tasks.get(task.taskId);
      expect(stored?.status).toBe(cancelled.changed ? 'cancelled' : end);
      expect(cancelled.task.status).toBe(stored?.status);
      expect(isTerminal(cancelled.task.status)).toBe(true);
    }
    expect(told.every((t) => t.status === 'cancelled')).toBe(true);
  });
});

describe('DynamoTaskStore.list', () => {
  it('lists a user’s tasks newest first, by status, and by both, skipping expired ones', async () => {
    // Prepare: alice 4 tasks (2 cancelled), bob 1, one without a user, one expired of alice's
    const { tasks, add, clock } = await setup();
    const a1 = await add({ taskId: idOf(11) });
    const a2 = await add({ taskId: idOf(12) });
    const b1 = await add({ taskId: idOf(13), requester: { userId: 'bob' } });
    const a3 = await add({ taskId: idOf(14) });
    const none = await add({ taskId: idOf(15), requester: {} });
    await add({ taskId: idOf(16), expiresAt: Math.floor(clock.now().getTime() / 1000) - 1 });
    const a4 = await add({ taskId: idOf(17) });
    for (const t of [a2, a4]) await tasks.transition(t.taskId, { to: 'cancelled' });
    const ids = (page: { tasks: readonly Task[] }) => page.tasks.map((t) => t.taskId);

    // Act
    const alice = await tasks.list({ userId: 'alice', limit: 10 });
    const queued = await tasks.list({ status: 'queued', limit: 10 });
    const aliceCancelled = await tasks.list({ userId: 'alice', status: 'cancelled', limit: 10 });

    // Assess
    expect(ids(alice)).toEqual([a4, a3, a2, a1].map((t) => t.taskId));
    expect(alice.next).toBeUndefined();
    expect(ids(queued)).toEqual([none, a3, b1, a1].map((t) => t.taskId));
    expect(ids(aliceCancelled)).toEqual([a4, a2].map((t) => t.taskId));
    // The records as GET /tasks/{taskId} gives them: no bookkeeping attributes.
    expect(alice.tasks[0]).toEqual(await tasks.get(a4.taskId));
    expect(Object.keys(alice.tasks[0] ?? {})).not.toContain('ownerUserId');
    expect(Object.keys(queued.tasks[0] ?? {})).not.toContain('deadlineAt');
  });

  it('pages by position without a gap or a repeat, also through a filter', async () => {
    // Prepare: 7 of alice's tasks, every other one cancelled
    const { tasks, add } = await setup();
    const made: Task[] = [];
    for (let i = 0; i < 7; i++) made.push(await add({ taskId: idOf(200 + i) }));
    for (const t of made.filter((_, i) => i % 2 === 0)) {
      await tasks.transition(t.taskId, { to: 'cancelled' });
    }

    for (const query of [{ userId: 'alice' }, { userId: 'alice', status: 'cancelled' as const }]) {
      // Act: pages of 2
      const seen: string[] = [];
      let after;
      for (let page = 0; page < 10; page++) {
        const out = await tasks.list({ ...query, limit: 2, ...(after ? { after } : {}) });
        expect(out.tasks.length).toBeLessThanOrEqual(2);
        seen.push(...out.tasks.map((t) => t.taskId));
        after = out.next;
        if (!after) break;
      }

      // Assess
      const expected = made
        .filter((_, i) => query.status === undefined || i % 2 === 0)
        .map((t) => t.taskId)
        .reverse();
      expect(seen).toEqual(expected);
    }
  });
});

describe('task list cursors', () => {
  const position = { taskId: idOf(1), createdAt: '2030-03-01T12:00:00.000Z' };

  it('reads back what it wrote, for the same filters', () => {
    const cursor = encodeCursor({ userId: 'alice', status: 'queued' }, position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, { userId: 'alice', status: 'queued' })).toEqual(position);
  });

  it.each([
    ['not base64url', '!!!'],
    ['not JSON', Buffer.from('{"v":1').toString('base64url')],
    ['a JSON array', Buffer.from('[]').toString('base64url')],
    ['a forged task id', encodeCursor({}, { ...position, taskId: 'alice' })],
    ['a forged time', encodeCursor({}, { ...position, createdAt: '{"S":"x"}' })],
    [
      'another version',
      Buffer.from(JSON.stringify({ v: 2, t: idOf(1), c: position.createdAt })).toString(
        'base64url',
      ),
    ],
    [
      'an extra field',
      Buffer.from(JSON.stringify({ v: 1, t: idOf(1), c: position.createdAt, x: 1 })).toString(
        'base64url',
      ),
    ],
    ['too long', 'a'.repeat(2000)],
  ])('refuses %s as not a cursor of ours', (_what, cursor) => {
    expect(() => decodeCursor(cursor, {})).toThrow(
      'cursor: not one this API issued; pass the previous page’s `cursor` unchanged',
    );
  });

  it('refuses a cursor of a listing with other filters', () => {
    const cursor = encodeCursor({ userId: 'alice' }, position);
    expect(() => decodeCursor(cursor, { userId: 'bob' })).toThrow(
      'cursor: it belongs to a listing with other filters (userId, status)',
    );
    expect(() => decodeCursor(cursor, { userId: 'alice', status: 'queued' })).toThrow(
      'cursor: it belongs to a listing with other filters (userId, status)',
    );
  });
});
