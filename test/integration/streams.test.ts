import type { LocalRuntime } from '../../local/runtime';
import { epochBelongsTo, newEpoch } from '../../src/streams/names';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { StreamClient } from '../support/stream-client';
import { type Frame, TestClient } from '../support/ws-client';

/**
 * Issue 11 through the local runtime with real `ws` clients: every pushed frame carries its
 * stream and seq, a client that drops and resumes misses nothing and holds nothing twice, and
 * every bad resume is refused with an error frame while the connection stays open.
 */

const sockets: TestClient[] = [];

const open = async (rt: LocalRuntime, sub: string, groups: string[] = []) => {
  const c = await TestClient.connect(rt.wsUrl, await tokenFor({ sub, groups }));
  sockets.push(c);
  return c;
};

const drop = (c: TestClient) =>
  new Promise<void>((resolve) => {
    c.socket.once('close', () => resolve());
    c.socket.terminate();
  });

async function adminPost(rt: LocalRuntime, path: string, body: unknown) {
  const token = await tokenFor({ sub: 'ops', roles: ['admin'] });
  const res = await fetch(`${rt.httpUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Runs the pushes `limit` at a time. */
async function pushAll(
  rt: LocalRuntime,
  pushes: readonly { path: string; n: number }[],
  limit = 8,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < pushes.length; i = next++) {
      const p = pushes[i];
      if (!p) return;
      const res = await adminPost(rt, p.path, { data: { n: p.n } });
      if (res.status !== 200)
        throw new Error(`${p.path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

const isResumed = (f: Frame) => f.type === 'resumed';

/** A new connection for the client: register with its resume map, wait for `resumed`. */
async function reconnect(
  rt: LocalRuntime,
  client: StreamClient,
  sub: string,
  groups: string[],
): Promise<{ socket: TestClient; resumed: Frame }> {
  const socket = await open(rt, sub, groups);
  client.attach(socket);
  socket.send({ action: 'register', clientType: 'viewer', groups, resume: client.resumeMap() });
  const resumed = await socket.waitFor(isResumed, 30_000);
  return { socket, resumed };
}

afterEach(async () => {
  await Promise.all(sockets.splice(0).map((c) => c.close()));
});

describe('streams: seq on every pushed frame, resume after a drop', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime({ workers: false, connectionSweepMs: 0 });
  });
  afterAll(async () => rt.stop());

  it('tells register the tips of every stream the connection receives', async () => {
    // Prepare
    const c = await open(rt, 'tips-user', ['tips-room']);

    // Act
    const registered = await c.request({
      action: 'register',
      clientType: 'viewer',
      groups: ['tips-room'],
    });

    // Assess: user, type, group and all, each with an epoch of its own stream
    const streams = registered.streams as Record<string, { epoch: string; seq: number }>;
    expect(Object.keys(streams).sort()).toEqual([
      'all',
      'group:tips-room',
      'type:viewer',
      'user:tips-user',
    ]);
    for (const [stream, tip] of Object.entries(streams)) {
      expect(epochBelongsTo(tip.epoch, stream)).toBe(true);
    }
    expect(streams['user:tips-user']?.seq).toBe(0);
    expect(streams['group:tips-room']?.seq).toBe(0);
  });

  it('numbers each stream 1, 2, 3 … and carries stream and seq on the pushed frames', async () => {
    // Prepare
    const c = await open(rt, 'seq-user');
    await c.request({ action: 'register', clientType: 'viewer' });

    // Act
    for (let n = 1; n <= 3; n++) await adminPost(rt, '/users/seq-user/messages', { data: { n } });
    await c.waitFor((f) => f.type === 'message' && f.seq === 3);

    // Assess
    expect(c.ofType('message').map((f) => [f.stream, f.seq, (f.data as { n: number }).n])).toEqual([
      ['user:seq-user', 1, 1],
      ['user:seq-user', 2, 2],
      ['user:seq-user', 3, 3],
    ]);
  });

  it('replays 500 messages missed across user, group and broadcast streams exactly once, in seq order', async () => {
    // Prepare: connected, registered, a few frames held
    const client = new StreamClient();
    const first = await open(rt, 'drop-user', ['drop-room']);
    client.attach(first);
    await first.request({ action: 'register', clientType: 'viewer', groups: ['drop-room'] });
    await pushAll(rt, [
      { path: '/users/drop-user/messages', n: 0 },
      { path: '/groups/drop-room/messages', n: 0 },
    ]);
    await first.waitFor((f) => f.stream === 'group:drop-room' && f.seq === 1);

    // Act: the client drops; 500 messages go out; it reconnects and resumes
    await drop(first);
    const pushes = [
      ...Array.from({ length: 200 }, (_, i) => ({ path: '/users/drop-user/messages', n: i + 1 })),
      ...Array.from({ length: 150 }, (_, i) => ({ path: '/groups/drop-room/messages', n: i + 1 })),
      ...Array.from({ length: 150 }, (_, i) => ({ path: '/broadcast', n: i + 1 })),
    ];
    const allBefore = client.held.get('all')?.seq ?? 0;
    await pushAll(rt, pushes);
    const { resumed } = await reconnect(rt, client, 'drop-user', ['drop-room']);

    // Assess: recovered, and every message exactly once, in seq order, per stream
    expect(resumed).toMatchObject({
      streams: {
        'user:drop-user': { recovered: true, seq: 201 },
        'group:drop-room': { recovered: true, seq: 151 },
        all: { recovered: true },
      },
    });
    const user = client.numbers('user:drop-user');
    expect(user).toEqual(expect.arrayContaining(Array.from({ length: 201 }, (_, i) => i)));
    expect(user).toHaveLength(201);
    expect(client.seqs('user:drop-user')).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
    const group = client.numbers('group:drop-room');
    expect(new Set(group).size).toBe(151);
    expect(client.seqs('group:drop-room')).toEqual(Array.from({ length: 151 }, (_, i) => i + 1));
    const all = client.seqs('all').filter((s) => s > allBefore);
    expect(all).toHaveLength(150);
    expect(all[149]).toBe(allBefore + 150);
    expect([...client.ids.values()].every((count) => count === 1)).toBe(true);
    // Replayed frames came marked, in seq order
    const replayed = client.socket?.frames.filter(
      (f) => f.replayed === true && f.stream === 'user:drop-user',
    );
    expect(replayed?.map((f) => f.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 2));
  });

  it('sends a task update to the requester and the observers as one append per stream', async () => {
    // Prepare
    const observer = await TestClient.connect(
      rt.wsUrl,
      await tokenFor({ sub: 'watch', roles: ['admin'] }),
    );
    sockets.push(observer);
    await observer.request({ action: 'register', clientType: 'http' });
    const requester = await open(rt, 'asker');
    await requester.request({ action: 'register', clientType: 'viewer' });

    // Act
    const res = await adminPost(rt, '/tasks', { taskType: 'logic', args: ['x'], userId: 'asker' });

    // Assess: the same frame id in both streams, each with its own seq
    expect(res.status).toBe(202);
    const mine = await requester.waitFor((f) => f.type === 'task.update');
    const theirs = await observer.waitFor((f) => f.type === 'task.update' && f.id === mine.id);
    expect(mine).toMatchObject({ stream: 'user:asker', seq: expect.any(Number) });
    expect(theirs).toMatchObject({ stream: 'type:http', seq: expect.any(Number) });
  });
});

