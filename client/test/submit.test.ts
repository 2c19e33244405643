import { TaskwireServerError, TaskwireTimeoutError } from '../src/index.js';
import { FakeSocket } from './support/fake-socket.js';
import { makeClient, open } from './support/harness.js';

beforeEach(() => {
  FakeSocket.reset();
  jest.useFakeTimers();
});
afterEach(() => jest.useRealTimers());

let seq = 0;
const update = (taskId: string, status: string, extra: Record<string, unknown> = {}) => ({
  type: 'task.update',
  id: `u${++seq}`,
  stream: 'user:u',
  seq,
  taskId,
  taskType: extra.taskType ?? 'download',
  status,
  ...extra,
});

beforeEach(() => {
  seq = 0;
});

async function submitted(socket: FakeSocket, taskId: string) {
  const frame = socket.sentOf('submit').at(-1);
  socket.serve({ type: 'task.accepted', id: 'a', taskId, requestId: frame?.requestId });
  await jest.advanceTimersByTimeAsync(0);
  return frame;
}

describe('submit', () => {
  it('resolves with the last task of the chain once every task of it is terminal', async () => {
    // Prepare
    const { client } = makeClient();
    const socket = await open(client);
    let result: unknown;
    const done = client.submit('download', ['12345']).then((r) => (result = r));

    // Act: download runs, succeeds naming its logic task, the logic task runs and succeeds
    const frame = await submitted(socket, 't_d');
    socket.serve(update('t_d', 'queued'));
    socket.serve(update('t_d', 'running'));
    socket.serve(update('t_d', 'succeeded', { result: { logicTaskId: 't_l' } }));
    await jest.advanceTimersByTimeAsync(0);
    expect(result).toBeUndefined();
    socket.serve(update('t_l', 'queued', { taskType: 'logic', parentTaskId: 't_d' }));
    socket.serve(update('t_l', 'running', { taskType: 'logic', parentTaskId: 't_d' }));
    await jest.advanceTimersByTimeAsync(0);
    expect(result).toBeUndefined();
    socket.serve(
      update('t_l', 'succeeded', {
        taskType: 'logic',
        parentTaskId: 't_d',
        result: { report: 'ok' },
      }),
    );
    await done;

    // Assess
    expect(frame).toMatchObject({ action: 'submit', taskType: 'download', args: ['12345'] });
    expect(typeof frame?.requestId).toBe('string');
    expect(result).toMatchObject({ taskId: 't_l', status: 'succeeded', result: { report: 'ok' } });
    await client.close();
  });

  it('follows a chained task known only by parentTaskId, whatever order the updates come in', async () => {
    // Prepare
    const { client } = makeClient();
    const socket = await open(client);
    const done = client.submit('download', ['1']);
    await submitted(socket, 't_d');

    // Act: the child is queued before the parent's success arrives; no logicTaskId in result
    socket.serve(update('t_c', 'queued', { parentTaskId: 't_d' }));
    socket.serve(update('t_d', 'succeeded'));
    socket.serve(update('t_c', 'failed', { error: { code: 'boom' } }));

    // Assess: a failed task resolves (check status), it does not reject
    await expect(done).resolves.toMatchObject({ taskId: 't_c', status: 'failed' });
    await client.close();
  });

  it('resolves with a failed root task that chains nothing', async () => {
    const { client } = makeClient();
    const socket = await open(client);
    const done = client.submit('download', ['1']);
    await submitted(socket, 't_d');
    socket.serve(update('t_d', 'failed', { error: { code: 'fetch_failed' } }));
    await expect(done).resolves.toMatchObject({ taskId: 't_d', status: 'failed' });
    await client.close();
  });

  it('rejects with TaskwireTimeoutError naming the task and the time', async () => {
    // Prepare
    const { client } = makeClient();
    const socket = await open(client);
    const done = client.submit('download', ['1'], { timeoutMs: 5000 }).catch((e: unknown) => e);
    await submitted(socket, 't_d');
    socket.serve(update('t_d', 'running'));

    // Act
    await jest.advanceTimersByTimeAsync(5000);

    // Assess
    const error = await done;
    expect(error).toBeInstanceOf(TaskwireTimeoutError);
    expect(String(error)).toBe(
      'TaskwireTimeoutError: task download t_d (t_d: running) did not end within 5000 ms',
    );
    expect(error).toMatchObject({ taskId: 't_d', taskType: 'download', timeoutMs: 5000 });
    await client.close();
  });

  it('rejects with the timeout error before the task was even accepted', async () => {
    const { client } = makeClient();
    await open(client);
    const done = client.submit('download', ['1'], { timeoutMs: 1 }).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(1);
    expect(String(await done)).toBe(
      'TaskwireTimeoutError: task download (not accepted yet) did not end within 1 ms',
    );
    await client.close();
  });

  it('rejects with TaskwireServerError on an error frame', async () => {
    const { client } = makeClient();
    const socket = await open(client);
    const done = client.submit('nope', []).catch((e: unknown) => e);
    const frame = socket.sentOf('submit')[0];
    socket.serve({
      type: 'error',
      id: 'e',
      code: 'bad_request',
      message: 'unknown task type "nope"',
      requestId: frame?.requestId,
    });
    const error = await done;
    expect(error).toBeInstanceOf(TaskwireServerError);
    expect(error).toMatchObject({ code: 'bad_request' });
    await client.close();
  });
});

describe('cancel', () => {
  it('sends {"action":"cancel","taskId","requestId"} and resolves with the reply', async () => {
    const { client } = makeClient();
    const socket = await open(client);
    const done = client.cancel('t_9');
    const frame = socket.sentOf('cancel')[0];
    expect(frame).toEqual({ action: 'cancel', taskId: 't_9', requestId: expect.any(String) });
    socket.serve({
      type: 'task.cancelled',
      id: 'c',
      taskId: 't_9',
      status: 'cancelled',
      requestId: frame?.requestId,
    });
    await expect(done).resolves.toMatchObject({ status: 'cancelled' });
    await client.close();
  });

  it('rejects with the error frame', async () => {
    const { client } = makeClient();
    const socket = await open(client);
    const done = client.cancel('t_9');
    const frame = socket.sentOf('cancel')[0];
    socket.serve({
      type: 'error',
      id: 'e',
      code: 'forbidden',
      message: 'not yours',
      requestId: frame?.requestId,
    });
    await expect(done).rejects.toThrow('forbidden: not yours');
    await client.close();
  });
});
