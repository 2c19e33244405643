import type { LocalRuntime } from '../../local/runtime';
import { MAX_CLIENT_FRAME_BYTES } from '../../src/ws/client-frames';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { allConnectionItems } from '../support/table';
import { eventually, TestClient } from '../support/ws-client';

let rt: LocalRuntime;
const clients: TestClient[] = [];

const connect = async (
  sub: string,
  extra: { roles?: ('client' | 'worker' | 'admin')[]; groups?: string[] } = {},
) => {
  const c = await TestClient.connect(rt.wsUrl, await tokenFor({ sub, ...extra }));
  clients.push(c);
  return c;
};

const adminPost = async (path: string, body: unknown) => {
  const token = await tokenFor({ sub: 'ops', roles: ['admin'] });
  const res = await fetch(`${rt.httpUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  rt = await startTestRuntime();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await rt.stop();
});

describe('upgrade and authentication', () => {
  it.each([
    ['no token', undefined],
    ['a malformed token', 'not-a-jwt'],
    [
      'a token signed with another secret',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.c2lnbmF0dXJl',
    ],
  ])('refuses %s with 401 and writes nothing', async (_name, token) => {
    // Prepare
    const before = await allConnectionItems(rt.dynamoEndpoint);
    // Act
    const attempt = TestClient.connect(rt.wsUrl, token);
    // Assess
    await expect(attempt).rejects.toMatchObject({ status: 401 });
    expect(await allConnectionItems(rt.dynamoEndpoint)).toEqual(before);
  });

  it('refuses an expired token with 401', async () => {
    const expired = await tokenFor(
      { sub: 'late', ttlSeconds: 60 },
      new Date(Date.now() - 3600_000),
    );
    await expect(TestClient.connect(rt.wsUrl, expired)).rejects.toMatchObject({ status: 401 });
    expect(await rt.store.listUser('late')).toEqual([]);
  });

  it('records an authorized connection under its user', async () => {
    const c = await connect('alice');
    const reply = await c.request({ action: 'register', clientType: 'viewer' });
    expect(reply).toMatchObject({
      type: 'registered',
      userId: 'alice',
      clientType: 'viewer',
      groups: [],
    });
    expect(typeof reply.connectionId).toBe('string');
    expect(typeof reply.id).toBe('string');
    expect(Number.isNaN(Date.parse(String(reply.at)))).toBe(false);
    const presence = await rt.store.listUser('alice');
    expect(presence.map((p) => p.connectionId)).toEqual([reply.connectionId]);
  });
});

describe('routes', () => {
  it('answers ping with pong and a timestamp', async () => {
    const c = await connect('pinger');
    const pong = await c.request({ action: 'ping' });
    expect(pong).toMatchObject({ type: 'pong' });
    expect(typeof pong.ts).toBe('number');
  });

  it('joins and leaves allowed groups', async () => {
    const c = await connect('joiner', { groups: ['ops', 'dev'] });
    expect(
      await c.request({ action: 'register', clientType: 'viewer', groups: ['ops'] }),
    ).toMatchObject({
      type: 'registered',
      groups: ['ops'],
    });
    expect(await c.request({ action: 'join', group: 'dev' })).toMatchObject({
      type: 'joined',
      group: 'dev',
    });
    expect(await c.request({ action: 'leave', group: 'ops' })).toMatchObject({
      type: 'left',
      group: 'ops',
    });
    const again = await c.request({ action: 'register', clientType: 'viewer' });
    expect(again.groups).toEqual(['dev']);
  });

  const badFrames: [string, string | Record<string, unknown>, string][] = [
    ['not JSON', '{nope', 'bad_request'],
    ['a JSON array', '[1,2]', 'bad_request'],
    ['no action', { clientType: 'viewer' }, 'bad_request'],
    ['an unknown action', { action: 'dance' }, 'unknown_action'],
    ['a wrong-typed field', { action: 'join', group: 42 }, 'bad_request'],
    ['a missing field', { action: 'register' }, 'bad_request'],
    ['an unknown field', { action: 'ping', extra: true }, 'bad_request'],
    ['a group name with bad characters', { action: 'join', group: 'a#b' }, 'bad_request'],
    ['a group the token does not allow', { action: 'join', group: 'secret' }, 'forbidden'],
    [
      'a register with a forbidden group',
      { action: 'register', clientType: 'viewer', groups: ['ops', 'secret'] },
      'forbidden',
    ],
    [
      'an observer type without the worker role',
      { action: 'register', clientType: 'http' },
      'forbidden',
    ],
    [
      'a frame over the size cap',
      { action: 'ping', pad: 'x'.repeat(MAX_CLIENT_FRAME_BYTES) },
      'too_large',
    ],
  ];

  it.each(badFrames)(
    'answers %s with an error frame, keeps the socket open and writes nothing',
    async (_n, frame, code) => {
      // Prepare
      const c = await connect('mallory', { groups: ['ops'] });
      await c.request({ action: 'ping' });
      const before = await allConnectionItems(rt.dynamoEndpoint);
      // Act
      c.send(frame);
      const error = await c.waitFor((f) => f.type === 'error');
      // Assess
      expect(error).toMatchObject({ type: 'error', code });
      expect(typeof error.message).toBe('string');
      expect(String(error.message)).not.toMatch(/at .*\.ts/);
      expect(await allConnectionItems(rt.dynamoEndpoint)).toEqual(before);
      expect(await c.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
    },
  );

  it('echoes the requestId on error frames', async () => {
    const c = await connect('echo');
    c.send({ action: 'join', requestId: 'req-7' });
    expect(await c.waitFor((f) => f.type === 'error')).toMatchObject({
      code: 'bad_request',
      requestId: 'req-7',
    });
  });
});

describe('push', () => {
  it('reaches every connection of a user', async () => {
    const a1 = await connect('bob');
    const a2 = await connect('bob');
    const other = await connect('carol');
    await Promise.all([a1, a2, other].map((c) => c.request({ action: 'ping' })));
    const res = await adminPost('/users/bob/messages', { data: { hello: 'bob' } });
    expect(res).toEqual({ status: 200, body: { delivered: 2 } });
    for (const c of [a1, a2]) {
      expect(await c.waitFor((f) => f.type === 'message')).toMatchObject({
        data: { hello: 'bob' },
        to: { user: 'bob' },
      });
    }
    await other.request({ action: 'ping' });
    expect(other.ofType('message')).toEqual([]);
  });

  it('reaches group members only', async () => {
    const member = await connect('dan', { groups: ['ops'] });
    const outsider = await connect('erin', { groups: ['ops'] });
    await member.request({ action: 'join', group: 'ops' });
    await outsider.request({ action: 'ping' });
    const res = await adminPost('/groups/ops/messages', { data: 'deploy done' });
    expect(res.body).toEqual({ delivered: 1 });
    expect(await member.waitFor((f) => f.type === 'message')).toMatchObject({
      data: 'deploy done',
      to: { group: 'ops' },
    });
    await outsider.request({ action: 'ping' });
    expect(outsider.ofType('message')).toEqual([]);
  });

  it("deletes a disconnected connection's records", async () => {
    const c = await connect('frank', { groups: ['ops'] });
    const reg = await c.request({ action: 'register', clientType: 'viewer', groups: ['ops'] });
    const id = String(reg.connectionId);
    expect(
      (await allConnectionItems(rt.dynamoEndpoint)).filter((i) => i.connectionId === id),
    ).toHaveLength(2);
    await c.close();
    await eventually(async () =>
      (await allConnectionItems(rt.dynamoEndpoint)).every((i) => i.connectionId !== id),
    );
  });

  it('deletes a connection that closed without $disconnect when a push meets 410', async () => {
    const c = await connect('gina');
    const reg = await c.request({ action: 'register', clientType: 'viewer' });
    const id = String(reg.connectionId);
    await rt.gateway.dropWithoutDisconnect(id);
    expect(await rt.store.get(id)).toBeDefined();
    const res = await adminPost('/users/gina/messages', { data: 'anyone?' });
    expect(res.body).toEqual({ delivered: 0 });
    expect(await rt.store.get(id)).toBeUndefined();
    expect(
      (await allConnectionItems(rt.dynamoEndpoint)).filter((i) => i.connectionId === id),
    ).toEqual([]);
  });
});
