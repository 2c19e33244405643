import { createTaskReaperHandler } from '../../../lambdas/workers/task-reaper';
import { TASKS_TABLE } from '../../../src/tasks/schema';
import { silentLog } from '../../../src/ports/log';
import { DynamoTaskStore } from '../../../src/adapters/dynamodb/task-store';
import {
  MAX_REAPS,
  QUEUED_DEADLINE_MS,
  reapTasks,
  type ReaperPorts,
} from '../../../src/tasks/reaper';
import type { Task } from '../../../src/tasks/task';
import type { TaskMessage } from '../../../src/tasks/task-queue';
import { RecordingLog } from '../core/fakes';
import { useDynalite } from '../../support/dynalite';

const T0 = new Date('2030-03-01T12:00:00.000Z');
const MINUTE = 60_000;

const db = useDynalite();
let n = 0;

/** A clock the test moves, a store on it, and reaper ports that record what they do. */
async function setup(options: { failSends?: number } = {}) {
  let now = T0.getTime();
  const clock = { now: () => new Date(now) };
  // A table of its own per test: Queries on the index see only this test's tasks.
  const tableName = `tasks-${++n}`;
  await db.createTable(tableName, TASKS_TABLE);
  const tasks = new DynamoTaskStore({ client: db.doc, tableName, clock });
  const sent: TaskMessage[] = [];
  const announced: Task[] = [];
  let failSends = options.failSends ?? 0;
  const log = new RecordingLog();
  const ports: ReaperPorts = {
    tasks,
    queue: {
      enqueue: async (m) => {
        if (failSends-- > 0) throw new Error('SQS is down');
        sent.push(m);
      },
    },
    announce: async (t) => void announced.push(t),
    clock,
    log,
  };
  const newTask = async (overrides: Partial<Task> = {}): Promise<Task> => {
    const iso = clock.now().toISOString();
    const task: Task = {
      taskId: `t_reaper${String(++n).padStart(13, '0')}`,
      taskType: 'logic',
      args: { args: ['x'] },
      status: 'queued',
      source: 'http',
      requester: { userId: 'alice' },
      createdAt: iso,
      updatedAt: iso,
      expiresAt: Math.floor(now / 1000) + 3600,
      ...overrides,
    };
    await tasks.create(task);
    return task;
  };
  return {
    ports,
    tasks,
    sent,
    announced,
    log,
    newTask,
    advance: (ms: number) => void (now += ms),
    sentFor: (id: string) => sent.filter((m) => m.taskId === id),
  };
}