describe('streams: bad resumes are refused, nothing replayed, the connection stays open', () => {
  let rt: LocalRuntime;
  let epochOfMine: string;
  let epochOfOther: string;
  beforeAll(async () => {
    rt = await startTestRuntime({ workers: false, connectionSweepMs: 0 });
    await adminPost(rt, '/users/mallory/messages', { data: { n: 1 } });
    await adminPost(rt, '/users/victim/messages', { data: { n: 1 } });
    const probe = await open(rt, 'mallory');
    const registered = await probe.request({ action: 'register', clientType: 'viewer' });
    const streams = registered.streams as Record<string, { epoch: string }>;
    epochOfMine = streams['user:mallory']?.epoch ?? '';
    const other = await open(rt, 'victim');
    const theirs = await other.request({ action: 'register', clientType: 'viewer' });
    epochOfOther =
      (theirs.streams as Record<string, { epoch: string }>)['user:victim']?.epoch ?? '';
  });
  afterAll(async () => rt.stop());

  const cases: [string, () => Record<string, unknown>, string, RegExp][] = [
    [
      "another user's stream",
      () => ({ 'user:victim': { epoch: epochOfOther, seq: 0 } }),
      'forbidden',
      /does not receive stream "user:victim"/,
    ],
    [
      'a group it is not in',
      () => ({ 'group:secret': { epoch: newEpoch('group:secret'), seq: 0 } }),
      'forbidden',
      /does not receive stream "group:secret"/,
    ],
    [
      'the observers stream as a viewer',
      () => ({ 'type:http': { epoch: newEpoch('type:http'), seq: 0 } }),
      'forbidden',
      /does not receive stream "type:http"/,
    ],
    [
      'an unknown stream name',
      () => ({ 'users:mallory': { epoch: epochOfMine, seq: 0 } }),
      'bad_request',
      /"users:mallory" is not a stream name/,
    ],
    [
      'a malformed stream name',
      () => ({ 'user:a#b': { epoch: epochOfMine, seq: 0 } }),
      'bad_request',
      /is not a stream name/,
    ],
    [
      'a negative seq',
      () => ({ 'user:mallory': { epoch: epochOfMine, seq: -1 } }),
      'bad_request',
      /seq/,
    ],
    [
      'a non-integer seq',
      () => ({ 'user:mallory': { epoch: epochOfMine, seq: 1.5 } }),
      'bad_request',
      /seq/,
    ],
    [
      'a seq ahead of the tip',
      () => ({ 'user:mallory': { epoch: epochOfMine, seq: 99 } }),
      'bad_request',
      /ahead of the stream's tip \(1\)/,
    ],
    [
      'the epoch of another stream',
      () => ({ 'user:mallory': { epoch: epochOfOther, seq: 1 } }),
      'bad_request',
      /not an epoch of that stream/,
    ],
    [
      'a resume map of 101 streams',
      () =>
        Object.fromEntries(
          Array.from({ length: 101 }, (_, i) => [
            `group:g${i}`,
            { epoch: newEpoch(`group:g${i}`), seq: 0 },
          ]),
        ),
      'bad_request',
      /at most 100 streams/,
    ],
  ];

  it.each(cases)('refuses a resume of %s', async (_what, resume, code, message) => {
    // Prepare
    const c = await open(rt, 'mallory');

    // Act
    const reply = await c.request({ action: 'register', clientType: 'viewer', resume: resume() });

    // Assess: an error frame, no replay, no resumed, and the connection still answers
    expect(reply).toMatchObject({ type: 'error', code });
    expect(String(reply.message)).toMatch(message);
    const pong = await c.request({ action: 'ping' });
    expect(pong.type).toBe('pong');
    expect(c.frames.filter((f) => f.replayed === true || f.type === 'resumed')).toEqual([]);
  });

  it('refuses a join resume of a group the token does not allow', async () => {
    // Prepare
    const c = await open(rt, 'mallory');

    // Act
    const reply = await c.request({
      action: 'join',
      group: 'secret',
      resume: { epoch: newEpoch('group:secret'), seq: 0 },
    });

    // Assess
    expect(reply).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(c.frames.filter((f) => f.type === 'resumed')).toEqual([]);
  });

  it('resumes a group stream on join for a member who left and came back', async () => {
    // Prepare: joined (told the tip), one frame held, left, two frames missed
    const c = await open(rt, 'member', ['club']);
    await c.request({ action: 'register', clientType: 'viewer' });
    const joined = await c.request({ action: 'join', group: 'club' });
    const tip = (joined.streams as Record<string, { epoch: string; seq: number }>)['group:club'];
    await adminPost(rt, '/groups/club/messages', { data: { n: 1 } });
    await c.waitFor((f) => f.stream === 'group:club' && f.seq === (tip?.seq ?? 0) + 1);
    await c.request({ action: 'leave', group: 'club' });
    await adminPost(rt, '/groups/club/messages', { data: { n: 2 } });
    await adminPost(rt, '/groups/club/messages', { data: { n: 3 } });

    // Act: joins again, saying what it holds
    c.send({
      action: 'join',
      group: 'club',
      resume: { epoch: tip?.epoch, seq: (tip?.seq ?? 0) + 1 },
    });
    const resumed = await c.waitFor(isResumed);

    // Assess: joined (with the tip), the two missed frames replayed in order, then resumed
    const types = c.frames.map((f) => (f.replayed ? `replayed ${String(f.seq)}` : f.type));
    const from = types.lastIndexOf('joined');
    const base = tip?.seq ?? 0;
    expect(types.slice(from)).toEqual([
      'joined',
      `replayed ${base + 2}`,
      `replayed ${base + 3}`,
      'resumed',
    ]);
    expect(resumed).toMatchObject({
      streams: { 'group:club': { recovered: true, seq: base + 3 } },
    });
  });
});

