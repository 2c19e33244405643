import { FakeSocket } from './support/fake-socket.js';
import { delivered, makeClient, msg, open, TIPS } from './support/harness.js';

beforeEach(() => {
  FakeSocket.reset();
  jest.useFakeTimers();
});
afterEach(() => jest.useRealTimers());

describe('ordering and dedupe', () => {
  it('delivers a frame once per (stream, seq), however often it comes', async () => {
    // Prepare
    const { client, frames } = makeClient();
    const socket = await open(client);

    // Act
    for (const seq of [1, 1, 2, 1, 2, 3]) socket.serve(msg('user:u', seq));

    // Assess
    expect(delivered(frames)).toEqual(['user:u:1', 'user:u:2', 'user:u:3']);
    expect(client.streams['user:u']?.seq).toBe(3);
    await client.close();
  });

  it('emits a frame that comes in two streams with the same id once, and advances both streams', async () => {
    // Prepare: an observer that asked for the task itself gets both copies
    const { client } = makeClient({ clientType: 'http' });
    const socket = await open(client, { ...TIPS, 'type:http': { epoch: 'eh', seq: 40 } });
    const updates: string[] = [];
    client.on('task.update', (u) => updates.push(`${u.taskId}:${u.status}`));
    const update = {
      type: 'task.update',
      id: 'f1',
      taskId: 't1',
      taskType: 'logic',
      status: 'running',
    };

    // Act
    socket.serve({ ...update, stream: 'user:u', seq: 1 });
    socket.serve({ ...update, stream: 'type:http', seq: 41 });

    // Assess
    expect(updates).toEqual(['t1:running']);
    expect(client.streams['user:u']?.seq).toBe(1);
    expect(client.streams['type:http']?.seq).toBe(41);
    await client.close();
  });

  it('holds a frame ahead of a gap until the gap fills, then delivers in seq order', async () => {
    // Prepare
    const { client, frames } = makeClient();
    const socket = await open(client);

    // Act: 1, 3, 4 arrive; 2 comes 500 ms later (inside the 1,000 ms window)
    socket.serve(msg('user:u', 1));
    socket.serve(msg('user:u', 3));
    socket.serve(msg('user:u', 4));
    expect(delivered(frames)).toEqual(['user:u:1']);
    await jest.advanceTimersByTimeAsync(500);
    socket.serve(msg('user:u', 2));

    // Assess
    expect(delivered(frames)).toEqual(['user:u:1', 'user:u:2', 'user:u:3', 'user:u:4']);
    await client.close();
  });

  it('asks for the gap once the window is over, and delivers past a hole the server vouches for', async () => {
    // Prepare
    const { client, frames } = makeClient({ reorderWindowMs: 300 });
    const socket = await open(client);

    // Act: seq 2 never comes (a hole); 3 and 4 wait 300 ms
    socket.serve(msg('user:u', 1));
    socket.serve(msg('user:u', 3));
    socket.serve(msg('user:u', 4));
    await jest.advanceTimersByTimeAsync(299);
    expect(delivered(frames)).toEqual(['user:u:1']);
    expect(socket.sentOf('register')).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);

    // Assess: a resume on the same connection, from the last contiguous seq
    expect(socket.sentOf('register')).toHaveLength(2);
    expect(socket.register.resume).toMatchObject({ 'user:u': { epoch: 'eu', seq: 1 } });
    // The server has nothing for 2 (a hole): registered, no replay, resumed at the tip
    socket.registered(
      { ...TIPS, 'user:u': { epoch: 'eu', seq: 4 } },
      { 'user:u': { epoch: 'eu', seq: 4, recovered: true } },
    );
    // One more window for a frame that was being stored while the replay was read; then past
    expect(delivered(frames)).toEqual(['user:u:1']);
    await jest.advanceTimersByTimeAsync(300);
    expect(delivered(frames)).toEqual(['user:u:1', 'user:u:3', 'user:u:4']);
    socket.serve(msg('user:u', 2));
    expect(delivered(frames)).toEqual(['user:u:1', 'user:u:3', 'user:u:4']);
    expect(client.streams['user:u']).toEqual({ epoch: 'eu', seq: 4, recovered: true });
    expect(client.state).toBe('open');
    await client.close();
  });

  it('waits after resumed for a frame stored while the replay was read: it comes live, in order', async () => {
    // Prepare: a reconnect resumes from 1; the tip is 3, but 3 was not stored yet at the read
    const { client, frames } = makeClient({ random: () => 0 });
    const first = await open(client);
    first.serve(msg('user:u', 1));
    first.drop();
    await jest.advanceTimersByTimeAsync(0);
    const second = FakeSocket.last;
    second.accept();
    const requestId = second.register.requestId;
    second.serve({
      type: 'registered',
      id: 'r',
      requestId,
      streams: { ...TIPS, 'user:u': { epoch: 'eu', seq: 3 } },
    });
    second.serve({ ...msg('user:u', 2), replayed: true });
    second.serve({
      type: 'resumed',
      id: 's',
      requestId,
      streams: { 'user:u': { epoch: 'eu', seq: 3, recovered: true } },
    });

    // Act: 4 comes live first, then 3
    second.serve(msg('user:u', 4));
    await jest.advanceTimersByTimeAsync(100);
    second.serve(msg('user:u', 3));

    // Assess
    expect(delivered(frames)).toEqual(['user:u:1', 'user:u:2', 'user:u:3', 'user:u:4']);
    await client.close();
  });

  it('fills a gap from the replay that the repair brings', async () => {
    // Prepare
    const { client, frames } = makeClient({ reorderWindowMs: 300 });
    const socket = await open(client);
    socket.serve(msg('user:u', 1));
    socket.serve(msg('user:u', 3));

    // Act: 2 missed this connection live; the repair's replay has it
    await jest.advanceTimersByTimeAsync(300);
    const requestId = socket.register.requestId;
    socket.serve({ type: 'registered', id: 'r', requestId, streams: TIPS });
    socket.serve({ ...msg('user:u', 2), replayed: true });
    socket.serve({ ...msg('user:u', 3), replayed: true });
    socket.serve({
      type: 'resumed',
      id: 's',
      requestId,
      streams: { 'user:u': { epoch: 'eu', seq: 3, recovered: true } },
    });

    // Assess
    expect(delivered(frames)).toEqual(['user:u:1', 'user:u:2', 'user:u:3']);
    await client.close();
  });

  it('takes a gap for a hole when the repair gets no answer in ten more windows', async () => {
    // Prepare
    const { client, frames } = makeClient({ reorderWindowMs: 300 });
    const socket = await open(client);
    socket.serve(msg('user:u', 1));
    socket.serve(msg('user:u', 3));

    // Act
    await jest.advanceTimersByTimeAsync(300 + 9 * 300);
    expect(delivered(frames)).toEqual(['user:u:1']);
    await jest.advanceTimersByTimeAsync(300);

    // Assess
    expect(delivered(frames)).toEqual(['user:u:1', 'user:u:3']);
    expect(socket.sentOf('register')).toHaveLength(2);
    await client.close();
  });

  it('keeps each stream in its own order', async () => {
    // Prepare
    const { client, frames } = makeClient();
    const socket = await open(client);

    // Act
    socket.serve(msg('all', 2));
    socket.serve(msg('user:u', 1));
    socket.serve(msg('all', 1));

    // Assess
    expect(delivered(frames)).toEqual(['user:u:1', 'all:1', 'all:2']);
    await client.close();
  });
});

