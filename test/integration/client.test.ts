import { DeleteConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import WebSocket from 'ws';
import {
  TaskwireClient,
  TaskwireTimeoutError,
  type MessageFrame,
  type RetryEvent,
  type StateEvent,
  type TaskwireClientOptions,
} from '../../client/src/index.js';
import type { LocalRuntime } from '../../local/runtime';
import { Rng } from '../support/prng';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { eventually } from '../support/ws-client';

/**
 * The client library (`@taskwire/client`, client/) against the local runtime with Node `ws`:
 * it survives the gateway dropping it at random moments while 1,000 messages flow, rolls over
 * the connection cap with make-before-break, refreshes a refused token, and waits for a
 * download → logic chain.
 */

const clients: TaskwireClient[] = [];

function newClient(options: Partial<TaskwireClientOptions> & { sub: string }): TaskwireClient {
  const { sub, ...rest } = options;
  const client = new TaskwireClient({
    url: '',
    token: () => tokenFor({ sub, groups: ['*'] }),
    WebSocket,
    backoff: { baseMs: 100, capMs: 1000 },
    ...rest,
  });
  clients.push(client);
  return client;
}

async function adminPost(rt: LocalRuntime, path: string, body: unknown): Promise<number> {
  const token = await tokenFor({ sub: 'ops', roles: ['admin'] });
  const res = await fetch(`${rt.httpUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

/** The messages a client delivered, per stream, as their `data.n`. */
function collect(client: TaskwireClient): Map<string, number[]> {
  const got = new Map<string, number[]>();
  client.on('message', (m: MessageFrame) => {
    const stream = String(m.stream);
    const list = got.get(stream) ?? [];
    list.push(Number((m.data as { n: number }).n));
    got.set(stream, list);
  });
  return got;
}

/** Follows the client's current connection id (from each `registered`). */
function connectionOf(client: TaskwireClient): () => string | undefined {
  let id: string | undefined;
  client.on('registered', (r) => {
    id = r.connectionId;
  });
  return () => id;
}

/** The server side ends the connection (the @connections DELETE, as API Gateway does it). */
const drop = (rt: LocalRuntime, connectionId: string) =>
  rt.management.send(new DeleteConnectionCommand({ ConnectionId: connectionId })).catch(() => {});

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('client library against the local runtime', () => {
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime({ connectionSweepMs: 0 });
  });
  afterAll(async () => rt.stop());

  it('delivers 1,000 messages exactly once, in order per stream, through 50 random drops', async () => {
    // Prepare
    const client = newClient({ sub: 'chaos-user', url: rt.wsUrl, groups: ['chaos-room'] });
    const got = collect(client);
    const current = connectionOf(client);
    let reconnects = 0;
    client.on('state', (e: StateEvent) => {
      if (e.state === 'connecting') reconnects += 1;
    });
    await client.connect();
    const rng = new Rng(20261203);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    // Act: one pusher per stream (each in order, the three at once, paced so that the flow
    // lasts about as long as the drops) and a dropper that ends the connection 50 times
    let flowing = 3;
    const pusher = async (path: string, count: number, gapMs: number) => {
      for (const n of range(count)) {
        const status = await adminPost(rt, path, { data: { n } });
        if (status !== 200) throw new Error(`${path} ${n}: ${status}`);
        await sleep(gapMs);
      }
      flowing -= 1;
    };
    let drops = 0;
    let dropsWhileFlowing = 0;
    const dropper = async () => {
      let last: string | undefined;
      while (drops < 50) {
        await sleep(rng.int(20, 150));
        // A connection of its own each time: the one the client registered since the last drop
        await eventually(() => client.state === 'open' && current() !== last, 20_000);
        last = current();
        await drop(rt, last ?? '');
        drops += 1;
        if (flowing > 0) dropsWhileFlowing += 1;
      }
    };
    await Promise.all([
      pusher('/users/chaos-user/messages', 400, 25),
      pusher('/groups/chaos-room/messages', 300, 35),
      pusher('/broadcast', 300, 35),
      dropper(),
    ]);
    const stream = (s: string) => got.get(s) ?? [];
    await eventually(
      () =>
        stream('user:chaos-user').length >= 400 &&
        stream('group:chaos-room').length >= 300 &&
        stream('all').length >= 300,
      30_000,
    ).catch(() => {});

    // Assess: every message once, in push order, per stream
    expect(drops).toBe(50);
    expect(dropsWhileFlowing).toBeGreaterThanOrEqual(25);
    expect(reconnects).toBeGreaterThanOrEqual(50);
    expect(stream('user:chaos-user')).toEqual(range(400));
    expect(stream('group:chaos-room')).toEqual(range(300));
    expect(stream('all')).toEqual(range(300));
    expect(client.streams['user:chaos-user']?.seq).toBe(400);
  }, 120_000);

  it('refreshes the token after a 401 on reconnect and carries on', async () => {
    // Prepare: the second token the provider hands out is expired
    let calls = 0;
    const client = newClient({
      sub: 'refresh-user',
      url: rt.wsUrl,
      token: async () => {
        calls += 1;
        const expired = new Date(Date.now() - 2 * 3600_000);
        return calls === 2
          ? tokenFor({ sub: 'refresh-user' }, expired)
          : tokenFor({ sub: 'refresh-user' });
      },
    });
    const got = collect(client);
    const current = connectionOf(client);
    const retries: RetryEvent[] = [];
    client.on('retry', (e) => retries.push(e));
    await client.connect();
    await adminPost(rt, '/users/refresh-user/messages', { data: { n: 1 } });
    await eventually(() => (got.get('user:refresh-user') ?? []).length === 1);

    // Act: dropped; the reconnect is refused (401), the next one has a fresh token
    const first = current();
    await drop(rt, first ?? '');
    await adminPost(rt, '/users/refresh-user/messages', { data: { n: 2 } });
    await eventually(() => client.state === 'open' && current() !== first);
    await adminPost(rt, '/users/refresh-user/messages', { data: { n: 3 } });
    await eventually(() => (got.get('user:refresh-user') ?? []).length === 3);

    // Assess
    expect(calls).toBe(3);
    expect(retries.some((r) => r.error?.details.status === 401)).toBe(true);
    expect(got.get('user:refresh-user')).toEqual([1, 2, 3]);
  });

  it('submit resolves with the logic task that the download chained, and times out clearly', async () => {
    // Prepare
    const client = newClient({ sub: 'chain-user', url: rt.wsUrl });
    const seen: string[] = [];
    client.on('task.update', (u) => seen.push(`${u.taskType}:${u.status}`));
    await client.connect();

    // Act
    const done = await client.submit('download', ['12345'], { timeoutMs: 60_000 });
    const late = await client
      .submit('download', ['12345'], { timeoutMs: 1 })
      .catch((e: unknown) => e);

    // Assess: the end of the chain, after the download succeeded
    expect(done).toMatchObject({ type: 'task.update', taskType: 'logic', status: 'succeeded' });
    expect(done.parentTaskId).toMatch(/^t_/);
    expect(seen).toContain('download:succeeded');
    expect(seen.indexOf('download:succeeded')).toBeLessThan(seen.indexOf('logic:succeeded'));
    expect(late).toBeInstanceOf(TaskwireTimeoutError);
    expect(String(late)).toMatch(/^TaskwireTimeoutError: task download .*did not end within 1 ms$/);
  }, 90_000);
});

describe('client library across the connection cap', () => {
  const MAX_AGE_S = 20;
  let rt: LocalRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime({
      workers: false,
      connectionSweepMs: 0,
      wsMaxAgeSeconds: MAX_AGE_S,
    });
  });
  afterAll(async () => rt.stop());

  it('rolls over the cap twice with make-before-break and misses nothing', async () => {
    // Prepare
    const client = newClient({ sub: 'cap-user', url: rt.wsUrl });
    const got = collect(client);
    const states: string[] = [];
    let expiring = 0;
    const connections = new Set<string>();
    client.on('registered', (r) => connections.add(r.connectionId));
    client.on('session.expiring', () => {
      expiring += 1;
    });
    await client.connect();
    client.on('state', (e) => states.push(e.state));

    // Act: a message every 100 ms until two rollovers are done
    let sent = 0;
    while (connections.size < 3) {
      const status = await adminPost(rt, '/users/cap-user/messages', { data: { n: ++sent } });
      expect(status).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; i < 5; i++) {
      await adminPost(rt, '/users/cap-user/messages', { data: { n: ++sent } });
    }
    await eventually(() => (got.get('user:cap-user') ?? []).length >= sent, 10_000).catch(() => {});

    // Assess: never left `open`, each message once in order
    expect(expiring).toBeGreaterThanOrEqual(2);
    expect(connections.size).toBeGreaterThanOrEqual(3);
    expect(states).toEqual([]);
    expect(got.get('user:cap-user')).toEqual(range(sent));
    expect(client.streams['user:cap-user']).toMatchObject({ recovered: true });
  }, 60_000);
});
