import { backoffDelay } from '../src/index.js';
import { FakeSocket, flush } from './support/fake-socket.js';
import { makeClient, open, TIPS } from './support/harness.js';

beforeEach(() => {
  FakeSocket.reset();
  jest.useFakeTimers();
});
afterEach(() => jest.useRealTimers());

describe('backoffDelay', () => {
  it('is random() times min(cap, base * 2^attempt): full jitter under an exponential cap', () => {
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a, {}, top))).toEqual([
      499, 999, 1999, 3999, 7999, 15999, 29999, 29999,
    ]);
    expect(backoffDelay(3, { baseMs: 100, capMs: 500 }, () => 0.5)).toBe(250);
    expect(backoffDelay(0, {}, () => 0)).toBe(0);
    expect(backoffDelay(5000, { capMs: 1234 }, top)).toBe(1233);
  });

  it('spreads the delays over the whole range (no floor)', () => {
    const samples = Array.from({ length: 2000 }, () => backoffDelay(4));
    expect(Math.min(...samples)).toBeLessThan(400);
    expect(Math.max(...samples)).toBeGreaterThan(7600);
    expect(Math.max(...samples)).toBeLessThan(8000);
  });
});

describe('reconnect', () => {
  it('waits random() * min(cap, base * 2^attempt) before each attempt, and resets once open', async () => {
    // Prepare: the jitter source always answers 0.5
    const { client } = makeClient({ random: () => 0.5, backoff: { baseMs: 100, capMs: 1000 } });
    await open(client);

    // Act: the connection drops, then every attempt fails
    FakeSocket.last.drop();
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = FakeSocket.all.length;
      let waited = 0;
      while (FakeSocket.all.length === before) {
        await jest.advanceTimersByTimeAsync(1);
        waited += 1;
      }
      waits.push(waited);
      FakeSocket.last.fail();
    }

    // Assess: 50, 100, 200, 400, then capped at 500 (0.5 * 1000)
    expect(waits).toEqual([50, 100, 200, 400, 500, 500]);
    expect(client.state).toBe('connecting');

    // Once open again the next drop starts over at attempt 0
    await jest.advanceTimersByTimeAsync(500);
    FakeSocket.last.accept();
    FakeSocket.last.registered(TIPS, {
      'user:u': { epoch: 'eu', seq: 0, recovered: true },
    });
    expect(client.state).toBe('open');
    FakeSocket.last.drop();
    const before = FakeSocket.all.length;
    await jest.advanceTimersByTimeAsync(49);
    expect(FakeSocket.all.length).toBe(before);
    await jest.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all.length).toBe(before + 1);
    await client.close();
  });

  it('gives up after maxAttempts consecutive failures and closes with the last error', async () => {
    // Prepare
    const { client } = makeClient({ backoff: { baseMs: 10, maxAttempts: 3 } });
    const states: string[] = [];
    client.on('state', (e) => states.push(e.state));

    // Act
    const opened = client.connect();
    const outcome = opened.catch((e: Error) => e);
    for (let i = 0; i < 3; i++) {
      await jest.advanceTimersByTimeAsync(100);
      FakeSocket.last.refuse(401);
    }
    await jest.advanceTimersByTimeAsync(100);

    // Assess
    const error = await outcome;
    expect(FakeSocket.all).toHaveLength(3);
    expect(client.state).toBe('closed');
    expect(String(error)).toMatch(
      /gave up after 3 failed attempts: the upgrade was refused: HTTP 401/,
    );
    expect(client.lastError?.unauthorized).toBe(true);
    expect(states.at(-1)).toBe('closed');
    await flush();
  });
});
