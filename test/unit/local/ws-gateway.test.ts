import WebSocket from 'ws';
import { selectRoute, startWsGateway, type WsGateway } from '../../../local/ws-gateway';
import { silentLog } from '../../../src/ports/log';
import {
  closePayload,
  encodeFrame,
  type Endpoint,
  endpointOf,
  RawWebSocket,
  rawExchange,
  upgradeRequest,
} from '../../support/raw-socket';
import { eventually, TestClient } from '../../support/ws-client';

/** What the fake handlers saw. */
interface Seen {
  authorized: string[];
  connected: string[];
  disconnected: { connectionId: string; code: unknown }[];
  connectEvents: Record<string, unknown>[];
}

const seen: Seen = { authorized: [], connected: [], disconnected: [], connectEvents: [] };
let gw: WsGateway;
let at: Endpoint;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Ev = {
  queryStringParameters?: Record<string, string> | null;
  requestContext: { connectionId: string; routeKey: string; disconnectStatusCode?: number };
  body?: string;
};

beforeAll(async () => {
  gw = await startWsGateway({ log: silentLog });
  at = endpointOf(gw.url);
  gw.setRoutes({
    authorizer: async (e) => {
      const token = (e as Ev).queryStringParameters?.token ?? '';
      seen.authorized.push(token);
      if (token === 'slow-auth') await pause(150);
      if (!token.startsWith('ok') && !token.startsWith('slow')) throw new Error('Unauthorized');
      return {
        principalId: 'u',
        policyDocument: { Statement: [{ Effect: 'Allow' }] },
        context: { userId: 'u' },
      };
    },
    routes: {
      $connect: async (e) => {
        const ev = e as Ev;
        seen.connected.push(ev.requestContext.connectionId);
        seen.connectEvents.push(e as Record<string, unknown>);
        if (ev.queryStringParameters?.token === 'slow-connect') await pause(150);
        return { statusCode: 200 };
      },
      $disconnect: async (e) => {
        const ev = e as Ev;
        seen.disconnected.push({
          connectionId: ev.requestContext.connectionId,
          code: ev.requestContext.disconnectStatusCode,
        });
        return { statusCode: 200 };
      },
      $default: async (e) => ({
        statusCode: 200,
        body: JSON.stringify({ type: 'default', routeKey: (e as Ev).requestContext.routeKey }),
      }),
      echo: async (e) => ({
        statusCode: 200,
        body: JSON.stringify({ type: 'echo', routeKey: (e as Ev).requestContext.routeKey }),
      }),
    },
  });
});
afterAll(async () => {
  await gw.close();
});

describe('selectRoute', () => {
  const routes = new Set(['echo', '$default']);
  it.each([
    ['{"action":"echo"}', 'echo'],
    ['{"action":"__proto__"}', '$default'],
    ['{"action":"constructor"}', '$default'],
    ['{"action":"toString"}', '$default'],
    ['{"action":"$disconnect"}', '$default'],
    ['{"__proto__":{"action":"echo"}}', '$default'],
    ['not json', '$default'],
    ['null', '$default'],
    ['{"action":7}', '$default'],
  ])('routes %s to %s', (body, route) => {
    expect(selectRoute(routes, body)).toBe(route);
  });
});

describe('route lookup', () => {
  it.each([
    '__proto__',
    'hasOwnProperty',
    'valueOf',
    'constructor',
    'toString',
    '$connect',
    '$disconnect',
  ])('sends action %s to $default and keeps the connection', async (action) => {
    // Prepare
    const c = await TestClient.connect(gw.url, 'ok');
    const id = (await gw.connectionIds()).at(-1) ?? '';
    // Act
    c.send({ action });
    const reply = await c.waitFor((f) => f.type === 'default');
    // Assess
    expect(reply.routeKey).toBe('$default');
    expect(seen.disconnected.map((d) => d.connectionId)).not.toContain(id);
    c.send({ action: 'echo' });
    expect(await c.waitFor((f) => f.type === 'echo')).toMatchObject({ routeKey: 'echo' });
    await c.close();
  });
});

