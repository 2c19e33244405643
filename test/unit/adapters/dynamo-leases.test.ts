import { DynamoTaskStore } from '../../../src/adapters/dynamodb/task-store';
import { DynamoWorkerStore } from '../../../src/adapters/dynamodb/worker-store';
import { CONNECTIONS_TABLE } from '../../../src/connections/schema';
import { TASKS_TABLE } from '../../../src/tasks/schema';
import type { Task } from '../../../src/tasks/task';
import { useDynalite } from '../../support/dynalite';

/**
 * The socket workers' conditional writes on dynalite: the leases on task records and the
 * workers' capacity items (every expression must also pass DynamoDB's reserved-word check).
 */
const T0 = '2030-03-01T12:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const TASK_ID = 't_aaaaaaaaaaaaaaaaaaab';

const db = useDynalite();
let n = 0;

/** Fresh tables, the stores on a fixed clock, and one queued task. */
async function setup() {
  n += 1;
  const clock = { now: () => new Date(T0) };
  await db.createTable(`tasks-${n}`, TASKS_TABLE);
  await db.createTable(`conns-${n}`, CONNECTIONS_TABLE);
  const tasks = new DynamoTaskStore({ client: db.doc, tableName: `tasks-${n}`, clock });
  const workers = new DynamoWorkerStore(db.doc, `conns-${n}`, clock);
  const task: Task = {
    taskId: TASK_ID,
    taskType: 'download',
    args: { dsNumber: '12345' },
    status: 'queued',
    source: 'ws',
    requester: { userId: 'alice' },
    createdAt: T0,
    updatedAt: T0,
    expiresAt: 1_900_000_000,
  };
  await tasks.create(task);
  return { tasks, workers };
}

const terms = (connectionId: string, attempt: number, expiresIn = 30) => ({
  connectionId,
  attempt,
  leaseExpiresAt: at(expiresIn),
});

describe('DynamoTaskStore leases', () => {
  it('takes a lease on a queued task once, at the attempt it expects', async () => {
    // Prepare
    const { tasks } = await setup();

    // Act
    const wrongAttempt = await tasks.takeLease(TASK_ID, 1, terms('c1', 2));
    const taken = await tasks.takeLease(TASK_ID, 0, terms('c1', 1));
    const again = await tasks.takeLease(TASK_ID, 0, terms('c2', 1));

    // Assess
    expect(wrongAttempt).toBeUndefined();
    expect(taken).toMatchObject({
      status: 'running',
      workerConnectionId: 'c1',
      attempt: 1,
      leaseExpiresAt: at(30),
    });
    expect(again).toBeUndefined();
  });

  it('renews (with progress and note) only for the holder with an unlapsed lease', async () => {
    // Prepare
    const { tasks } = await setup();
    await tasks.takeLease(TASK_ID, 0, terms('c1', 1));

    // Act
    const other = await tasks.renewLease(TASK_ID, 'c2', at(1), at(31));
    const renewed = await tasks.renewLease(TASK_ID, 'c1', at(1), at(31), 0.5, 'half way');
    const lapsed = await tasks.renewLease(TASK_ID, 'c1', at(31), at(61));

    // Assess
    expect(other).toBeUndefined();
    expect(renewed).toMatchObject({ progress: 0.5, note: 'half way', leaseExpiresAt: at(31) });
    expect(lapsed).toBeUndefined();
  });

  it('ends a held task once; a late end is refused', async () => {
    // Prepare
    const { tasks } = await setup();
    await tasks.takeLease(TASK_ID, 0, terms('c1', 1));

    // Act
    const lapsed = await tasks.endLeased(TASK_ID, 'c1', at(30), { to: 'succeeded', result: 1 });
    const done = await tasks.endLeased(TASK_ID, 'c1', at(1), { to: 'succeeded', result: 2 });
    const again = await tasks.endLeased(TASK_ID, 'c1', at(2), { to: 'failed', error: 'x' });

    // Assess
    expect(lapsed).toBeUndefined();
    expect(done).toMatchObject({ status: 'succeeded', result: 2 });
    expect(again).toBeUndefined();
    expect((await tasks.get(TASK_ID))?.status).toBe('succeeded');
  });

  it('releases a lease back to queued (attempt as given) and fails a held last attempt', async () => {
    // Prepare
    const { tasks } = await setup();
    await tasks.takeLease(TASK_ID, 0, terms('c1', 1));

    // Act
    const wrongAttempt = await tasks.releaseLease(TASK_ID, 'c1', 2, 2, at(600));
    const released = await tasks.releaseLease(TASK_ID, 'c1', 1, 1, at(600));
    await tasks.takeLease(TASK_ID, 1, terms('c2', 2));
    const staleFail = await tasks.failLeased(TASK_ID, 'c1', 1, 'gone');
    const failed = await tasks.failLeased(TASK_ID, 'c2', 2, 'gone');

    // Assess
    expect(wrongAttempt).toBeUndefined();
    expect(released).toMatchObject({ status: 'queued', attempt: 1 });
    expect(released?.workerConnectionId).toBeUndefined();
    expect(staleFail).toBeUndefined();
    expect(failed).toMatchObject({ status: 'failed', error: 'gone', attempt: 2 });
  });
});

describe('DynamoWorkerStore', () => {
  it('gives slots up to the concurrency, least loaded first, and back', async () => {
    // Prepare
    const { workers } = await setup();
    const expiresAt = Math.floor(Date.parse(T0) / 1000) + 3600;
    await workers.register('c1', ['download'], 2, expiresAt);
    await workers.register('c2', ['download', 'logic'], 1, expiresAt);

    // Act
    const first = await workers.takeSlot('download', 'c1', 't1');
    const twice = await workers.takeSlot('download', 'c1', 't1');
    const candidates = await workers.candidates('download', 50);
    const second = await workers.takeSlot('download', 'c1', 't2');
    const full = await workers.takeSlot('download', 'c1', 't3');
    await workers.releaseSlot('download', 'c1', 't2');
    await workers.releaseSlot('download', 'c1', 't2');
    const afterRelease = await workers.candidates('download', 50);

    // Assess
    expect([first, twice, second, full]).toEqual([true, false, true, false]);
    expect(candidates.map((w) => [w.connectionId, w.free])).toEqual([
      ['c2', 1],
      ['c1', 1],
    ]);
    // The second release of t2 was a no-op: c1 has one free slot, not two.
    expect(afterRelease.find((w) => w.connectionId === 'c1')?.free).toBe(1);
  });

  it('unregisters a worker and returns the tasks it held', async () => {
    // Prepare
    const { workers } = await setup();
    const expiresAt = Math.floor(Date.parse(T0) / 1000) + 3600;
    await workers.register('c1', ['download', 'logic'], 1, expiresAt);
    await workers.takeSlot('logic', 'c1', 't9');

    // Act
    const held = await workers.unregister('c1');

    // Assess
    expect(held).toEqual([{ taskType: 'logic', taskId: 't9' }]);
    expect(await workers.candidates('download', 50)).toEqual([]);
    expect(await workers.unregister('c1')).toEqual([]);
  });
});
