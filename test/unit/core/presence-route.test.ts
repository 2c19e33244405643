import { createApiHandler } from '../../../lambdas/http/api';
import { signToken } from '../../../src/auth/token';
import { PRESENCE_MAX_LIMIT, readPresence } from '../../../src/connections/presence';
import { silentLog } from '../../../src/ports/log';
import { Pusher } from '../../../src/push/pusher';
import { MemoryTaskStore } from '../../support/memory-task-store';
import {
  MemoryArtifactStore,
  MemoryFanoutQueue,
  MemoryMessageStore,
} from '../../support/memory-stores';
import { RecordingPoster } from '../../specs/answers';
import { ManualClock, MemoryConnectionStore } from './fakes';

const SECRET = 'presence-unit-secret-0123456789-0123456789';
const NOW = new Date('2026-12-01T00:00:00.000Z');

function setup() {
  const clock = new ManualClock(NOW);
  const store = new MemoryConnectionStore();
  store.seed({ connectionId: 'c1', userId: 'alice', clientType: 'viewer' });
  store.seed({ connectionId: 'c2', userId: 'alice', clientType: 'http' });
  store.seed({ connectionId: 'c3', userId: 'alice', clientType: 'viewer' });
  store.seed({ connectionId: 'c4', userId: 'bob' });
  const handler = createApiHandler({
    store,
    pusher: new Pusher({ poster: new RecordingPoster(), store, log: silentLog }),
    secret: async () => SECRET,
    log: silentLog,
    clock,
    submit: {
      tasks: new MemoryTaskStore(),
      queue: { enqueue: async () => undefined },
      clock,
      log: silentLog,
      args: { servers: ['local'], defaultServer: 'local' },
    },
    messages: new MemoryMessageStore(),
    fanout: new MemoryFanoutQueue(),
    artifacts: new MemoryArtifactStore(),
  });
  const get = async (query: Record<string, string>, token?: string) => {
    const result = await handler({
      version: '2.0',
      routeKey: 'GET /presence',
      rawPath: '/presence',
      rawQueryString: new URLSearchParams(query).toString(),
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
      isBase64Encoded: false,
    });
    return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
  };
  return { get, store };
}

describe('GET /presence', () => {
  it('answers an admin the online users with their connection counts and client types', async () => {
    const { get } = setup();
    const admin = await signToken({ sub: 'ops', roles: ['admin'] }, SECRET, NOW);
    const answer = await get({}, admin);
    expect(answer).toEqual({
      status: 200,
      body: {
        users: [
          { userId: 'alice', connections: 3, clientTypes: { http: 1, viewer: 2 } },
          { userId: 'bob', connections: 1, clientTypes: { unregistered: 1 } },
        ],
        connections: 4,
        truncated: false,
        limit: 200,
      },
    });
  });

  it('reads at most `limit` connections and says when it stopped there', async () => {
    const { get } = setup();
    const admin = await signToken({ sub: 'ops', roles: ['admin'] }, SECRET, NOW);
    const answer = await get({ limit: '2' }, admin);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ connections: 2, truncated: true, limit: 2 });
  });

  it.each(['0', String(PRESENCE_MAX_LIMIT + 1), 'ten', '-1'])(
    'refuses limit=%s with 400',
    async (limit) => {
      const { get } = setup();
      const admin = await signToken({ sub: 'ops', roles: ['admin'] }, SECRET, NOW);
      const answer = await get({ limit }, admin);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: 'bad_request' } });
    },
  );

  it('refuses a client token with 403', async () => {
    const { get } = setup();
    const client = await signToken({ sub: 'alice', roles: ['client'] }, SECRET, NOW);
    expect((await get({}, client)).status).toBe(403);
  });

  it('refuses a call without a token with 401', async () => {
    const { get } = setup();
    expect((await get({})).status).toBe(401);
  });
});

describe('readPresence', () => {
  it('reads the broadcast audience, then each record: no other read', async () => {
    const { store } = setup();
    const recipients = jest.spyOn(store, 'recipients');
    const getOne = jest.spyOn(store, 'get');
    const presence = await readPresence(store, 10);
    expect(recipients).toHaveBeenCalledWith({ kind: 'all' });
    expect(getOne).toHaveBeenCalledTimes(4);
    expect(presence.users.map((u) => u.userId)).toEqual(['alice', 'bob']);
  });

  it('skips a connection gone between the index read and its record', async () => {
    const { store } = setup();
    jest.spyOn(store, 'get').mockImplementation(async (id) =>
      id === 'c4'
        ? undefined
        : {
            connectionId: id,
            userId: 'alice',
            roles: ['client'],
            allowedGroups: [],
            groups: [],
            connectedAt: NOW.toISOString(),
            expiresAt: 0,
          },
    );
    const presence = await readPresence(store);
    expect(presence).toMatchObject({
      connections: 3,
      users: [{ userId: 'alice', connections: 3 }],
    });
  });
});
