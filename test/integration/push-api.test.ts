import type { LocalRuntime } from '../../local/runtime';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { eventually, type Frame, TestClient } from '../support/ws-client';

let rt: LocalRuntime;
let adminToken: string;
const clients: TestClient[] = [];

const call = async (
  method: string,
  path: string,
  body?: unknown,
  token: string | null = adminToken,
) => {
  const res = await fetch(`${rt.httpUrl}${path}`, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const connect = async (sub: string, groups: string[] = []) => {
  const c = await TestClient.connect(rt.wsUrl, await tokenFor({ sub, groups }));
  clients.push(c);
  return c;
};

/** Opens n clients, 100 at a time, and waits until each is recorded. */
async function connectMany(n: number, sub: (i: number) => string): Promise<TestClient[]> {
  const out: TestClient[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, j) => connect(sub(i + j))),
    );
    await Promise.all(batch.map((c) => c.request({ action: 'ping' })));
    out.push(...batch);
  }
  return out;
}

const messagesOf = (c: TestClient, marker: string) =>
  c.frames.filter((f: Frame) => f.type === 'message' && JSON.stringify(f).includes(marker));

beforeAll(async () => {
  rt = await startTestRuntime({ workers: false, inlineFanoutLimit: 300, connectionSweepMs: 0 });
  adminToken = await tokenFor({ sub: 'ops', roles: ['admin'] });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await rt.stop();
});

