import { FakeSocket, flush } from './support/fake-socket.js';
import { makeClient, open, TIPS } from './support/harness.js';

beforeEach(() => {
  FakeSocket.reset();
  jest.useFakeTimers();
});
afterEach(() => jest.useRealTimers());

describe('connect and register', () => {
  it('connects with ?token= and registers its clientType and groups', async () => {
    // Prepare
    const { client } = makeClient({ clientType: 'http', groups: ['ops'] });

    // Act
    const socket = await open(client);

    // Assess
    expect(socket.url).toBe('ws://gateway.test/?token=t1');
    expect(socket.register).toMatchObject({
      action: 'register',
      clientType: 'http',
      groups: ['ops'],
    });
    expect(socket.register).not.toHaveProperty('resume');
    expect(client.state).toBe('open');
    expect(client.streams['user:u']).toEqual({ epoch: 'eu', seq: 0, recovered: true });
    await client.close();
  });

  it('calls the token provider on every connect and reconnect', async () => {
    // Prepare
    const { client, token } = makeClient({ random: () => 0 });
    await open(client);

    // Act: three drops, three reconnects
    for (let i = 0; i < 3; i++) {
      FakeSocket.last.drop();
      await jest.advanceTimersByTimeAsync(0);
      FakeSocket.last.accept();
      FakeSocket.last.registered(TIPS, { 'user:u': { epoch: 'eu', seq: 0, recovered: true } });
    }

    // Assess: a fresh token on each socket
    expect(token).toHaveBeenCalledTimes(4);
    expect(FakeSocket.all.map((s) => s.token)).toEqual(['t1', 't2', 't3', 't4']);
    await client.close();
  });

  it('on a 401 upgrade asks for a new token on the next attempt, counting it as a backoff attempt', async () => {
    // Prepare: the first token is expired, the second good
    const { client, token } = makeClient({ random: () => 0.5, backoff: { baseMs: 1000 } });
    const events: string[] = [];
    client.on('state', (e) => events.push(e.state));
    client.on('retry', (e) =>
      events.push(`retry ${e.attempt} in ${e.delayMs}: ${e.error?.message}`),
    );
    const opened = client.connect();
    await flush();

    // Act: refused (as `ws` reports it); that was attempt 0, so the retry waits 0.5 * 1000 * 2^1
    FakeSocket.last.refuse(401);
    expect(client.lastError?.details.status).toBe(401);
    expect(client.lastError?.unauthorized).toBe(true);
    await jest.advanceTimersByTimeAsync(999);
    expect(FakeSocket.all).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    await flush();
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.last.accept();
    FakeSocket.last.registered(TIPS);
    await opened;

    // Assess
    expect(token).toHaveBeenCalledTimes(2);
    expect(FakeSocket.all.map((s) => s.token)).toEqual(['t1', 't2']);
    expect(events).toEqual(['retry 1 in 1000: the upgrade was refused: HTTP 401', 'open']);
    await client.close();
  });

  it('treats a browser-style failure before open (no status) as a failed attempt', async () => {
    // Prepare
    const { client } = makeClient({ random: () => 0 });
    const opened = client.connect();
    await flush();

    // Act
    FakeSocket.last.fail();
    await jest.advanceTimersByTimeAsync(0);
    FakeSocket.last.accept();
    FakeSocket.last.registered(TIPS);
    await opened;

    // Assess
    expect(client.lastError?.message).toMatch(/failed before it opened/);
    expect(client.lastError?.details.status).toBeUndefined();
    expect(FakeSocket.all).toHaveLength(2);
    await client.close();
  });

  it('retries when the token provider throws', async () => {
    // Prepare
    let calls = 0;
    const { client } = makeClient({
      random: () => 0,
      token: async () => {
        calls += 1;
        if (calls === 1) throw new Error('refresh endpoint down');
        return 'good';
      },
    });

    // Act
    const opened = client.connect();
    await jest.advanceTimersByTimeAsync(0);
    FakeSocket.last.accept();
    FakeSocket.last.registered(TIPS);
    await opened;

    // Assess
    expect(FakeSocket.all.map((s) => s.token)).toEqual(['good']);
    expect(client.state).toBe('open');
    await client.close();
  });

  it('close() stops timers and sockets and resolves; nothing runs after it', async () => {
    // Prepare
    const { client } = makeClient({ heartbeatMs: 1000 });
    const socket = await open(client);
    const pending = client.join('later').catch((e: Error) => e.name);

    // Act
    await client.close();
    await jest.advanceTimersByTimeAsync(60_000);

    // Assess
    expect(client.state).toBe('closed');
    expect(socket.readyState).toBe(3);
    expect(socket.sentOf('ping')).toEqual([]);
    expect(await pending).toBe('TaskwireDroppedError');
    expect(FakeSocket.all).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('heartbeat', () => {
  it('sends {"action":"ping"} every heartbeatMs while open, and stops while disconnected', async () => {
    // Prepare: the default, 4 minutes
    const { client } = makeClient({ random: () => 0 });
    const socket = await open(client);

    // Act + Assess
    await jest.advanceTimersByTimeAsync(4 * 60_000 - 1);
    expect(socket.sentOf('ping')).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(socket.sent.at(-1)).toEqual({ action: 'ping' });
    await jest.advanceTimersByTimeAsync(8 * 60_000);
    expect(socket.sentOf('ping')).toHaveLength(3);

    // Disconnected (and the reconnect not answered yet): no ping goes anywhere
    socket.drop();
    await jest.advanceTimersByTimeAsync(10 * 60_000);
    expect(socket.sentOf('ping')).toHaveLength(3);
    const next = FakeSocket.last;
    expect(next).not.toBe(socket);
    next.accept();
    next.registered(TIPS, { 'user:u': { epoch: 'eu', seq: 0, recovered: true } });
    await jest.advanceTimersByTimeAsync(4 * 60_000);
    expect(next.sentOf('ping')).toHaveLength(1);
    await client.close();
  });
});