describe('handshake', () => {
  it('serves an upgrade whose query has __proto__ and constructor keys', async () => {
    // Act
    const ws = new WebSocket(`${gw.url}/?token=ok-proto&constructor=1&__proto__=x&constructor=2`);
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    // Assess
    const event = seen.connectEvents.at(-1) ?? {};
    const multi = event.multiValueQueryStringParameters as Record<string, string[]>;
    expect(Object.hasOwn(multi, '__proto__')).toBe(true);
    expect(multi.constructor).toEqual(['1', '2']);
    expect((event.queryStringParameters as Record<string, string>).constructor).toBe('2');
    ws.close();
  });

  it.each([
    [
      'GET // (plain HTTP, unsigned)',
      403,
      'GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    ],
    ['an upgrade to // without a token', 401, () => upgradeRequest(at, '//')],
    ['an upgrade to /%E0%A4%A', 401, () => upgradeRequest(at, '/%E0%A4%A?token=%E0%A4%A')],
    [
      'an upgrade with a bad key',
      400,
      () => upgradeRequest(at, '/?token=ok', { 'Sec-WebSocket-Key': 'short' }),
    ],
    [
      'an upgrade of version 12',
      400,
      () => upgradeRequest(at, '/?token=ok', { 'Sec-WebSocket-Version': '12' }),
    ],
    ['a POST upgrade', 405, () => upgradeRequest(at, '/?token=ok').replace(/^GET/, 'POST')],
  ])('answers %s with %i without running $connect', async (_name, status, request) => {
    // Prepare
    const before = seen.connected.length;
    // Act
    const r = await rawExchange(at, [{ write: typeof request === 'string' ? request : request() }]);
    // Assess
    expect(r.status).toBe(status);
    expect(seen.connected.length).toBe(before);
  });

  it('serves an upgrade to // with a token', async () => {
    const c = await TestClient.connect(`${gw.url}/`, 'ok-slashes');
    c.send({ action: 'echo' });
    expect(await c.waitFor((f) => f.type === 'echo')).toBeDefined();
    await c.close();
  });

  it('drops a client that resets while the authorizer runs, without running $connect', async () => {
    // Prepare
    const before = seen.connected.length;
    // Act
    await rawExchange(at, [
      { write: upgradeRequest(at, '/?token=slow-auth') },
      { wait: 20 },
      { reset: true },
    ]);
    await pause(200);
    // Assess
    expect(seen.authorized).toContain('slow-auth');
    expect(seen.connected.length).toBe(before);
    expect((await TestClient.connect(gw.url, 'ok')).socket.readyState).toBe(WebSocket.OPEN);
  });

  it('runs $disconnect for a client that resets while $connect runs', async () => {
    // Prepare
    const before = seen.connected.length;
    // Act
    await rawExchange(at, [
      { write: upgradeRequest(at, '/?token=slow-connect') },
      { wait: 20 },
      { reset: true },
    ]);
    // Assess
    await eventually(() => seen.connected.length === before + 1);
    const id = seen.connected.at(-1);
    await eventually(() => seen.disconnected.some((d) => d.connectionId === id));
    expect(await gw.connectionIds()).not.toContain(id);
  });
});

describe('frames ws refuses', () => {
  const cases: [string, () => Buffer, number][] = [
    [
      'a message over 128 KB',
      () => encodeFrame({ opcode: 1, payload: 'a'.repeat(200 * 1024) }),
      1009,
    ],
    [
      'a fragmented message over 128 KB',
      () =>
        Buffer.concat([
          encodeFrame({ opcode: 1, fin: false, payload: 'a'.repeat(100 * 1024) }),
          encodeFrame({ opcode: 0, payload: 'a'.repeat(100 * 1024) }),
        ]),
      1009,
    ],
    ['invalid UTF-8', () => encodeFrame({ opcode: 1, payload: Buffer.from([0xc3, 0x28]) }), 1007],
    ['close code 999', () => encodeFrame({ opcode: 8, payload: closePayload(999) }), 1002],
    [
      'an unmasked frame',
      () => encodeFrame({ opcode: 1, payload: '{"action":"echo"}', mask: false }),
      1002,
    ],
    ['RSV1 set', () => encodeFrame({ opcode: 1, rsv: 4, payload: '{}' }), 1002],
    ['reserved opcode 3', () => encodeFrame({ opcode: 3, payload: 'x' }), 1002],
    [
      'a continuation with nothing to continue',
      () => encodeFrame({ opcode: 0, payload: 'x' }),
      1002,
    ],
    ['a fragmented ping', () => encodeFrame({ opcode: 9, fin: false, payload: 'x' }), 1002],
    ['a ping over 125 bytes', () => encodeFrame({ opcode: 9, payload: 'p'.repeat(126) }), 1002],
  ];

  it.each(cases)(
    'closes the connection on %s, runs $disconnect, and keeps serving others',
    async (_name, frame, code) => {
      // Prepare
      const bystander = await TestClient.connect(gw.url, 'ok-bystander');
      const raw = await RawWebSocket.open(at, 'ok-raw');
      const id = seen.connected.at(-1);
      // Act
      raw.write(frame());
      // Assess
      expect(await raw.serverClose()).toBe(code);
      await eventually(() => seen.disconnected.some((d) => d.connectionId === id));
      bystander.send({ action: 'echo' });
      expect(await bystander.waitFor((f) => f.type === 'echo')).toBeDefined();
      await bystander.close();
      await raw.destroy();
    },
  );
});

describe('connection limits (API Gateway: 10 idle minutes, 2 hours), shortened', () => {
  let limited: WsGateway;
  beforeAll(async () => {
    limited = await startWsGateway({ log: silentLog, idleTimeoutMs: 400, maxDurationMs: 1500 });
    limited.setRoutes({
      authorizer: async () => ({
        principalId: 'u',
        policyDocument: { Statement: [{ Effect: 'Allow' }] },
        context: { userId: 'u' },
      }),
      routes: {
        $connect: async () => ({ statusCode: 200 }),
        $disconnect: async () => ({ statusCode: 200 }),
        $default: async () => ({ statusCode: 200, body: '{"type":"default"}' }),
      },
    });
  });
  afterAll(async () => {
    await limited.close();
  });

  const closeOf = (ws: WebSocket) =>
    new Promise<{ code: number; afterMs: number }>((resolve) => {
      const t0 = Date.now();
      ws.once('close', (code) => resolve({ code, afterMs: Date.now() - t0 }));
    });

  it('closes a silent connection with 1001 once it is idle past the limit', async () => {
    const ws = new WebSocket(`${limited.url}/?token=ok`);
    await new Promise((r) => ws.once('open', r));
    const { code, afterMs } = await closeOf(ws);
    expect(code).toBe(1001);
    expect(afterMs).toBeGreaterThanOrEqual(350);
  });

  it('closes a busy connection with 1001 at its maximum age, not before', async () => {
    const ws = new WebSocket(`${limited.url}/?token=ok`);
    await new Promise((r) => ws.once('open', r));
    const busy = setInterval(() => ws.send('{"action":"x"}'), 100);
    try {
      const { code, afterMs } = await closeOf(ws);
      expect(code).toBe(1001);
      expect(afterMs).toBeGreaterThanOrEqual(1400);
    } finally {
      clearInterval(busy);
    }
  });
});
