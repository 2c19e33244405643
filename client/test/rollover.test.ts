import { FakeSocket, flush } from './support/fake-socket.js';
import { delivered, makeClient, msg, open, TIPS } from './support/harness.js';

beforeEach(() => {
  FakeSocket.reset();
  jest.useFakeTimers();
});
afterEach(() => jest.useRealTimers());

describe('make-before-break on session.expiring', () => {
  it('opens the next connection, resumes on it, switches, then closes the old one; nothing twice', async () => {
    // Prepare
    const { client, frames, token } = makeClient();
    const old = await open(client);
    old.serve(msg('user:u', 1));
    const states: string[] = [];
    client.on('state', (e) => states.push(e.state));

    // Act: the notice; frames keep coming on the old connection meanwhile
    old.serve({ type: 'session.expiring', id: 'x', closesAt: new Date().toISOString() });
    await flush();
    const next = FakeSocket.last;
    expect(next).not.toBe(old);
    old.serve(msg('user:u', 2));
    next.accept();
    expect(next.register.resume).toMatchObject({ 'user:u': { epoch: 'eu', seq: 2 } });
    client.send({ action: 'ping', requestId: 'during' });
    old.serve(msg('user:u', 3));
    const requestId = next.register.requestId;
    next.serve({
      type: 'registered',
      id: 'r',
      requestId,
      streams: { ...TIPS, 'user:u': { epoch: 'eu', seq: 3 } },
    });
    next.serve({ ...msg('user:u', 3), replayed: true });
    expect(old.readyState).toBe(1);
    next.serve({
      type: 'resumed',
      id: 's',
      requestId,
      streams: { 'user:u': { epoch: 'eu', seq: 3, recovered: true } },
    });
    old.serve(msg('user:u', 4));
    next.serve(msg('user:u', 4));
    client.send({ action: 'ping', requestId: 'after' });

    // Assess: still open throughout, the old one closed, each frame once, in order
    expect(states).toEqual([]);
    expect(client.state).toBe('open');
    expect(old.readyState).toBe(3);
    expect(token).toHaveBeenCalledTimes(2);
    expect(delivered(frames)).toEqual(['user:u:1', 'user:u:2', 'user:u:3', 'user:u:4']);
    expect(old.sentOf('ping').map((f) => f.requestId)).toEqual(['during']);
    expect(next.sentOf('ping').map((f) => f.requestId)).toEqual(['after']);
    await client.close();
  });

  it('switches on registered when there is nothing to resume', async () => {
    // Prepare: a client that holds no stream epoch yet (no tips were given)
    const { client } = makeClient();
    const old = await open(client, {});

    // Act
    old.serve({ type: 'session.expiring', id: 'x', closesAt: new Date().toISOString() });
    await flush();
    const next = FakeSocket.last;
    next.accept();
    expect(next.register).not.toHaveProperty('resume');
    next.registered(TIPS);

    // Assess
    expect(old.readyState).toBe(3);
    expect(client.state).toBe('open');
    await client.close();
  });

  it('keeps the old connection while a request sent on it waits for its reply (up to 2 s)', async () => {
    // Prepare
    const { client } = makeClient();
    const old = await open(client);
    const join = client.join('ops');

    // Act
    old.serve({ type: 'session.expiring', id: 'x', closesAt: new Date().toISOString() });
    await flush();
    const next = FakeSocket.last;
    next.accept();
    next.registered(TIPS, { 'user:u': { epoch: 'eu', seq: 0, recovered: true } });
    expect(old.readyState).toBe(1);
    old.serve({
      type: 'joined',
      id: 'j',
      group: 'ops',
      requestId: old.sentOf('join')[0]?.requestId,
      streams: {},
    });

    // Assess
    await expect(join).resolves.toMatchObject({ group: 'ops' });
    expect(old.readyState).toBe(3);
    await client.close();
  });

  it('when the next connection fails, retries with backoff while the old one still serves', async () => {
    // Prepare
    const { client } = makeClient({ random: () => 0 });
    const old = await open(client);

    // Act
    old.serve({ type: 'session.expiring', id: 'x', closesAt: new Date().toISOString() });
    await flush();
    FakeSocket.last.refuse(401);
    await jest.advanceTimersByTimeAsync(0);
    await flush();
    const third = FakeSocket.last;
    third.accept();
    third.registered(TIPS, { 'user:u': { epoch: 'eu', seq: 0, recovered: true } });

    // Assess
    expect(FakeSocket.all).toHaveLength(3);
    expect(old.readyState).toBe(3);
    expect(client.state).toBe('open');
    expect(client.lastError?.unauthorized).toBe(true);
    await client.close();
  });
});