describe('gaps while disconnected', () => {
  it('does not give up on a gap while no connection is open: the next resume fills it', async () => {
    // Prepare: 3 waits for 2 when the connection drops
    const { client, frames } = makeClient({
      reorderWindowMs: 300,
      random: () => 0.99,
      backoff: { baseMs: 20_000 },
    });
    const first = await open(client);
    first.serve(msg('user:u', 1));
    first.serve(msg('user:u', 3));
    first.drop();

    // Act: long offline, then the reconnect resumes from 1 and the replay has 2 and 3
    await jest.advanceTimersByTimeAsync(19_000);
    expect(delivered(frames)).toEqual(['user:u:1']);
    await jest.advanceTimersByTimeAsync(1_000);
    const second = FakeSocket.last;
    second.accept();
    expect(second.register.resume).toMatchObject({ 'user:u': { epoch: 'eu', seq: 1 } });
    const requestId = second.register.requestId;
    second.serve({ type: 'registered', id: 'r', requestId, streams: TIPS });
    second.serve({ ...msg('user:u', 2), replayed: true });
    second.serve({ ...msg('user:u', 3), replayed: true });
    second.serve({
      type: 'resumed',
      id: 's',
      requestId,
      streams: { 'user:u': { epoch: 'eu', seq: 3, recovered: true } },
    });

    // Assess
    expect(delivered(frames)).toEqual(['user:u:1', 'user:u:2', 'user:u:3']);
    await client.close();
  });
});