describe('push to users, groups and everyone', () => {
  it('gives a user with three connections one copy on each', async () => {
    const mine = await Promise.all([connect('tri'), connect('tri'), connect('tri')]);
    await Promise.all(mine.map((c) => c.request({ action: 'ping' })));
    const res = await call('POST', '/users/tri/messages', { data: { n: 1 }, from: 'billing' });
    expect(res).toEqual({ status: 200, body: { delivered: 3 } });
    for (const c of mine) {
      await c.waitFor((f) => f.type === 'message');
      expect(c.ofType('message')).toEqual([
        expect.objectContaining({ data: { n: 1 }, to: { user: 'tri' }, from: 'billing' }),
      ]);
    }
  });

  it('reaches group members only', async () => {
    const [a, b, outsider] = await Promise.all([
      connect('ga', ['g1']),
      connect('gb', ['g1']),
      connect('gc', ['g1']),
    ]);
    await a?.request({ action: 'join', group: 'g1' });
    await b?.request({ action: 'join', group: 'g1' });
    await outsider?.request({ action: 'ping' });
    expect((await call('POST', '/groups/g1/messages', { data: 'hi g1' })).body).toEqual({
      delivered: 2,
    });
    await a?.waitFor((f) => f.type === 'message');
    await b?.waitFor((f) => f.type === 'message');
    await outsider?.request({ action: 'ping' });
    expect(outsider?.ofType('message')).toEqual([]);
  });

  it('broadcasts to 1,000 connections through the fan-out queue, each exactly once', async () => {
    // Prepare: more connections than the inline limit (300), so the broadcast goes in batches
    const many = await connectMany(1000, (i) => `bulk-${i % 50}`);

    // Act
    const res = await call('POST', '/broadcast', { data: 'to everyone' });

    // Assess
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      status: 'queued',
      recipients: 1000,
      deliveryId: expect.stringMatching(/^d_/),
    });
    await eventually(() => many.every((c) => messagesOf(c, 'to everyone').length >= 1), 20_000);
    await eventually(
      async () =>
        (await call('GET', `/deliveries/${String(res.body.deliveryId)}`)).body.state === 'done',
      10_000,
    );
    const progress = await call('GET', `/deliveries/${String(res.body.deliveryId)}`);
    expect(progress.body).toMatchObject({
      state: 'done',
      recipients: 1000,
      delivered: 1000,
      gone: 0,
      failed: 0,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(many.filter((c) => messagesOf(c, 'to everyone').length !== 1)).toHaveLength(0);
  }, 60_000);

  it('delivers exactly once through 429s and deletes gone connections', async () => {
    // Prepare: 60 live connections of one group, 20 dropped without $disconnect, and a gateway
    // that answers 429 to every other first attempt
    const live = await connectMany(60, (i) => `t-${i}`);
    await Promise.all(live.map((c) => c.request({ action: 'register', clientType: 'viewer' })));
    const doomed = await connectMany(20, (i) => `d-${i}`);
    const doomedIds = await Promise.all(
      doomed.map(async (c) =>
        String((await c.request({ action: 'register', clientType: 'viewer' })).connectionId),
      ),
    );
    for (const id of doomedIds) await rt.gateway.dropWithoutDisconnect(id);
    const attempts = new Map<string, number>();
    rt.gateway.setThrottle((id) => {
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      return n === 1 && id.charCodeAt(0) % 2 === 0;
    });

    try {
      // Act: viewers are a clientType audience; broadcast reaches them all
      const res = await call('POST', '/broadcast', { data: 'through the storm' });

      // Assess
      const deliveryId = res.status === 202 ? String(res.body.deliveryId) : undefined;
      await eventually(
        () => live.every((c) => messagesOf(c, 'through the storm').length >= 1),
        20_000,
      );
      if (deliveryId) {
        await eventually(
          async () => (await call('GET', `/deliveries/${deliveryId}`)).body.state === 'done',
          10_000,
        );
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(live.filter((c) => messagesOf(c, 'through the storm').length !== 1)).toHaveLength(0);
      expect([...attempts.values()].some((n) => n > 1)).toBe(true);
      for (const id of doomedIds) expect(await rt.store.get(id)).toBeUndefined();
    } finally {
      rt.gateway.setThrottle(undefined);
    }
  }, 60_000);

  it('sends a 300 KB payload as a link whose content matches', async () => {
    const c = await connect('big');
    await c.request({ action: 'ping' });
    const data = { blob: 'x'.repeat(300 * 1024), n: 42 };
    const res = await call('POST', '/users/big/messages', { data });
    expect(res.body).toEqual({ delivered: 1 });
    const frame = await c.waitFor((f) => f.type === 'message');
    expect(frame.data).toBeUndefined();
    expect(frame).toMatchObject({
      dataUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/artifacts\//),
    });
    const fetched = await fetch(String(frame.dataUrl));
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toEqual(data);
    const tampered = await fetch(String(frame.dataUrl).replace(/sig=[0-9a-f]{4}/, 'sig=0000'));
    expect(tampered.status).toBe(403);
  });
});

describe('scheduled messages', () => {
  it('arrives within a second of sendAt; a cancelled one never does', async () => {
    // Prepare
    const c = await connect('sched');
    await c.request({ action: 'ping' });
    const sendAt = new Date(Date.now() + 2000);
    const cancelAt = new Date(Date.now() + 2500);

    // Act
    const kept = await call('POST', '/users/sched/messages', {
      data: 'on time',
      sendAt: sendAt.toISOString(),
    });
    const dropped = await call('POST', '/users/sched/messages', {
      data: 'never',
      sendAt: cancelAt.toISOString(),
    });
    const cancel = await call('DELETE', `/scheduled/${String(dropped.body.scheduledId)}`);

    // Assess
    expect(kept).toMatchObject({
      status: 202,
      body: { status: 'scheduled', scheduledId: expect.stringMatching(/^s_/) },
    });
    expect(cancel).toEqual({
      status: 200,
      body: { scheduledId: dropped.body.scheduledId, status: 'cancelled' },
    });
    const frame = await c.waitFor((f) => f.type === 'message', 5000);
    const lateness = Date.now() - sendAt.getTime();
    expect(frame.data).toBe('on time');
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(c.ofType('message')).toHaveLength(1);
    expect((await call('GET', `/scheduled/${String(kept.body.scheduledId)}`)).body).toMatchObject({
      state: 'sent',
      delivered: 1,
    });
    expect((await call('DELETE', `/scheduled/${String(kept.body.scheduledId)}`)).status).toBe(409);
  });
});

describe('presence, stats and clean-up', () => {
  it('lists exactly the live connections, and stops counting dropped ones after the sweep', async () => {
    const [a, b] = await Promise.all([connect('pres'), connect('pres')]);
    const ra = await a!.request({ action: 'register', clientType: 'viewer' });
    await b!.request({ action: 'ping' });
    const presence = await call('GET', '/users/pres/presence');
    expect(presence.status).toBe(200);
    const listed = presence.body.connections as {
      connectionId: string;
      clientType?: string;
      connectedAt: string;
    }[];
    expect(listed).toHaveLength(2);
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ connectionId: ra.connectionId, clientType: 'viewer' }),
      ]),
    );
    await b!.close();
    await eventually(
      async () =>
        ((await call('GET', '/users/pres/presence')).body.connections as unknown[]).length === 1,
    );

    const before = (await call('GET', '/stats')).body.connections as Record<string, number>;
    await rt.gateway.dropWithoutDisconnect(String(ra.connectionId));
    const report = await rt.sweepConnections();
    expect(report.removed).toBeGreaterThanOrEqual(1);
    const after = (await call('GET', '/stats')).body.connections as Record<string, number>;
    expect(after.viewer ?? 0).toBe((before.viewer ?? 0) - 1);
    expect((await call('GET', '/users/pres/presence')).body.connections).toEqual([]);
  });
});

