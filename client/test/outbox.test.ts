import type { DroppedEvent } from '../src/index.js';
import { FakeSocket, flush } from './support/fake-socket.js';
import { makeClient, open, TIPS } from './support/harness.js';

beforeEach(() => {
  FakeSocket.reset();
  jest.useFakeTimers();
});
afterEach(() => jest.useRealTimers());

describe('outbox', () => {
  it('queues frames sent while not open and flushes them in order once open', async () => {
    // Prepare
    const { client } = makeClient();
    const opened = client.connect();
    await flush();

    // Act
    client.send({ action: 'ping', requestId: 'a' });
    client.send({ action: 'ping', requestId: 'b' });
    expect(client.outbox.size).toBe(2);
    FakeSocket.last.accept();
    FakeSocket.last.registered(TIPS);
    await opened;

    // Assess: after the register, in order
    expect(FakeSocket.last.sent.map((f) => f.requestId ?? f.action)).toEqual([
      FakeSocket.last.register.requestId,
      'a',
      'b',
    ]);
    expect(client.outbox.size).toBe(0);
    await client.close();
  });

  it('keeps at most outboxLimit frames: the oldest is dropped with a dropped event', async () => {
    // Prepare
    const { client } = makeClient({ outboxLimit: 3, random: () => 0 });
    const socket = await open(client);
    socket.drop();
    const dropped: DroppedEvent[] = [];
    client.on('dropped', (e) => dropped.push(e));

    // Act: five frames while disconnected, one of them a join
    const joining = client.join('g0').catch((e: Error) => e);
    for (let n = 1; n <= 4; n++) client.send({ action: 'ping', requestId: `p${n}` });

    // Assess: the join and p1 went, p2..p4 wait
    expect(dropped.map((d) => d.frame.action)).toEqual(['join', 'ping']);
    expect(dropped.map((d) => d.dropped)).toEqual([1, 2]);
    expect(dropped[1]?.frame.requestId).toBe('p1');
    expect(client.outbox).toEqual({ size: 3, limit: 3, dropped: 2 });
    expect(String(await joining)).toMatch(
      /TaskwireDroppedError: join was dropped from the full outbox \(limit 3\)/,
    );
    await jest.advanceTimersByTimeAsync(0);
    FakeSocket.last.accept();
    FakeSocket.last.registered(TIPS, { 'user:u': { epoch: 'eu', seq: 0, recovered: true } });
    expect(FakeSocket.last.sentOf('ping').map((f) => f.requestId)).toEqual(['p2', 'p3', 'p4']);
    await client.close();
  });

  it('sends again, on the next connection, a request whose reply the dropped connection never gave', async () => {
    // Prepare
    const { client } = makeClient({ random: () => 0 });
    const first = await open(client);
    const reply = client.cancel('t_1');
    const sent = first.sentOf('cancel')[0];

    // Act
    first.drop();
    await jest.advanceTimersByTimeAsync(0);
    const second = FakeSocket.last;
    second.accept();
    second.registered(TIPS, { 'user:u': { epoch: 'eu', seq: 0, recovered: true } });
    const again = second.sentOf('cancel')[0];
    second.serve({
      type: 'task.cancelled',
      id: 'c',
      taskId: 't_1',
      status: 'cancelled',
      requestId: again?.requestId,
    });

    // Assess: the same requestId (the server dedupes it)
    expect(again).toEqual(sent);
    await expect(reply).resolves.toMatchObject({ taskId: 't_1', status: 'cancelled' });
    await client.close();
  });
});
