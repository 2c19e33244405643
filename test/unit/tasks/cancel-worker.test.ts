import type { Pusher } from '../../../src/push/pusher';
import type { Task } from '../../../src/tasks/task';
import type { TaskMessage } from '../../../src/tasks/task-queue';
import { handleWork } from '../../../src/tasks/worker';
import type { MemoryTaskStore } from '../../support/memory-task-store';
import { memoryWorkerPorts } from '../../support/worker-ports';

const CHUNKS = 20;
const CHUNK_BYTES = 1000;

/**
 * A worker on memory stores whose clock moves 300 ms a reading (so every progress report is
 * written), and a server whose body is pulled chunk by chunk: `onChunk(i)` runs before chunk
 * i is handed out (i = CHUNKS: before the end of the body), and the test sees how many were
 * read and whether the fetch was aborted.
 */
function setup(onChunk: (i: number, tasks: MemoryTaskStore) => Promise<void> = async () => {}) {
  const pushed: string[] = [];
  const seen = { chunks: 0, aborted: false };
  const fetchStub = (async (_url: unknown, init?: RequestInit) => {
    init?.signal?.addEventListener('abort', () => (seen.aborted = true));
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await onChunk(i, tasks);
        if (i === CHUNKS) return controller.close();
        i += 1;
        seen.chunks = i;
        controller.enqueue(new Uint8Array(CHUNK_BYTES));
      },
    });
    return new Response(body, {
      status: 200,
      headers: { 'content-length': String(CHUNKS * CHUNK_BYTES) },
    });
  }) as typeof fetch;
  const pushTo: Pusher['pushTo'] = async (_recipients, frame) => {
    pushed.push(String((frame as { status?: string }).status));
    return { attempted: 1, delivered: 1, gone: 0, failed: 0, retried: 0 };
  };
  const { tasks, queued, worker: ports } = memoryWorkerPorts({ fetch: fetchStub, pushTo });
  const add = async (): Promise<Task> => {
    const task: Task = {
      taskId: 't_aaaaaaaaaaaaaaaaaaab',
      taskType: 'download',
      args: { dsNumber: '12345', server: 'main' },
      status: 'queued',
      source: 'ws',
      requester: { userId: 'alice' },
      createdAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2030-01-01T00:00:00.000Z',
      expiresAt: 1_900_000_000,
    };
    await tasks.create(task);
    return task;
  };
  const run = (task: Task) =>
    handleWork(
      ports,
      { taskId: task.taskId, taskType: task.taskType },
      { receiveCount: 1, maxReceiveCount: 3, signal: new AbortController().signal },
    );
  return { tasks, queued, pushed, seen, add, run };
}

describe('a Lambda worker when its task is cancelled', () => {
  it('stops reading the download at its next progress write, aborts the fetch and neither retries nor chains', async () => {
    // Prepare: the task is cancelled while chunk 5 of 20 is on its way
    const { tasks, queued, seen, add, run } = setup(async (i, store) => {
      if (i === 5) await store.transition('t_aaaaaaaaaaaaaaaaaaab', { to: 'cancelled' });
    });
    const task = await add();

    // Act
    const outcome = await run(task);

    // Assess: ended without a throw (no queue retry), well before the end of the body
    expect(outcome).toBe('cancelled');
    expect(seen.aborted).toBe(true);
    expect(seen.chunks).toBeLessThan(CHUNKS);
    const stored = await tasks.get(task.taskId);
    expect(stored?.status).toBe('cancelled');
    expect(stored?.result).toBeUndefined();
    expect(queued).toEqual([]);
  });

  it('queues no follow-up when the task is cancelled after the last byte, and drops the result', async () => {
    // Prepare: cancelled once the whole body is read (no progress write comes after it)
    const { tasks, queued, pushed, add, run } = setup(async (i, store) => {
      if (i === CHUNKS) await store.transition('t_aaaaaaaaaaaaaaaaaaab', { to: 'cancelled' });
    });
    const task = await add();

    // Act
    const outcome = await run(task);

    // Assess
    expect(outcome).toBe('cancelled');
    expect(queued).toEqual([]);
    expect(await tasks.get(task.taskId)).toMatchObject({ status: 'cancelled' });
    expect(pushed).not.toContain('succeeded');
  });

  it('cancels the follow-up it queued when the cancel lands between the chain and the result', async () => {
    // Prepare: the cancel arrives just as the logic task is queued
    const { tasks, queued, pushed, add, run } = setup();
    const task = await add();
    const enqueue = async (m: TaskMessage) => {
      queued.push(m);
      await tasks.transition(task.taskId, { to: 'cancelled' });
    };
    const realCreate = tasks.create.bind(tasks);
    tasks.create = async (t) => {
      const out = await realCreate(t);
      if (t.taskType === 'logic') await enqueue({ taskId: t.taskId, taskType: t.taskType });
      return out;
    };

    // Act
    const outcome = await run(task);

    // Assess: the parent keeps `cancelled` without its result; the child is cancelled too
    expect(outcome).toBe('cancelled');
    const parent = await tasks.get(task.taskId);
    expect(parent).toMatchObject({ status: 'cancelled' });
    expect(parent?.result).toBeUndefined();
    const child = [...tasks.all.values()].find((t) => t.parentTaskId === task.taskId);
    expect(child?.status).toBe('cancelled');
    expect(pushed).not.toContain('succeeded');
    expect(pushed).toContain('cancelled');
  });

  it('still succeeds and chains when nobody cancels', async () => {
    const { tasks, queued, add, run } = setup();
    const task = await add();
    expect(await run(task)).toBe('succeeded');
    expect((await tasks.get(task.taskId))?.status).toBe('succeeded');
    expect(queued.map((m) => m.taskType)).toEqual(['logic']);
  });
});
