import { submitTask } from '../../../src/tasks/submit';
import type { Task } from '../../../src/tasks/task';
import {
  chainDedupeKey,
  chainedTaskId,
  dedupedTaskId,
  TASK_ID_PATTERN,
} from '../../../src/tasks/task-id';
import { handleWork } from '../../../src/tasks/worker';
import { memoryWorkerPorts } from '../../support/worker-ports';

/**
 * The id of a chained task, three ways that must agree: `chainedTaskId` (what a socket worker's
 * `chain()` answers before the server queues the child), the Lambda worker's chain
 * (src/tasks/worker.ts) and a submit with source `chain` and `chainDedupeKey`, which is how the
 * socket workers' `result` queues its `next` (src/tasks/socket/socket-workers.ts; its run
 * through the local runtime is in test/integration/socket-worker-process.test.ts).
 */

const PARENT = 't_aaaaaaaaaaaaaaaaaaab';

function ports() {
  const fetchStub = (async () =>
    new Response('id,value\n1,2\n', { status: 200 })) as unknown as typeof fetch;
  return memoryWorkerPorts({ fetch: fetchStub });
}

const parentTask: Task = {
  taskId: PARENT,
  taskType: 'download',
  args: { dsNumber: '12345', server: 'main' },
  status: 'queued',
  source: 'ws',
  requester: { userId: 'alice' },
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:00:00.000Z',
  expiresAt: 1_900_000_000,
};

describe('chainedTaskId', () => {
  it('is the deduped id of source chain and the parent:type key, a well-formed task id', () => {
    // Act
    const id = chainedTaskId(PARENT, 'logic');

    // Assess
    expect(chainDedupeKey(PARENT, 'logic')).toBe(`${PARENT}:logic`);
    expect(id).toBe(dedupedTaskId('chain', `${PARENT}:logic`));
    expect(id).toMatch(TASK_ID_PATTERN);
    expect(chainedTaskId(PARENT, 'download')).not.toBe(id);
    expect(chainedTaskId('t_aaaaaaaaaaaaaaaaaaac', 'logic')).not.toBe(id);
  });

  it('agrees with the task a Lambda run of the parent chains', async () => {
    // Prepare
    const { tasks, queued, worker } = ports();
    await tasks.create(parentTask);

    // Act
    const outcome = await handleWork(
      worker,
      { taskId: PARENT, taskType: 'download' },
      { receiveCount: 1, maxReceiveCount: 3, signal: new AbortController().signal },
    );

    // Assess
    expect(outcome).toBe('succeeded');
    expect(queued).toEqual([{ taskId: chainedTaskId(PARENT, 'logic'), taskType: 'logic' }]);
    expect((await tasks.get(PARENT))?.result).toMatchObject({
      logicTaskId: chainedTaskId(PARENT, 'logic'),
    });
  });

  it('agrees with the submit a socket worker’s result makes of its next', async () => {
    // Prepare
    const { tasks, submit } = ports();
    await tasks.create({ ...parentTask, status: 'running' });

    // Act: what workerResult submits for `next`
    const { task } = await submitTask(submit, {
      taskType: 'logic',
      args: { args: ['x'] },
      source: 'chain',
      requester: parentTask.requester,
      parentTaskId: PARENT,
      dedupeKey: chainDedupeKey(PARENT, 'logic'),
    });

    // Assess
    expect(task.taskId).toBe(chainedTaskId(PARENT, 'logic'));
  });
});
