import { handleFanout, type FanoutPorts } from '../../../src/deliveries/fanout';
import type {
  BatchCounts,
  DeliveryRecord,
  FanoutMessage,
  FanoutQueue,
} from '../../../src/deliveries/records';
import { AdaptiveRate } from '../../../src/push/adaptive-rate';
import type { ConnectionPoster, PostAttempt } from '../../../src/push/connection-poster';
import type { FramePusher, PushReport } from '../../../src/push/frame-pusher';
import { frameFactory } from '../../../src/push/frames';
import { Pusher } from '../../../src/push/pusher';
import { ManualClock, MemoryConnectionStore, pagesOf, RecordingLog } from './fakes';

const clock = new ManualClock(new Date('2024-06-01T12:00:00.000Z'));
const FRAME = frameFactory(clock, () => 'frame-1').make('message', {
  data: 'hi',
  to: { all: true },
});
const THROTTLED: PostAttempt = { result: 'throttled', error: new Error('LimitExceeded') };

/** A rate under test on a hand-moved clock; sleeps advance the clock instead of waiting. */
function manualRate(options: { random?: () => number; catchUpMs?: number } = {}) {
  let now = 1000;
  const slept: number[] = [];
  const rate = new AdaptiveRate({
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    random: options.random ?? (() => 0.5),
    ...(options.catchUpMs !== undefined ? { catchUpMs: options.catchUpMs } : {}),
  });
  return { rate, slept, advance: (ms: number) => (now += ms) };
}

/**
 * A gateway with an account quota: a token bucket of `rate` posts/s (burst `burst`) on real
 * time; over it, 429. Counts what each connection received.
 */
function quotaPoster(rate: number, burst: number) {
  let tokens = burst;
  let at = performance.now();
  const received = new Map<string, number>();
  let throttled = 0;
  const poster: ConnectionPoster = {
    post: async (connectionId) => {
      await new Promise((r) => setImmediate(r));
      const t = performance.now();
      tokens = Math.min(burst, tokens + ((t - at) * rate) / 1000);
      at = t;
      if (tokens < 1) {
        throttled++;
        return THROTTLED;
      }
      tokens -= 1;
      received.set(connectionId, (received.get(connectionId) ?? 0) + 1);
      return { result: 'delivered' };
    },
    isGone: async () => false,
  };
  return { poster, received, throttledCount: () => throttled };
}