describe('bad input', () => {
  it.each([
    ['no token', 'POST', '/broadcast', { data: 1 }, null, 401, 'unauthorized'],
    ['a non-admin token', 'POST', '/broadcast', { data: 1 }, 'client', 403, 'forbidden'],
    ['data missing', 'POST', '/users/u1/messages', { from: 'x' }, 'admin', 400, 'bad_request'],
    [
      'a body that is not JSON',
      'POST',
      '/groups/g/messages',
      '{not json',
      'admin',
      400,
      'bad_request',
    ],
    [
      'sendAt in the past',
      'POST',
      '/broadcast',
      { data: 1, sendAt: '2020-01-01T00:00:00Z' },
      'admin',
      400,
      'bad_request',
    ],
    [
      'sendAt unparseable',
      'POST',
      '/broadcast',
      { data: 1, sendAt: 'tomorrow' },
      'admin',
      400,
      'bad_request',
    ],
    [
      'a group name with bad characters',
      'POST',
      '/groups/a%23b/messages',
      { data: 1 },
      'admin',
      400,
      'bad_request',
    ],
    [
      'a user id with bad characters',
      'POST',
      '/users/a%20b/messages',
      { data: 1 },
      'admin',
      400,
      'bad_request',
    ],
    [
      'an unknown scheduled id',
      'DELETE',
      '/scheduled/s_00000000-0000-0000-0000-000000000000',
      undefined,
      'admin',
      404,
      'not_found',
    ],
    [
      'a malformed scheduled id',
      'DELETE',
      '/scheduled/nope',
      undefined,
      'admin',
      400,
      'bad_request',
    ],
  ] as const)(
    'answers %s with a clear error',
    async (_n, method, path, body, who, status, code) => {
      const token =
        who === null ? null : who === 'admin' ? adminToken : await tokenFor({ sub: 'c' });
      const res = await call(method, path, body, token);
      expect(res.status).toBe(status);
      expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
    },
  );

  it('answers data over the cap with 413', async () => {
    const res = await call('POST', '/broadcast', { data: 'x'.repeat(5 * 1024 * 1024) });
    expect(res).toMatchObject({ status: 413, body: { error: { code: 'too_large' } } });
  });

  it('answers an unknown user or group with 200 and delivered 0', async () => {
    expect((await call('POST', '/users/nobody/messages', { data: 1 })).body).toEqual({
      delivered: 0,
    });
    expect((await call('POST', '/groups/nogroup/messages', { data: 1 })).body).toEqual({
      delivered: 0,
    });
  });
});
