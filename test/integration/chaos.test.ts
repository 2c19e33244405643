import { Agent, request } from 'node:http';
import type { LocalRuntime } from '../../local/runtime';
import type { Log } from '../../src/ports/log';
import {
  type CaseOutcome,
  type ChaosTarget,
  httpCase,
  plainRequest,
  socketCase,
} from '../support/chaos-cases';
import { caseSeed } from '../support/prng';
import {
  closePayload,
  encodeFrame,
  endpointOf,
  RawWebSocket,
  rawExchange,
  upgradeRequest,
} from '../support/raw-socket';
import { errorRecordingLog, startTestRuntime, tokenFor } from '../support/runtime';
import { sign } from '../support/sigv4';
import { eventually, TestClient } from '../support/ws-client';

/**
 * Chaos: everything a hostile or broken client can send, against one runtime (in this process),
 * which must keep serving everyone else. A crash of the old kind (an `error` event nobody
 * listens to, a rejected promise nobody catches) is an uncaught exception here, which fails the
 * running test; so does any `log.error` of the runtime, any 5xx, and any failed expectation.
 * Seeded: `CHAOS_SEED=<n> npx jest test/integration/chaos.test.ts` replays a run; a failure
 * names the case index, and case i always runs from `caseSeed(seed, i)` whatever ran before it.
 */
const SEED = Number(process.env.CHAOS_SEED ?? 0x5eed);
const SOCKET_BATCHES = 6;
const SOCKET_CASES_PER_BATCH = 350;
const HTTP_CASES = 1000;
const CONCURRENCY = 24;
/**
 * Bounds (not speeds), for a loaded 2-core CI machine: a batch starts no case after BATCH_BOUND_MS
 * and then fails saying so (each case has its own bounded waits, raw-socket's ANSWER_BOUND_MS),
 * which is well inside the test's own timeout. An idle machine runs a batch in 2-4 s.
 */
const BATCH_BOUND_MS = 90_000;
const BATCH_TIMEOUT_MS = BATCH_BOUND_MS + 60_000;
/** How long the watcher's pongs and push may lag behind a batch (its backlog under load). */
const WATCHER_BOUND_MS = 30_000;
jest.setTimeout(60_000);

let rt: LocalRuntime;
let watcher: TestClient;
let target: ChaosTarget;
const agent = new Agent({ keepAlive: true, maxSockets: 32 });
const errors: string[] = [];
const recordingLog: Log = errorRecordingLog(errors);

/**
 * Runs cases `from`..`to` at a bounded concurrency; a thrown case is a problem too. Throws when
 * BATCH_BOUND_MS passes before every case has started (naming how far it got).
 */
