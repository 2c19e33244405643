import { createServer } from 'node:net';
import type { LocalRuntime } from '../../local/runtime';
import { closePayload, encodeFrame, endpointOf, RawWebSocket } from '../support/raw-socket';
import { processAlive } from '../support/processes';
import { errorRecordingLog, startTestRuntime, tokenFor } from '../support/runtime';
import { eventually, TestClient } from '../support/ws-client';

/**
 * The WebSocket gateway in a process of its own (`gateway: 'process'`, what `npm start` runs):
 * the same gateway as in-process, its invocations and test hooks over IPC, its failures the
 * runtime's to report.
 */

const adminCall = async (rt: LocalRuntime, method: string, path: string, body?: unknown) => {
  const token = await tokenFor({ sub: 'ops', roles: ['admin'] });
  const res = await fetch(`${rt.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('the gateway in a process of its own', () => {
  let rt: LocalRuntime;
  const errors: string[] = [];
  const clients: TestClient[] = [];
  const connect = async (sub: string) => {
    const c = await TestClient.connect(rt.wsUrl, await tokenFor({ sub }));
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    rt = await startTestRuntime({
      gateway: 'process',
      inlineFanoutLimit: 5,
      log: errorRecordingLog(errors),
    });
  }, 60_000);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await rt.stop();
  });

  it('runs apart from the runtime', () => {
    expect(rt.gatewayPid).toEqual(expect.any(Number));
    expect(rt.gatewayPid).not.toBe(process.pid);
    expect(processAlive(rt.gatewayPid ?? 0)).toBe(true);
  });

  it('authorizes the upgrade in the runtime: 401 without a valid token, nothing stored', async () => {
    // Act
    const attempt = TestClient.connect(rt.wsUrl, 'not-a-jwt');
    // Assess
    await expect(attempt).rejects.toMatchObject({ status: 401 });
    expect(await rt.gateway.connectionIds()).toEqual([]);
  });

  it('routes messages, answers them, and pushes from the HTTP API to the socket', async () => {
    // Prepare
    const c = await connect('gp-alice');

    // Act
    const registered = await c.request({ action: 'register', clientType: 'viewer' });
    const pong = await c.request({ action: 'ping' });
    const unknown = await c.request({ action: 'no-such-action' });
    const pushed = await adminCall(rt, 'POST', '/users/gp-alice/messages', { data: 'hello' });

    // Assess
    expect(registered).toMatchObject({ type: 'registered', userId: 'gp-alice' });
    expect(pong).toMatchObject({ type: 'pong' });
    expect(unknown).toMatchObject({ type: 'error', code: 'unknown_action' });
    expect(pushed.status).toBe(200);
    await c.waitFor((f) => f.type === 'message' && (f.data as unknown) === 'hello');
    expect(await rt.gateway.connectionIds()).toContain(String(registered.connectionId));
  });

  it('fans a broadcast out through the queue to every socket exactly once', async () => {
    // Prepare: more than the inline limit of 5
    const many = await Promise.all(Array.from({ length: 12 }, (_, i) => connect(`gp-b${i}`)));

    // Act
    const res = await adminCall(rt, 'POST', '/broadcast', { data: 'to all' });

    // Assess
    expect(res.status).toBe(202);
    await eventually(() =>
      many.every((c) => c.frames.some((f) => f.type === 'message' && f.data === 'to all')),
    );
    await new Promise((r) => setTimeout(r, 200));
    for (const c of many) {
      expect(c.frames.filter((f) => f.type === 'message' && f.data === 'to all')).toHaveLength(1);
    }
  });

  it.each([
    ['a 200 KB message', 1009, encodeFrame({ opcode: 1, payload: 'a'.repeat(200 * 1024) })],
    ['invalid UTF-8', 1007, encodeFrame({ opcode: 1, payload: Buffer.from([0x7b, 0xc3, 0x28]) })],
    ['close code 999', 1002, encodeFrame({ opcode: 8, payload: closePayload(999) })],
  ])(
    'closes only the connection that sends %s (%i) and runs its $disconnect',
    async (_n, code, frame) => {
      // Prepare
      const bystander = await connect('gp-bystander');
      const raw = await RawWebSocket.open(endpointOf(rt.wsUrl), await tokenFor({ sub: 'gp-rude' }));
      await eventually(async () => (await rt.store.listUser('gp-rude')).length === 1);

      // Act
      raw.write(frame);

      // Assess
      expect(await raw.serverClose()).toBe(code);
      await raw.destroy();
      await eventually(async () => (await rt.store.listUser('gp-rude')).length === 0);
      expect(await bystander.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
      expect(processAlive(rt.gatewayPid ?? 0)).toBe(true);
    },
  );

  it('drops a socket without $disconnect on request: its record stays until a push finds it gone', async () => {
    // Prepare
    const c = await connect('gp-dropped');
    const { connectionId } = await c.request({ action: 'register', clientType: 'viewer' });
    const id = String(connectionId);

    // Act
    await rt.gateway.dropWithoutDisconnect(id);

    // Assess
    expect(await rt.gateway.connectionIds()).not.toContain(id);
    expect(await rt.store.get(id)).toBeDefined();
    await adminCall(rt, 'POST', '/users/gp-dropped/messages', { data: 'anyone?' });
    await eventually(async () => (await rt.store.get(id)) === undefined);
  });

  it('asks the runtime’s throttle hook per post: a 429 is retried and delivered once', async () => {
    // Prepare
    const c = await connect('gp-throttled');
    await c.request({ action: 'register', clientType: 'viewer' });
    const asked: string[] = [];
    rt.gateway.setThrottle((id) => {
      asked.push(id);
      return Promise.resolve(asked.length <= 2);
    });

    try {
      // Act
      const res = await adminCall(rt, 'POST', '/users/gp-throttled/messages', { data: 'late' });

      // Assess: two 429s, then the third post got through
      expect(res.status).toBe(200);
      await c.waitFor((f) => f.type === 'message' && f.data === 'late');
      expect(asked.length).toBeGreaterThanOrEqual(3);
      expect(c.frames.filter((f) => f.type === 'message' && f.data === 'late')).toHaveLength(1);
    } finally {
      rt.gateway.setThrottle(undefined);
    }
  });

  it('logs nothing at error level through all of the above', () => {
    expect(errors).toEqual([]);
  });
});

describe('the gateway process’s failures', () => {
  it('reports a killed gateway process once; the rest of the runtime still stops cleanly', async () => {
    // Prepare
    const lost: Error[] = [];
    const rt = await startTestRuntime({ gateway: 'process', onGatewayExit: (e) => lost.push(e) });
    const c = await TestClient.connect(rt.wsUrl, await tokenFor({ sub: 'gp-orphan' }));
    const closed = new Promise<number>((resolve) => c.socket.once('close', resolve));
    const pid = rt.gatewayPid ?? 0;

    try {
      // Act
      process.kill(pid, 'SIGKILL');

      // Assess: the client sees its connection go; the runtime is told why
      expect(await closed).toBe(1006);
      await eventually(() => lost.length === 1);
      expect(lost[0]?.message).toBe('the WebSocket gateway process ended (killed by SIGKILL)');
      await expect(rt.gateway.connectionIds()).rejects.toThrow('gateway process ended');
      expect((await fetch(`${rt.httpUrl}/healthz`)).status).toBe(200);
    } finally {
      await rt.stop();
    }
    expect(lost).toHaveLength(1);
  }, 60_000);

  it('ends the gateway process on stop()', async () => {
    // Prepare
    const rt = await startTestRuntime({ gateway: 'process' });
    const pid = rt.gatewayPid ?? 0;
    expect(processAlive(pid)).toBe(true);

    // Act
    await rt.stop();

    // Assess
    await eventually(() => !processAlive(pid));
  }, 60_000);

  it('fails the start with the port’s error when the WebSocket port is taken', async () => {
    // Prepare
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;

    try {
      // Act
      const start = startTestRuntime({ gateway: 'process', wsPort: port });

      // Assess
      await expect(start).rejects.toMatchObject({
        code: 'EADDRINUSE',
        message: expect.stringContaining('the WebSocket gateway did not start'),
      });
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  }, 60_000);

  it('refuses an unknown TASKWIRE_WS_GATEWAY with a clear error', async () => {
    // Prepare
    const before = process.env.TASKWIRE_WS_GATEWAY;
    process.env.TASKWIRE_WS_GATEWAY = 'separate';

    try {
      // Act / Assess
      await expect(startTestRuntime()).rejects.toThrow(
        'TASKWIRE_WS_GATEWAY must be "inline" or "process", not "separate"',
      );
    } finally {
      if (before === undefined) delete process.env.TASKWIRE_WS_GATEWAY;
      else process.env.TASKWIRE_WS_GATEWAY = before;
    }
  });
});