describe('streams: retention and reset', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime({
      workers: false,
      connectionSweepMs: 0,
      history: { historySize: 20, historySeconds: 2 },
    });
  });
  afterAll(async () => rt.stop());

  it('answers recovered:false past historySize, replaying what is retained', async () => {
    // Prepare: held seq 1, then 30 more pushed while away
    const client = new StreamClient();
    const first = await open(rt, 'far');
    client.attach(first);
    await first.request({ action: 'register', clientType: 'viewer' });
    await adminPost(rt, '/users/far/messages', { data: { n: 1 } });
    await first.waitFor((f) => f.seq === 1);
    await drop(first);
    await pushAll(
      rt,
      Array.from({ length: 30 }, (_, i) => ({ path: '/users/far/messages', n: i + 2 })),
    );

    // Act
    const { resumed } = await reconnect(rt, client, 'far', []);

    // Assess: the last 20 replayed (seq 12..31), and the client told it lost 2..11
    expect(resumed).toMatchObject({ streams: { 'user:far': { recovered: false, seq: 31 } } });
    expect(client.seqs('user:far')).toEqual([1, ...Array.from({ length: 20 }, (_, i) => i + 12)]);
  });

  it('gives a new epoch and recovered:false once a stream has lost its history', async () => {
    // Prepare: a frame held, then silence past historySeconds (the whole history expires)
    const client = new StreamClient();
    const first = await open(rt, 'quiet');
    client.attach(first);
    await first.request({ action: 'register', clientType: 'viewer' });
    await adminPost(rt, '/users/quiet/messages', { data: { n: 1 } });
    await first.waitFor((f) => f.seq === 1);
    const oldEpoch = client.held.get('user:quiet')?.epoch;
    await drop(first);
    await new Promise((r) => setTimeout(r, 3100));
    await adminPost(rt, '/users/quiet/messages', { data: { n: 2 } });

    // Act
    const { resumed } = await reconnect(rt, client, 'quiet', []);

    // Assess
    const entry = (resumed.streams as Record<string, { epoch: string; recovered: boolean }>)[
      'user:quiet'
    ];
    expect(entry?.recovered).toBe(false);
    expect(entry?.epoch).not.toBe(oldEpoch);
    expect(entry).toMatchObject({ seq: 1 });
  });
});