async function runCases(
  from: number,
  to: number,
  run: (seed: number, t: ChaosTarget) => Promise<CaseOutcome>,
): Promise<(CaseOutcome & { index: number })[]> {
  const outcomes: (CaseOutcome & { index: number })[] = [];
  const bound = Date.now() + BATCH_BOUND_MS;
  let next = from;
  const lane = async () => {
    for (let i = next++; i < to && Date.now() < bound; i = next++) {
      const outcome = await run(caseSeed(SEED, i), target).catch((e: unknown): CaseOutcome => ({
        kind: 'threw',
        statuses: [],
        problems: [e instanceof Error ? e.message : String(e)],
      }));
      outcomes.push({ ...outcome, index: i });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  if (outcomes.length < to - from) {
    throw new Error(
      `cases ${from}..${to - 1}: only ${outcomes.length} ran in ${BATCH_BOUND_MS} ms` +
        ` (seed ${SEED}); problems so far: ${JSON.stringify(failures(outcomes).slice(0, 20))}`,
    );
  }
  return outcomes;
}

/** The failures of a batch, each with the case index to replay it by. */
function failures(outcomes: readonly (CaseOutcome & { index: number })[]): string[] {
  return outcomes.flatMap((o) => [
    ...o.statuses.filter((s) => s >= 500).map((s) => `case ${o.index} (${o.kind}): HTTP ${s}`),
    ...o.problems.map((p) => `case ${o.index} (${o.kind}): ${p}`),
  ]);
}

/** The runtime still serves: /healthz answers 200 and a fresh client's ping gets its pong. */
async function assertHealthy(): Promise<void> {
  expect((await fetch(`${rt.httpUrl}/healthz`)).status).toBe(200);
  const fresh = await TestClient.connect(rt.wsUrl, await tokenFor({ sub: 'chaos-fresh' }));
  expect(await fresh.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
  await fresh.close();
  expect(errors).toEqual([]);
}

/**
 * While `work` runs, the watcher pings every 20 ms and gets one pushed message: afterwards
 * every ping has its pong, the push arrived, and the watcher is still connected.
 */
async function watched<T>(label: string, work: () => Promise<T>): Promise<T> {
  const sent: string[] = [];
  let n = 0;
  const pinger = setInterval(() => {
    const requestId = `${label}-ping-${n++}`;
    sent.push(requestId);
    watcher.send({ action: 'ping', requestId });
  }, 20);
  const pushed = plainRequest(
    target.http,
    'POST',
    '/users/chaos-watcher/messages',
    { authorization: `Bearer ${target.adminToken}`, 'content-type': 'application/json' },
    JSON.stringify({ data: { label } }),
    agent,
  );
  try {
    return await work();
  } finally {
    clearInterval(pinger);
    expect(await pushed).toBe(200);
    await watcher.waitFor(
      (f) => f.type === 'message' && JSON.stringify(f).includes(`"label":"${label}"`),
      WATCHER_BOUND_MS,
    );
    await eventually(() => {
      const got = new Set(watcher.ofType('pong').map((f) => f.requestId));
      return sent.every((id) => got.has(id));
    }, WATCHER_BOUND_MS);
    expect(watcher.socket.readyState).toBe(watcher.socket.OPEN);
  }
}

beforeAll(async () => {
  rt = await startTestRuntime({ log: recordingLog, workers: false, connectionSweepMs: 0 });
  const tokens = await Promise.all(
    Array.from({ length: 16 }, (_, i) => tokenFor({ sub: `chaos-${i}` })),
  );
  let t = 0;
  const ws = endpointOf(rt.wsUrl);
  target = {
    ws,
    http: endpointOf(rt.httpUrl),
    token: () => tokens[t++ % tokens.length] ?? '',
    adminToken: await tokenFor({ sub: 'chaos-ops', roles: ['admin'] }),
    signManagement: (method, path, body) =>
      sign({ method, host: `${ws.host}:${ws.port}`, path, body }, rt.gateway.credentials),
    agent,
  };
  watcher = await TestClient.connect(rt.wsUrl, await tokenFor({ sub: 'chaos-watcher' }));
  expect(await watcher.request({ action: 'register', clientType: 'viewer' })).toMatchObject({
    type: 'registered',
  });
});
afterEach(() => {
  errors.splice(0);
});
afterAll(async () => {
  await watcher?.close();
  agent.destroy();
  await rt?.stop();
});

describe('the inputs of issue 8, one by one', () => {
  const ws = () => target.ws;

  it.each([
    ['GET // on the gateway port', () => `GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
    ['an upgrade to //', () => upgradeRequest(ws(), '//')],
    [
      'GET /local/@connections/%E0%A4%A',
      () => `GET /local/@connections/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    ],
    ['an upgrade whose query is ?constructor=1', () => upgradeRequest(ws(), '/?constructor=1')],
  ])('answers %s with a 4xx and keeps serving', async (_name, request) => {
    const r = await rawExchange(ws(), [{ write: request() }]);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    await assertHealthy();
  });

  it('survives clients that reset while the authorizer or $connect is awaited', async () => {
    // Act
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        rawExchange(ws(), [
          { write: upgradeRequest(ws(), `/?token=${encodeURIComponent(target.token())}`) },
          { wait: i % 8 },
          { reset: true },
        ]),
      ),
    );
    // Assess: every $connect that ran got its $disconnect.
    await eventually(async () => {
      const left = await Promise.all(
        Array.from({ length: 16 }, (_, i) => rt.store.listUser(`chaos-${i}`)),
      );
      return left.every((l) => l.length === 0);
    });
    await assertHealthy();
  });

  it.each([
    ['a 200 KB message', 1009, encodeFrame({ opcode: 1, payload: 'a'.repeat(200 * 1024) })],
    ['invalid UTF-8', 1007, encodeFrame({ opcode: 1, payload: Buffer.from([0x7b, 0xc3, 0x28]) })],
    ['close code 999', 1002, encodeFrame({ opcode: 8, payload: closePayload(999) })],
    ['an unmasked frame', 1002, encodeFrame({ opcode: 1, payload: '{}', mask: false })],
    ['RSV1 set', 1002, encodeFrame({ opcode: 1, rsv: 4, payload: '{}' })],
  ])(
    'closes only the connection that sends %s with %i and runs its $disconnect',
    async (_n, code, frame) => {
      await watched(`one-${code}-${frame.length}`, async () => {
        // Prepare
        const token = await tokenFor({ sub: 'chaos-rude' });
        const raw = await RawWebSocket.open(ws(), token);
        await eventually(async () => (await rt.store.listUser('chaos-rude')).length === 1);
        // Act
        raw.write(frame);
        // Assess
        expect(await raw.serverClose()).toBe(code);
        await raw.destroy();
        await eventually(async () => (await rt.store.listUser('chaos-rude')).length === 0);
      });
      await assertHealthy();
    },
  );

  it.each([
    '__proto__',
    'hasOwnProperty',
    'valueOf',
    'constructor',
    'toString',
    '$disconnect',
    '$connect',
  ])('answers action %s with unknown_action and keeps the connection record', async (action) => {
    // Prepare
    const c = await TestClient.connect(rt.wsUrl, await tokenFor({ sub: 'chaos-proto' }));
    // Act
    const reply = await c.request({ action });
    // Assess
    expect(reply).toMatchObject({ type: 'error', code: 'unknown_action' });
    expect(await rt.store.listUser('chaos-proto')).toHaveLength(1);
    expect(await c.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
    await c.close();
    await eventually(async () => (await rt.store.listUser('chaos-proto')).length === 0);
  });

  it.each(['/tasks/%E0%A4%A', '/users/%/presence', '//'])(
    'answers GET %s on the HTTP API with 400 bad_request',
    async (path) => {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const headers = { authorization: `Bearer ${target.adminToken}` };
        const r = request({ ...target.http, path, headers }, (m) => {
          let body = '';
          m.on('data', (d: Buffer) => (body += d.toString()));
          m.on('end', () => resolve({ status: m.statusCode ?? 0, body }));
        });
        r.on('error', reject);
        r.end();
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toEqual({
        error: { code: 'bad_request', message: expect.any(String) },
      });
    },
  );
});

describe('the socket fuzzer', () => {
  for (let batch = 0; batch < SOCKET_BATCHES; batch++) {
    const from = batch * SOCKET_CASES_PER_BATCH;
    const to = from + SOCKET_CASES_PER_BATCH;
    it(
      `batch ${batch}: cases ${from}..${to - 1} (seed ${SEED}) crash nothing and answer no 5xx`,
      async () => {
        const outcomes = await watched(`batch-${batch}`, () => runCases(from, to, socketCase));
        expect(outcomes).toHaveLength(SOCKET_CASES_PER_BATCH);
        expect(failures(outcomes)).toEqual([]);
        await assertHealthy();
      },
      BATCH_TIMEOUT_MS,
    );
  }
});

describe('the HTTP fuzzer', () => {
  it(
    `${HTTP_CASES} requests (seed ${SEED}) never answer 5xx`,
    async () => {
      const base = SOCKET_BATCHES * SOCKET_CASES_PER_BATCH;
      const outcomes = await watched('http', () => runCases(base, base + HTTP_CASES, httpCase));
      expect(outcomes).toHaveLength(HTTP_CASES);
      expect(failures(outcomes)).toEqual([]);
      await assertHealthy();
    },
    BATCH_TIMEOUT_MS,
  );
});
