import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalRuntime } from '../../local/runtime';
import { dueMinuteOf, type ScheduledRecord } from '../../src/deliveries/records';
import type { Task } from '../../src/tasks/task';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { eventually, TestClient } from '../support/ws-client';

/**
 * The recovery paths, each from the state a lost message or a killed runtime leaves in the
 * tables: a task whose queue message never arrived, one that no worker ever takes, and scheduled
 * messages left `queued` or `sending` with their fan-out message and sender gone.
 */

const runtimes: LocalRuntime[] = [];
const clients: TestClient[] = [];
const dirs: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long a recovery may take before the test fails: a bound, for a loaded CI machine. */
const RECOVERY_BOUND_MS = 30_000;
// Each test starts a runtime or two and waits out a recovery: room for that on a loaded machine.
jest.setTimeout(90_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const rt of runtimes.splice(0)) await rt.stop();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function observe(rt: LocalRuntime): Promise<TestClient> {
  const c = await TestClient.connect(rt.wsUrl, await tokenFor({ sub: 'watch', roles: ['worker'] }));
  clients.push(c);
  await c.request({ action: 'register', clientType: 'http' });
  return c;
}

let n = 0;
/** A task as submit writes it, whose queue message is then lost (the send failed). */
async function writtenNotQueued(rt: LocalRuntime): Promise<Task> {
  const now = new Date().toISOString();
  const { task } = await rt.tasks.create({
    taskId: `t_recovery${String(++n).padStart(11, 'a')}`,
    taskType: 'logic',
    args: { args: ['lost', 'message'] },
    status: 'queued',
    source: 'http',
    requester: {},
    createdAt: now,
    updatedAt: now,
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  });
  return task;
}

describe('the task reaper in the local runtime', () => {
  it('queues again a task whose message was lost, once it is past its deadline, and runs it once', async () => {
    // Prepare
    const rt = await startTestRuntime({ reaper: { intervalMs: 200, queuedDeadlineMs: 1000 } });
    runtimes.push(rt);
    const observer = await observe(rt);
    // Act
    const task = await writtenNotQueued(rt);
    await eventually(
      async () => (await rt.tasks.get(task.taskId))?.status === 'succeeded',
      RECOVERY_BOUND_MS,
    );
    await sleep(1000);
    // Assess
    expect(await rt.tasks.get(task.taskId)).toMatchObject({
      status: 'succeeded',
      result: { kind: 'words', count: 2 },
    });
    const finals = observer.frames.filter(
      (f) => f.type === 'task.update' && f.taskId === task.taskId && f.status === 'succeeded',
    );
    expect(finals).toHaveLength(1);
  });

  it('fails a task that no worker takes after its re-queues, with a clear error, and says so', async () => {
    // Prepare: no workers, so every re-queue is lost too
    const rt = await startTestRuntime({
      workers: false,
      reaper: { intervalMs: 100, queuedDeadlineMs: 300, maxReaps: 2 },
    });
    runtimes.push(rt);
    const observer = await observe(rt);
    // Act
    const task = await writtenNotQueued(rt);
    await eventually(
      async () => (await rt.tasks.get(task.taskId))?.status === 'failed',
      RECOVERY_BOUND_MS,
    );
    // Assess
    expect((await rt.tasks.get(task.taskId))?.error).toBe(
      'no worker picked the task up: it was still queued after 2 re-queues (reaper)',
    );
    const failed = await observer.waitFor(
      (f) => f.type === 'task.update' && f.taskId === task.taskId && f.status === 'failed',
    );
    expect(failed.error).toMatch(/re-queues \(reaper\)/);
  });

  it('runs on demand through the catalog entry', async () => {
    // Prepare
    const rt = await startTestRuntime({ workers: false, reaper: { intervalMs: 0 } });
    runtimes.push(rt);
    // Act
    const report = await rt.reapTasks();
    // Assess
    expect(report).toEqual({ requeued: 0, failed: 0, skipped: 0, errors: 0 });
  });
});

describe('a restart on a data folder', () => {
  it('sends scheduled messages a killed run left queued or sending, each once', async () => {
    // Prepare: the state a kill leaves: handed on to the fan-out queue, or claimed by a sender
    const dir = await mkdtemp(join(tmpdir(), 'taskwire-recovery-'));
    dirs.push(dir);
    const startedAt = Date.now();
    const first = await startTestRuntime({ dataPath: dir, workers: false });
    runtimes.push(first); // stopped below; a second stop is a no-op
    // Due once the listener of the second run is there: a stop and a start from now, which take
    // longer on a loaded machine, so the margin grows with how long this start took.
    const sendAt = new Date(Date.now() + Math.max(2500, 4 * (Date.now() - startedAt)));
    const ids = ['s_recovery-queued', 's_recovery-sending'];
    for (const [i, id] of ids.entries()) {
      const record: ScheduledRecord = {
        id,
        kind: 'scheduled',
        state: 'pending',
        audience: { kind: 'user', userId: 'late' },
        data: `left-${i}`,
        sendAt: sendAt.toISOString(),
        dueMinute: dueMinuteOf(sendAt),
        createdAt: new Date().toISOString(),
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
      };
      await first.messages.createScheduled(record);
      await first.messages.moveScheduled(id, ['pending'], i === 0 ? 'queued' : 'sending');
    }
    await first.stop();

    // Act
    const second = await startTestRuntime({ dataPath: dir, workers: false });
    runtimes.push(second);
    const listener = await TestClient.connect(second.wsUrl, await tokenFor({ sub: 'late' }));
    clients.push(listener);
    await listener.request({ action: 'ping' });
    await eventually(
      () => listener.ofType('message').length >= 2,
      sendAt.getTime() - Date.now() + RECOVERY_BOUND_MS,
    );
    await sleep(1500);

    // Assess
    expect(
      listener
        .ofType('message')
        .map((f) => f.data)
        .sort(),
    ).toEqual(['left-0', 'left-1']);
    for (const id of ids) {
      expect(await second.messages.getScheduled(id)).toMatchObject({ state: 'sent', delivered: 1 });
    }
  });
});
