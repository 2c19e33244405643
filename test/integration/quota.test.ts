import {
  ApiGatewayManagementApiClient,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { createServer } from 'node:http';
import WebSocket from 'ws';
import { LOCAL_REGION } from '../../local/lambda-types';
import { closeServer, listen } from '../../local/net';
import type { LocalRuntime } from '../../local/runtime';
import { postRateFromEnv, startWsGateway } from '../../local/ws-gateway';
import { managementListener } from '../../local/ws-management';
import type { Log } from '../../src/ports/log';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { eventually, type Frame, TestClient } from '../support/ws-client';

/** The quota of these tests' gateway, POSTs per second. */
const QUOTA = 400;

let rt: LocalRuntime;
let adminToken: string;
const clients: TestClient[] = [];
const log: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${rt.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function connectMany(n: number): Promise<TestClient[]> {
  const out: TestClient[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, async (_, j) =>
        TestClient.connect(rt.wsUrl, await tokenFor({ sub: `q-${i + j}` })),
      ),
    );
    clients.push(...batch);
    await Promise.all(batch.map((c) => c.request({ action: 'ping' })));
    out.push(...batch);
  }
  return out;
}

const copies = (c: TestClient, marker: string) =>
  c.frames.filter((f: Frame) => f.type === 'message' && JSON.stringify(f).includes(marker)).length;

beforeAll(async () => {
  rt = await startTestRuntime({
    workers: false,
    inlineFanoutLimit: 20,
    connectionSweepMs: 0,
    postRateLimit: QUOTA,
    log,
  });
  adminToken = await tokenFor({ sub: 'ops', roles: ['admin'] });
});
afterEach(async () => {
  rt.gateway.setThrottle(undefined);
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await rt.stop();
});

describe('the @connections quota (TASKWIRE_WS_POST_RPS)', () => {
  it('answers 429 LimitExceededException above the quota, as API Gateway does', async () => {
    // Prepare: the @connections endpoint alone, its clock stopped (so no token comes back),
    // a quota of 1,000/s with a burst of 3, and one open connection
    const sent: string[] = [];
    const socket = { readyState: WebSocket.OPEN, send: (d: Buffer) => void sent.push(String(d)) };
    const credentials = { accessKeyId: 'AKIDQUOTATEST', secretAccessKey: 'quota-test-secret' };
    const server = createServer(
      managementListener({
        stage: 'local',
        credentials,
        maxBodyBytes: 1024,
        log,
        connection: (id) =>
          id === 'c1'
            ? {
                socket: socket as unknown as WebSocket,
                connectedAt: 0,
                lastActiveAt: 0,
                identity: { sourceIp: '127.0.0.1', userAgent: undefined },
              }
            : undefined,
        throttled: () => false,
        postRateLimit: 1000,
        postBurst: 3,
        now: () => 0,
      }),
    );
    const port = await listen(server, '127.0.0.1');
    const sdk = new ApiGatewayManagementApiClient({
      endpoint: `http://127.0.0.1:${port}/local`,
      region: LOCAL_REGION,
      credentials,
      // The SDK's own retries would hide the 429s this test looks for.
      maxAttempts: 1,
    });
    try {
      // Act: five posts one after another
      const results: string[] = [];
      for (let i = 0; i < 5; i++) {
        try {
          await sdk.send(
            new PostToConnectionCommand({ ConnectionId: 'c1', Data: Buffer.from(`"${i}"`) }),
          );
          results.push('200');
        } catch (e) {
          results.push(e instanceof LimitExceededException ? '429' : String(e));
        }
      }

      // Assess: the burst goes through, the rest is refused and never reaches the socket
      expect(results).toEqual(['200', '200', '200', '429', '429']);
      expect(sent).toEqual(['"0"', '"1"', '"2"']);
    } finally {
      sdk.destroy();
      await closeServer(server);
    }
  });

  it('refuses a quota that is not a positive number', async () => {
    expect(() => postRateFromEnv('lots')).toThrow(/TASKWIRE_WS_POST_RPS must be a positive number/);
    expect(() => postRateFromEnv('-5')).toThrow(/TASKWIRE_WS_POST_RPS/);
    expect(postRateFromEnv('')).toBeUndefined();
    expect(postRateFromEnv('1000')).toBe(1000);
    await expect(startWsGateway({ log, postRateLimit: 0 })).rejects.toThrow(
      /postRateLimit must be a positive number/,
    );
  });

  it('a 429 storm still delivers to every live connection exactly once and requeues exhausted retries', async () => {
    // Prepare: 100 connections (over the inline limit of 20: the fan-out queue), the quota on,
    // and a storm: every other connection's first 6 posts answered 429, more than the pusher
    // retries (5), so those posts exhaust their retries
    const many = await connectMany(100);
    const attempts = new Map<string, number>();
    rt.gateway.setThrottle((id) => {
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      return id.charCodeAt(0) % 2 === 0 && n <= 6;
    });

    // Act
    const res = await call('POST', '/broadcast', { data: 'storm-marker' });

    // Assess: queued; every client has the frame once; the delivery counts them all delivered
    expect(res.status).toBe(202);
    const deliveryId = String(res.body.deliveryId);
    await eventually(() => many.every((c) => copies(c, 'storm-marker') >= 1), 30_000);
    await eventually(
      async () => (await call('GET', `/deliveries/${deliveryId}`)).body.state === 'done',
      15_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(many.filter((c) => copies(c, 'storm-marker') !== 1)).toHaveLength(0);
    expect((await call('GET', `/deliveries/${deliveryId}`)).body).toMatchObject({
      state: 'done',
      recipients: 100,
      delivered: 100,
      gone: 0,
      failed: 0,
    });
    // Some posts outlasted their retries and went back on the queue (a 7th attempt succeeded)
    expect([...attempts.values()].some((n) => n >= 7)).toBe(true);
  }, 60_000);
});