describe('AdaptiveRate: additive increase, multiplicative decrease', () => {
  it('is unlimited until the first 429 and never waits then', async () => {
    const { rate, slept } = manualRate();
    for (let i = 0; i < 100; i++) await rate.acquire();
    expect(rate.rate).toBe(Infinity);
    expect(slept).toEqual([]);
  });

  it('cuts to 85 % of the rate the gateway accepted, not of the rate sent', () => {
    const { rate, advance } = manualRate();
    // 100 posts accepted over 100 ms: 1,000 a second
    for (let i = 0; i < 100; i++) {
      rate.accepted();
      advance(1);
    }
    rate.throttle();
    expect(rate.rate).toBeCloseTo(850, -1);
  });

  it('cuts once for a burst of 429s answering posts sent before the cut', () => {
    const { rate, advance } = manualRate();
    for (let i = 0; i < 100; i++) {
      rate.accepted();
      advance(1);
    }
    rate.throttle();
    const afterCut = rate.rate;
    rate.throttle();
    rate.throttle();
    expect(rate.rate).toBe(afterCut);
    expect(rate.throttled).toBe(3);
  });

  it('grows by a tenth of the cut rate per second, then paces posts at the new rate', async () => {
    const { rate, advance, slept } = manualRate({ catchUpMs: 0 });
    for (let i = 0; i < 100; i++) {
      rate.accepted();
      advance(1);
    }
    rate.throttle();
    const cut = rate.rate;
    advance(1000);
    await rate.acquire();
    expect(rate.rate).toBeCloseTo(cut * 1.1, 0);
    // 10 posts at about 935/s are spread over about 10 ms
    for (let i = 0; i < 10; i++) await rate.acquire();
    const waited = slept.reduce((a, b) => a + b, 0);
    expect(waited).toBeGreaterThan(5);
    expect(waited).toBeLessThan(15);
  });

  it('catches up at most catchUpMs of the rate after falling behind, then paces again', async () => {
    // Prepare: cut to about 850/s, then the sender falls 1 s behind (a busy event loop)
    const { rate, advance, slept } = manualRate({ catchUpMs: 50 });
    for (let i = 0; i < 100; i++) {
      rate.accepted();
      advance(1);
    }
    rate.throttle();
    advance(1000);

    // Act: a burst of posts
    let immediate = 0;
    for (let i = 0; i < 100; i++) {
      const before = slept.length;
      await rate.acquire();
      if (slept.length === before) immediate++;
    }

    // Assess: about 50 ms worth (~47 posts at ~935/s) at once, not the second's worth it missed
    expect(immediate).toBeGreaterThanOrEqual(40);
    expect(immediate).toBeLessThanOrEqual(55);
  });

  it('makes posts that waited through a cut book their turn again at the new rate', async () => {
    // Prepare: a rate of about 850/s, then 20 turns booked (the last ones ~20 ms ahead)
    let now = 1000;
    const wakes: (() => void)[] = [];
    const rate = new AdaptiveRate({
      now: () => now,
      // Sleeps end when the test says so; the clock moves only by hand.
      sleep: () => new Promise<void>((resolve) => wakes.push(resolve)),
      random: () => 0.5,
    });
    for (let i = 0; i < 100; i++) {
      rate.accepted();
      now += 1;
    }
    rate.throttle();
    const waiting = Array.from({ length: 20 }, () => rate.acquire());
    const booked = wakes.length;

    // Act: another storm cuts the rate while they wait, then they wake
    now += 20;
    for (let i = 0; i < 100; i++) rate.accepted();
    rate.throttle();
    for (const wake of wakes.splice(0)) wake();
    await new Promise((r) => setImmediate(r));

    // Assess: the woken posts booked again instead of all going at once
    expect(booked).toBeGreaterThan(10);
    expect(wakes.length).toBeGreaterThan(0);
    for (;;) {
      const next = wakes.splice(0);
      if (next.length === 0) break;
      for (const wake of next) wake();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(waiting);
  });

  it('jitters the cut factor with the random draw', () => {
    const low = manualRate({ random: () => 0 });
    const high = manualRate({ random: () => 1 });
    for (const r of [low, high]) {
      for (let i = 0; i < 100; i++) {
        r.rate.accepted();
        r.advance(1);
      }
      r.rate.throttle();
    }
    expect(low.rate.rate).toBeLessThan(high.rate.rate);
    expect(low.rate.rate).toBeCloseTo(807.5, 1);
    expect(high.rate.rate).toBeCloseTo(892.5, 1);
  });

  it('starts low when a 429 comes before anything was accepted, and is unlimited again later', async () => {
    const { rate, advance } = manualRate();
    rate.throttle();
    expect(rate.rate).toBeCloseTo(170, 0);
    advance(60_000);
    await rate.acquire();
    expect(rate.rate).toBe(Infinity);
  });
});

describe('Pusher under the account quota (a 429 storm)', () => {
  it('delivers to every connection exactly once and hands back what stayed throttled', async () => {
    // Prepare: a quota of 2,000 posts/s (burst 20) and 600 connections at concurrency 50,
    // with so few retries that some posts exhaust them
    const gateway = quotaPoster(2000, 20);
    const ids = Array.from({ length: 600 }, (_, i) => `c${i}`);
    const log = new RecordingLog();
    const pusher = new Pusher({
      poster: gateway.poster,
      store: new MemoryConnectionStore(),
      log,
      concurrency: 50,
      maxRetries: 1,
      backoffMs: 1,
    });

    // Act: push; then push what was handed back, until nothing is
    const reports: PushReport[] = [];
    let rest: readonly string[] = ids;
    for (let round = 0; rest.length > 0 && round < 50; round++) {
      const report = await pusher.pushTo(pagesOf(rest), FRAME, 'all', { deferThrottled: true });
      reports.push(report);
      rest = report.deferred ?? [];
    }

    // Assess: every connection got the frame once; 429s happened but nothing failed
    expect(rest).toEqual([]);
    expect(ids.filter((id) => gateway.received.get(id) !== 1)).toEqual([]);
    expect(gateway.throttledCount()).toBeGreaterThan(0);
    expect(reports.reduce((n, r) => n + r.delivered, 0)).toBe(600);
    expect(reports.every((r) => r.failed === 0)).toBe(true);
    expect(pusher.rate.rate).toBeLessThan(Infinity);
  }, 20_000);

  it('counts exhausted 429s failed when the caller cannot defer them', async () => {
    const poster: ConnectionPoster = { post: async () => THROTTLED, isGone: async () => false };
    const pusher = new Pusher({
      poster,
      store: new MemoryConnectionStore(),
      log: new RecordingLog(),
      maxRetries: 1,
      sleep: async () => undefined,
    });
    const report = await pusher.pushTo(pagesOf(['a', 'b']), FRAME);
    expect(report).toEqual({ attempted: 2, delivered: 0, gone: 0, failed: 2, retried: 2 });
  });
});

describe('fan-out batches under the quota', () => {
  const delivery: DeliveryRecord = {
    id: 'd_1',
    kind: 'delivery',
    state: 'running',
    audience: { kind: 'all' },
    frame: JSON.stringify(FRAME),
    recipients: 5,
    batches: 1,
    batchesDone: 0,
    delivered: 0,
    gone: 0,
    failed: 0,
    createdAt: clock.now().toISOString(),
    updatedAt: clock.now().toISOString(),
    expiresAt: 0,
  };

  function ports(report: (ids: readonly string[]) => PushReport) {
    const sent: { message: FanoutMessage; delaySeconds?: number }[] = [];
    const added: BatchCounts[] = [];
    const pushed: { ids: string[]; deferThrottled?: boolean }[] = [];
    const pusher: Pick<FramePusher, 'pushTo'> = {
      pushTo: async (recipients, _frame, _label, options) => {
        const ids: string[] = [];
        for await (const page of recipients) ids.push(...page);
        pushed.push({ ids, ...(options?.deferThrottled ? { deferThrottled: true } : {}) });
        return report(ids);
      },
    };
    const fanout: FanoutQueue = {
      send: async (message, options) => void sent.push({ message, ...options }),
      sendAll: async () => undefined,
    };
    const p = {
      messages: {
        getDelivery: async () => delivery,
        addBatch: async (_id: string, counts: BatchCounts) => {
          added.push(counts);
          return undefined;
        },
      },
      pusher,
      fanout,
      log: new RecordingLog(),
    } as unknown as FanoutPorts;
    return { ports: p, sent, added, pushed };
  }

  it('puts the throttled rest back on the queue and counts the batch once, with the last send', async () => {
    // Prepare: the first send leaves c4 and c5 throttled, the second delivers them
    const first = ports((ids) => ({
      attempted: ids.length,
      delivered: 2,
      gone: 1,
      failed: 0,
      retried: 12,
      deferred: ['c4', 'c5'],
    }));
    const batch: FanoutMessage = {
      kind: 'batch',
      deliveryId: 'd_1',
      batch: 0,
      connectionIds: ['c1', 'c2', 'c3', 'c4', 'c5'],
    };

    // Act
    const outcome = await handleFanout(first.ports, batch);

    // Assess: the rest requeued with the counts so far; the delivery not yet counted
    expect(outcome).toBe('requeued');
    expect(first.pushed).toEqual([{ ids: batch.connectionIds, deferThrottled: true }]);
    expect(first.added).toEqual([]);
    expect(first.sent).toEqual([
      {
        message: {
          kind: 'batch',
          deliveryId: 'd_1',
          batch: 0,
          connectionIds: ['c4', 'c5'],
          retry: 1,
          carried: { delivered: 2, gone: 1, failed: 0 },
        },
        delaySeconds: 1,
      },
    ]);

    // Act: the requeued rest is delivered
    const second = ports((ids) => ({
      attempted: ids.length,
      delivered: ids.length,
      gone: 0,
      failed: 0,
      retried: 0,
      deferred: [],
    }));
    const requeued = first.sent[0]?.message;
    if (!requeued) throw new Error('nothing requeued');
    expect(await handleFanout(second.ports, requeued)).toBe('delivered');

    // Assess: one addBatch with the whole batch's counts, nothing requeued again
    expect(second.pushed).toEqual([{ ids: ['c4', 'c5'], deferThrottled: true }]);
    expect(second.added).toEqual([{ delivered: 4, gone: 1, failed: 0 }]);
    expect(second.sent).toEqual([]);
  });

  it('stops requeueing after the last allowed retry: what is still throttled counts failed', async () => {
    const last = ports((ids) => ({
      attempted: ids.length,
      delivered: 0,
      gone: 0,
      failed: ids.length,
      retried: 5,
    }));
    const outcome = await handleFanout(last.ports, {
      kind: 'batch',
      deliveryId: 'd_1',
      batch: 3,
      connectionIds: ['c9'],
      retry: 10,
      carried: { delivered: 7, gone: 0, failed: 0 },
    });
    expect(outcome).toBe('delivered');
    expect(last.pushed).toEqual([{ ids: ['c9'] }]);
    expect(last.added).toEqual([{ delivered: 7, gone: 0, failed: 1 }]);
    expect(last.sent).toEqual([]);
  });
});
