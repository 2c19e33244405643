import type { LocalRuntime } from '../../local/runtime';
import { startTestRuntime, tokenFor } from '../support/runtime';
import { StreamClient } from '../support/stream-client';
import { TestClient } from '../support/ws-client';

/**
 * Issue 11, "Connection lifetime", through the local runtime: the gateway closes a connection at
 * its cap (TASKWIRE_WS_MAX_AGE_S, here 20 s), the server warns it first (`session.expiring` at
 * max age minus a tenth), and a client that makes the next connection before breaking the old
 * one misses nothing while messages keep flowing, cap after cap.
 */

const MAX_AGE_S = 20;
const CAPS = 5;
const USER = 'lifer';

let rt: LocalRuntime;
const saved = process.env.TASKWIRE_WS_MAX_AGE_S;

beforeAll(async () => {
  // Through the setting a user would set, not the option.
  process.env.TASKWIRE_WS_MAX_AGE_S = String(MAX_AGE_S);
  rt = await startTestRuntime({ workers: false, connectionSweepMs: 0 });
});
afterAll(async () => {
  await rt.stop();
  if (saved === undefined) delete process.env.TASKWIRE_WS_MAX_AGE_S;
  else process.env.TASKWIRE_WS_MAX_AGE_S = saved;
});

const connect = async () => TestClient.connect(rt.wsUrl, await tokenFor({ sub: USER }));

it('warns at max age minus a tenth, then closes the connection at the cap with 1001', async () => {
  // Prepare
  const c = await connect();
  const openedAt = Date.now();
  const closed = new Promise<{ code: number; at: number }>((resolve) =>
    c.socket.once('close', (code) => resolve({ code, at: Date.now() })),
  );

  // Act
  const notice = await c.waitFor((f) => f.type === 'session.expiring', 25_000);
  const noticeAt = Date.now();
  const end = await closed;

  // Assess: at about 18 s, naming the close time; closed at about 20 s, "going away"
  expect((noticeAt - openedAt) / 1000).toBeGreaterThan(MAX_AGE_S * 0.9 - 1);
  expect((noticeAt - openedAt) / 1000).toBeLessThan(MAX_AGE_S * 0.9 + 1.5);
  expect(
    Math.abs(Date.parse(String(notice.closesAt)) - (openedAt + MAX_AGE_S * 1000)),
  ).toBeLessThan(1500);
  expect(notice).not.toHaveProperty('stream');
  expect(end.code).toBe(1001);
  expect((end.at - openedAt) / 1000).toBeGreaterThan(MAX_AGE_S - 0.5);
}, 40_000);

it(`misses nothing over ${CAPS} consecutive caps with make-before-break while messages flow`, async () => {
  // Prepare: a client that, told its connection expires, opens the next one, resumes on it and
  // only then closes the old one
  const client = new StreamClient();
  let caps = 0;
  const done = new Promise<void>((resolve, reject) => {
    const start = async () => {
      let current = await connect();
      client.attach(current);
      current.send({ action: 'register', clientType: 'viewer' });
      await current.waitFor((f) => f.type === 'registered');
      for (;;) {
        await current.waitFor((f) => f.type === 'session.expiring', 30_000);
        const next = await connect();
        client.attach(next);
        next.send({ action: 'register', clientType: 'viewer', resume: client.resumeMap() });
        const resumed = await next.waitFor((f) => f.type === 'resumed', 15_000);
        if (
          (resumed.streams as Record<string, { recovered: boolean }>)[`user:${USER}`]?.recovered !==
          true
        ) {
          throw new Error(`not recovered: ${JSON.stringify(resumed)}`);
        }
        await current.close();
        current = next;
        caps += 1;
        if (caps === CAPS) {
          await current.close();
          return;
        }
      }
    };
    start().then(resolve, reject);
  });
  const token = await tokenFor({ sub: 'ops', roles: ['admin'] });
  let sent = 0;
  let flowing = true;
  const flow = (async () => {
    while (flowing) {
      const res = await fetch(`${rt.httpUrl}/users/${USER}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ data: { n: ++sent } }),
      });
      await res.text();
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  // Act
  await done;
  flowing = false;
  await flow;

  // Assess: every message sent before the last close, exactly once, in seq order
  const stream = `user:${USER}`;
  const seqs = client.seqs(stream);
  const first = seqs[0] ?? 0;
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => first + i));
  const numbers = client.numbers(stream);
  expect(new Set(numbers).size).toBe(numbers.length);
  expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  expect(numbers.length).toBeGreaterThan(CAPS * 100);
  expect([...client.ids.values()].every((n) => n === 1)).toBe(true);
  expect(caps).toBe(CAPS);
}, 160_000);