describe('reapTasks', () => {
  it('leaves a task alone before its deadline, and re-queues it once past it', async () => {
    // Prepare
    const t = await setup();
    const task = await t.newTask();
    // Act
    const early = await reapTasks(t.ports);
    t.advance(QUEUED_DEADLINE_MS + 1);
    const late = await reapTasks(t.ports);
    const again = await reapTasks(t.ports);
    // Assess
    expect(early).toEqual({ requeued: 0, failed: 0, skipped: 0, errors: 0 });
    expect(late).toEqual({ requeued: 1, failed: 0, skipped: 0, errors: 0 });
    expect(again.requeued).toBe(0);
    expect(t.sentFor(task.taskId)).toEqual([{ taskId: task.taskId, taskType: 'logic' }]);
    expect(await t.tasks.get(task.taskId)).toMatchObject({ status: 'queued' });
  });

  it('re-queues a task once when two reapers run at the same time', async () => {
    // Prepare
    const t = await setup();
    const tasks = await Promise.all(Array.from({ length: 5 }, () => t.newTask()));
    t.advance(QUEUED_DEADLINE_MS + 1);
    // Act
    const reports = await Promise.all([reapTasks(t.ports), reapTasks(t.ports)]);
    // Assess
    expect(reports.reduce((sum, r) => sum + r.requeued, 0)).toBe(5);
    for (const task of tasks) expect(t.sentFor(task.taskId)).toHaveLength(1);
  });

  it('never touches a finished task, nor one that a worker started again meanwhile', async () => {
    // Prepare
    const t = await setup();
    const done = await t.newTask();
    const restarted = await t.newTask();
    await t.tasks.transition(done.taskId, { to: 'succeeded', result: 1 });
    t.advance(QUEUED_DEADLINE_MS + 1);
    // A worker picks the task up, with a deadline of its own ahead.
    await t.tasks.transition(restarted.taskId, {
      to: 'running',
      deadlineAt: new Date(T0.getTime() + 2 * QUEUED_DEADLINE_MS).toISOString(),
    });
    // Act
    const report = await reapTasks(t.ports);
    // Assess
    expect(report.requeued).toBe(0);
    expect(t.sent).toEqual([]);
  });

  it('re-queues a task still running past its deadline (its worker died)', async () => {
    // Prepare
    const t = await setup();
    const task = await t.newTask();
    await t.tasks.transition(task.taskId, {
      to: 'running',
      deadlineAt: new Date(T0.getTime() + MINUTE).toISOString(),
    });
    t.advance(MINUTE + 1);
    // Act
    const report = await reapTasks(t.ports);
    // Assess
    expect(report.requeued).toBe(1);
    expect(t.sentFor(task.taskId)).toHaveLength(1);
    expect(await t.tasks.get(task.taskId)).toMatchObject({ status: 'running' });
  });

  it(`fails a task after ${MAX_REAPS} re-queues with a clear error, and tells its audience once`, async () => {
    // Prepare: a message that never arrives, however often it is sent
    const t = await setup();
    const task = await t.newTask();
    // Act
    const reports = [];
    for (let i = 0; i <= MAX_REAPS + 1; i++) {
      t.advance(QUEUED_DEADLINE_MS + 1);
      reports.push(await reapTasks(t.ports));
    }
    // Assess
    expect(reports.map((r) => [r.requeued, r.failed])).toEqual([
      ...Array.from({ length: MAX_REAPS }, () => [1, 0]),
      [0, 1],
      [0, 0],
    ]);
    expect(t.sentFor(task.taskId)).toHaveLength(MAX_REAPS);
    const failed = await t.tasks.get(task.taskId);
    expect(failed).toMatchObject({
      status: 'failed',
      error: `no worker picked the task up: it was still queued after ${MAX_REAPS} re-queues (reaper)`,
    });
    expect(t.announced.map((a) => [a.taskId, a.status])).toEqual([[task.taskId, 'failed']]);
  });

  it('keeps no bookkeeping of its own on the task a client reads', async () => {
    // Prepare
    const t = await setup();
    const task = await t.newTask();
    t.advance(QUEUED_DEADLINE_MS + 1);
    // Act
    await reapTasks(t.ports);
    // Assess
    expect(Object.keys((await t.tasks.get(task.taskId)) ?? {}).sort()).toEqual(
      Object.keys(task).sort(),
    );
  });

  it('leaves a task whose re-queue failed for the next run, and counts the error', async () => {
    // Prepare
    const t = await setup({ failSends: 1 });
    const task = await t.newTask();
    t.advance(QUEUED_DEADLINE_MS + 1);
    // Act
    const first = await reapTasks(t.ports);
    t.advance(QUEUED_DEADLINE_MS + 1);
    const second = await reapTasks(t.ports);
    // Assess
    expect(first).toMatchObject({ requeued: 0, errors: 1 });
    expect(second).toMatchObject({ requeued: 1, errors: 0 });
    expect(t.sentFor(task.taskId)).toHaveLength(1);
    expect(t.log.at('error')).toEqual([
      expect.objectContaining({ message: 'reaper could not re-queue a task' }),
    ]);
  });

  it('re-queues every open task at a start, counting no try and failing none', async () => {
    // Prepare: tasks far from their deadline, one already re-queued to the limit
    const t = await setup();
    const queued = await t.newTask();
    const running = await t.newTask();
    await t.tasks.transition(running.taskId, { to: 'running' });
    const worn = await t.newTask();
    for (let i = 0; i < MAX_REAPS; i++) {
      t.advance(QUEUED_DEADLINE_MS + 1);
      await reapTasks(t.ports);
    }
    t.sent.length = 0;
    // Act
    const report = await reapTasks(t.ports, { everything: true });
    // Assess
    expect(report).toMatchObject({ requeued: 3, failed: 0 });
    expect(t.sent.map((m) => m.taskId).sort()).toEqual(
      [queued.taskId, running.taskId, worn.taskId].sort(),
    );
  });
});

describe('task reaper handler', () => {
  it('counts TasksReaped and TasksReapedFailed once per run', async () => {
    // Prepare
    const t = await setup();
    await t.newTask();
    t.advance(QUEUED_DEADLINE_MS + 1);
    const counted: [string, number | undefined][] = [];
    const handler = createTaskReaperHandler({
      reaper: t.ports,
      log: silentLog,
      counters: { count: (name, value) => void counted.push([name, value]), flush: () => {} },
    });
    // Act
    const report = await handler();
    // Assess
    expect(report.requeued).toBe(1);
    expect(counted).toEqual([
      ['TasksReaped', 1],
      ['TasksReapedFailed', 0],
    ]);
  });
});