describe('resume on reconnect', () => {
  it('registers with the last contiguous seq of each stream and fills the gap from the replay', async () => {
    // Prepare: holds user:u 1..2 and 4 (3 is missing), all 1
    const { client, frames } = makeClient({ random: () => 0, groups: ['ops'] });
    const first = await open(client, { ...TIPS, 'group:ops': { epoch: 'eg', seq: 10 } });
    first.serve(msg('user:u', 1));
    first.serve(msg('user:u', 2));
    first.serve(msg('user:u', 4));
    first.serve(msg('all', 1));

    // Act: dropped, reconnected
    first.drop();
    await jest.advanceTimersByTimeAsync(0);
    const second = FakeSocket.last;
    second.accept();
    const states: string[] = [];
    client.on('state', (e) => states.push(e.state));

    // Assess: the resume map is the contiguous position, with the epochs
    expect(client.state).toBe('resuming');
    expect(second.register).toMatchObject({
      groups: ['ops'],
      resume: {
        'user:u': { epoch: 'eu', seq: 2 },
        all: { epoch: 'ea', seq: 1 },
        'group:ops': { epoch: 'eg', seq: 10 },
        'type:viewer': { epoch: 'et', seq: 0 },
      },
    });
    // The gap wait does not expire while the replay is on its way
    await jest.advanceTimersByTimeAsync(5000);
    expect(delivered(frames)).toEqual(['user:u:1', 'user:u:2', 'all:1']);
    const requestId = second.register.requestId;
    second.serve({
      type: 'registered',
      id: 'r2',
      requestId,
      streams: { ...TIPS, 'user:u': { epoch: 'eu', seq: 5 } },
    });
    second.serve({ ...msg('user:u', 3), replayed: true });
    second.serve({ ...msg('user:u', 4), replayed: true });
    second.serve({ ...msg('user:u', 5), replayed: true });
    second.serve({
      type: 'resumed',
      id: 'r3',
      requestId,
      streams: { 'user:u': { epoch: 'eu', seq: 5, recovered: true } },
    });
    expect(delivered(frames)).toEqual([
      'user:u:1',
      'user:u:2',
      'all:1',
      'user:u:3',
      'user:u:4',
      'user:u:5',
    ]);
    expect(states).toEqual(['open']);
    expect(client.streams['user:u']).toEqual({ epoch: 'eu', seq: 5, recovered: true });
    await client.close();
  });

  it('adopts the tip and says recovered:false when the server could not replay everything', async () => {
    // Prepare
    const { client, frames } = makeClient({ random: () => 0 });
    const first = await open(client);
    first.serve(msg('user:u', 1));
    first.drop();
    await jest.advanceTimersByTimeAsync(0);
    const second = FakeSocket.last;
    second.accept();
    const requestId = second.register.requestId;

    // Act: only 12..13 retained; the epoch is the same
    second.serve({
      type: 'registered',
      id: 'r2',
      requestId,
      streams: { ...TIPS, 'user:u': { epoch: 'eu', seq: 13 } },
    });
    second.serve({ ...msg('user:u', 12), replayed: true });
    second.serve({ ...msg('user:u', 13), replayed: true });
    second.serve({
      type: 'resumed',
      id: 'r3',
      requestId,
      streams: { 'user:u': { epoch: 'eu', seq: 13, recovered: false } },
    });

    // Assess: what was retained delivered in order, the loss reported
    expect(delivered(frames)).toEqual(['user:u:1', 'user:u:12', 'user:u:13']);
    expect(client.streams['user:u']).toEqual({ epoch: 'eu', seq: 13, recovered: false });
    second.serve(msg('user:u', 14));
    expect(delivered(frames).at(-1)).toBe('user:u:14');
    await client.close();
  });

  it('keeps joined groups across reconnects and forgets left ones', async () => {
    // Prepare
    const { client } = makeClient({ random: () => 0 });
    const first = await open(client);
    const joining = client.join('ops');
    const join = first.sentOf('join')[0];
    first.serve({
      type: 'joined',
      id: 'j',
      group: 'ops',
      requestId: join?.requestId,
      streams: { 'group:ops': { epoch: 'eg', seq: 3 } },
    });
    await joining;
    const leaving = client.join('tmp');
    const join2 = first.sentOf('join')[1];
    first.serve({
      type: 'joined',
      id: 'j2',
      group: 'tmp',
      requestId: join2?.requestId,
      streams: { 'group:tmp': { epoch: 'ex', seq: 0 } },
    });
    await leaving;
    const left = client.leave('tmp');
    first.serve({
      type: 'left',
      id: 'l',
      group: 'tmp',
      requestId: first.sentOf('leave')[0]?.requestId,
    });
    await left;

    // Act
    first.drop();
    await jest.advanceTimersByTimeAsync(0);
    FakeSocket.last.accept();

    // Assess
    const register = FakeSocket.last.register;
    expect(register.groups).toEqual(['ops']);
    expect(register.resume).toHaveProperty('group:ops', { epoch: 'eg', seq: 3 });
    expect(register.resume).not.toHaveProperty('group:tmp');
    await client.close();
  });

  it('registers afresh when the server refuses the resume', async () => {
    // Prepare
    const { client } = makeClient({ random: () => 0 });
    const first = await open(client);
    first.serve(msg('user:u', 1));
    first.drop();
    await jest.advanceTimersByTimeAsync(0);
    const second = FakeSocket.last;
    second.accept();
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.code));

    // Act
    second.serve({
      type: 'error',
      id: 'e',
      code: 'bad_request',
      message: 'resume: …',
      requestId: second.register.requestId,
    });

    // Assess: a second register without resume, and open on its reply
    expect(errors).toEqual(['bad_request']);
    expect(second.sentOf('register')).toHaveLength(2);
    expect(second.register).not.toHaveProperty('resume');
    second.registered(TIPS);
    expect(client.state).toBe('open');
    await client.close();
  });
});
