import { TaskwireServerError } from '../src/index.js';
import { FakeSocket, flush } from './support/fake-socket.js';
import { makeClient, open } from './support/harness.js';

beforeEach(() => {
  FakeSocket.reset();
  jest.useFakeTimers();
});
afterEach(() => jest.useRealTimers());

describe('socket worker registration', () => {
  it('sends `worker` in every register, on reconnects too', async () => {
    // Prepare
    const { client } = makeClient({
      clientType: 'download',
      worker: { taskTypes: ['download'], concurrency: 2 },
      random: () => 0,
    });
    await open(client);

    // Act: a drop and a reconnect
    FakeSocket.last.drop();
    await jest.advanceTimersByTimeAsync(0);
    FakeSocket.last.accept();
    await flush();

    // Assess
    for (const socket of FakeSocket.all) {
      expect(socket.register).toMatchObject({
        action: 'register',
        clientType: 'download',
        worker: { taskTypes: ['download'], concurrency: 2 },
      });
    }
    await client.close();
  });

  it('leaves `worker` out of a plain client’s register', async () => {
    // Prepare / Act
    const { client } = makeClient();
    const socket = await open(client);

    // Assess
    expect(socket.register).not.toHaveProperty('worker');
    await client.close();
  });

  it('answers a request with its reply, and rejects on `lease_lost`', async () => {
    // Prepare
    const { client, frames } = makeClient({ worker: { taskTypes: ['download'] } });
    const socket = await open(client);
    socket.serve({ type: 'task.assign', id: 'a1', taskId: 't_1', taskType: 'download', args: {} });

    // Act
    const acked = client.request({ action: 'progress', taskId: 't_1', progress: 0.5 });
    const [progress] = socket.sentOf('progress');
    socket.serve({ type: 'task.ack', id: 'k1', taskId: 't_1', requestId: progress?.requestId });
    const late = client.request({ action: 'result', taskId: 't_1', result: {} });
    const [result] = socket.sentOf('result');
    socket.serve({
      type: 'error',
      id: 'e1',
      code: 'lease_lost',
      message: 'task t_1 is no longer yours',
      requestId: result?.requestId,
    });

    // Assess: the assign reached the worker's handlers, the answers their callers
    expect(frames.map((f) => f.type)).toContain('task.assign');
    await expect(acked).resolves.toMatchObject({ type: 'task.ack', taskId: 't_1' });
    await expect(late).rejects.toBeInstanceOf(TaskwireServerError);
    await expect(late).rejects.toMatchObject({ code: 'lease_lost' });
    await client.close();
  });
});
