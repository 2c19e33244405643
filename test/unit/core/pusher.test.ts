import {
  type ApiGatewayManagementApiClient,
  ApiGatewayManagementApiServiceException,
  ForbiddenException,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { frameFactory } from '../../../src/push/frames';
import {
  ApiGatewayPusher,
  type ApiGatewayPusherOptions,
} from '../../../src/adapters/api-gateway/pusher';
import { ManualClock, MemoryConnectionStore, pagesOf, RecordingLog } from './fakes';

const frames = frameFactory(new ManualClock(new Date('2024-06-01T12:00:00.000Z')), () => 'frame-1');
const FRAME = frames.make('message', { data: { hello: 'world' }, to: { all: true } });

const gone = () => new GoneException({ message: 'gone', $metadata: {} });
const throttled = () => new LimitExceededException({ message: 'slow down', $metadata: {} });

/** What the fake gateway does for one post: resolve (delivered) or throw. */
type Behaviour = (connectionId: string, attempt: number) => Promise<void> | void;

/** A fake management API client whose `send` follows the behaviour and records every call. */
function fakeGateway(behaviour: Behaviour = () => undefined) {
  const attempts = new Map<string, number>();
  const send = jest.fn(async (command: PostToConnectionCommand): Promise<object> => {
    const id = String(command.input.ConnectionId);
    const attempt = attempts.get(id) ?? 0;
    attempts.set(id, attempt + 1);
    await behaviour(id, attempt);
    return {};
  });
  const client = { send } as unknown as ApiGatewayManagementApiClient;
  const postedTo = () => send.mock.calls.map(([c]) => String(c.input.ConnectionId));
  return { client, send, attempts, postedTo };
}

/** A pusher on the fake gateway with a recording sleep. */
function setup(
  options: {
    behaviour?: Behaviour;
    store?: MemoryConnectionStore;
  } & Partial<Omit<ApiGatewayPusherOptions, 'client' | 'store' | 'log'>> = {},
) {
  const { behaviour, store = new MemoryConnectionStore(), ...rest } = options;
  const gateway = fakeGateway(behaviour);
  const log = new RecordingLog();
  const delays: number[] = [];
  const sleep = jest.fn(async (ms: number) => {
    delays.push(ms);
  });
  const pusher = new ApiGatewayPusher({
    client: gateway.client,
    store,
    log,
    sleep,
    random: () => 0.5,
    ...rest,
  });
  return { pusher, gateway, store, log, delays, sleep };
}

const seedUsers = (store: MemoryConnectionStore, users: Record<string, string[]>) => {
  for (const [userId, ids] of Object.entries(users)) {
    for (const connectionId of ids) store.seed({ connectionId, userId });
  }
};

describe('Pusher: delivery', () => {
  it('posts the frame to every connection of the audience and counts them delivered', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    seedUsers(store, { bob: ['b1', 'b2', 'b3'], carol: ['c1'] });
    const { pusher, gateway, log } = setup({ store });

    // Act
    const report = await pusher.push({ kind: 'user', userId: 'bob' }, FRAME);

    // Assess
    expect(report).toEqual({ attempted: 3, delivered: 3, gone: 0, failed: 0, retried: 0 });
    expect(gateway.postedTo().sort()).toEqual(['b1', 'b2', 'b3']);
    for (const [command] of gateway.send.mock.calls) {
      expect(command).toBeInstanceOf(PostToConnectionCommand);
      expect(JSON.parse(Buffer.from(command.input.Data as Uint8Array).toString('utf8'))).toEqual(
        FRAME,
      );
    }
    expect(log.at('warn')).toEqual([]);
  });

  it('reports zeros and posts nothing for an empty audience', async () => {
    // Prepare
    const { pusher, gateway } = setup();

    // Act
    const report = await pusher.push({ kind: 'group', group: 'nobody' }, FRAME);

    // Assess
    expect(report).toEqual({ attempted: 0, delivered: 0, gone: 0, failed: 0, retried: 0 });
    expect(gateway.send).not.toHaveBeenCalled();
  });

  it('reaches every id across several pages', async () => {
    // Prepare
    const { pusher, gateway } = setup({ concurrency: 2 });

    // Act
    const report = await pusher.pushTo(pagesOf(['a', 'b'], [], ['c'], ['d', 'e', 'f']), FRAME);

    // Assess
    expect(report.delivered).toBe(6);
    expect(gateway.postedTo().sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });
});

describe('Pusher: 410 Gone', () => {
  it('asks the store to spare a connection that may still be in its $connect', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    seedUsers(store, { bob: ['b1'] });
    const { pusher } = setup({ store, behaviour: () => Promise.reject(gone()) });

    // Act
    await pusher.push({ kind: 'user', userId: 'bob' }, FRAME);

    // Assess: API Gateway answers 410 during $connect, so young records are not deleted
    expect(store.removeOptions).toEqual([{ unlessConnectedWithinSeconds: 30 }]);
  });

  it('deletes the gone connection, counts it and still delivers to the rest', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    seedUsers(store, { bob: ['b1', 'b2', 'b3'] });
    const { pusher, gateway, log } = setup({
      store,
      behaviour: (id) => {
        if (id === 'b2') throw gone();
      },
    });

    // Act
    const report = await pusher.push({ kind: 'user', userId: 'bob' }, FRAME);

    // Assess
    expect(report).toEqual({ attempted: 3, delivered: 2, gone: 1, failed: 0, retried: 0 });
    expect(store.removed).toEqual(['b2']);
    expect(await store.get('b2')).toBeUndefined();
    expect(await store.get('b1')).toBeDefined();
    expect(gateway.attempts.get('b2')).toBe(1);
    expect(log.at('warn')).toEqual([
      expect.objectContaining({
        message: 'push incomplete',
        attributes: [expect.objectContaining({ audience: 'user:bob', gone: 1, delivered: 2 })],
      }),
    ]);
  });

  it('does not fail the fan-out when deleting the gone connection fails', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    seedUsers(store, { bob: ['b1', 'b2', 'b3'] });
    jest.spyOn(store, 'remove').mockRejectedValue(new Error('dynamo is down'));
    const { pusher, log } = setup({
      store,
      behaviour: (id) => {
        if (id === 'b1') throw gone();
      },
    });

    // Act
    const report = await pusher.push({ kind: 'user', userId: 'bob' }, FRAME);

    // Assess
    expect(report).toEqual({ attempted: 3, delivered: 2, gone: 1, failed: 0, retried: 0 });
    expect(store.remove).toHaveBeenCalledWith('b1', { unlessConnectedWithinSeconds: 30 });
    expect(log.at('error')).toEqual([
      expect.objectContaining({
        message: 'could not delete gone connection',
        attributes: [{ connectionId: 'b1', error: 'dynamo is down' }],
      }),
    ]);
  });

  it('handles a connection that goes away while being retried', async () => {
    // Prepare
    const { pusher, store } = setup({
      behaviour: (_id, attempt) => {
        throw attempt === 0 ? throttled() : gone();
      },
    });

    // Act
    const outcome = await pusher.post('x1', Buffer.from('{}'));

    // Assess
    expect(outcome).toEqual({ outcome: 'gone', retries: 1 });
    expect(store.removed).toEqual(['x1']);
  });
});

describe('Pusher: 429 LimitExceeded', () => {
  it('retries a throttled post and counts the retries', async () => {
    // Prepare
    const { pusher, gateway, delays } = setup({
      backoffMs: 100,
      behaviour: (_id, attempt) => {
        if (attempt < 2) throw throttled();
      },
    });

    // Act
    const report = await pusher.pushTo(pagesOf(['a']), FRAME);

    // Assess
    expect(report).toEqual({ attempted: 1, delivered: 1, gone: 0, failed: 0, retried: 2 });
    expect(gateway.attempts.get('a')).toBe(3);
    expect(delays).toEqual([50, 100]);
  });

  it('doubles the backoff ceiling on every retry', async () => {
    // Prepare
    const { pusher, delays } = setup({
      backoffMs: 40,
      maxRetries: 4,
      random: () => 0.75,
      behaviour: () => {
        throw throttled();
      },
    });

    // Act
    await pusher.post('a', Buffer.from('{}'));

    // Assess
    expect(delays).toEqual([30, 60, 120, 240]);
    for (let i = 1; i < delays.length; i++) {
      expect(delays[i]).toBeGreaterThan(delays[i - 1] ?? Infinity);
    }
  });

  it('jitters every delay with a fresh random draw under the doubling ceiling', async () => {
    // Prepare
    const draws = [0.9, 0.1, 0.5, 0.3];
    const random = jest.fn(() => draws.shift() ?? 0);
    const backoffMs = 40;
    const { pusher, delays } = setup({
      backoffMs,
      maxRetries: 4,
      random,
      behaviour: () => {
        throw throttled();
      },
    });

    // Act
    await pusher.post('a', Buffer.from('{}'));

    // Assess
    expect(random).toHaveBeenCalledTimes(4);
    expect(delays).toEqual([36, 8, 80, 96]);
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(backoffMs * 2 ** i);
    });
  });

  it('gives up after maxRetries and counts the post failed', async () => {
    // Prepare
    const { pusher, gateway, sleep, log } = setup({
      maxRetries: 3,
      behaviour: (id) => {
        if (id === 'busy') throw throttled();
      },
    });

    // Act
    const report = await pusher.pushTo(pagesOf(['ok1', 'busy', 'ok2']), FRAME);

    // Assess
    expect(report).toEqual({ attempted: 3, delivered: 2, gone: 0, failed: 1, retried: 3 });
    expect(gateway.attempts.get('busy')).toBe(4);
    expect(sleep).toHaveBeenCalledTimes(3);
    expect(log.at('error')).toEqual([
      expect.objectContaining({
        message: 'post to connection failed',
        attributes: [
          expect.objectContaining({
            connectionId: 'busy',
            error: 'LimitExceededException',
            attempts: 4,
          }),
        ],
      }),
    ]);
  });

  it('retries five times by default, starting at 50 ms', async () => {
    // Prepare
    const { pusher, gateway, delays } = setup({
      behaviour: () => {
        throw throttled();
      },
    });

    // Act
    const outcome = await pusher.post('a', Buffer.from('{}'));

    // Assess
    expect(outcome).toEqual({ outcome: 'failed', retries: 5 });
    expect(gateway.attempts.get('a')).toBe(6);
    expect(delays).toEqual([25, 50, 100, 200, 400]);
  });

  it('treats any error with HTTP status 429 as a throttle', async () => {
    // Prepare
    const { pusher, gateway } = setup({
      behaviour: (_id, attempt) => {
        if (attempt === 0) {
          throw new ApiGatewayManagementApiServiceException({
            name: 'TooManyRequestsException',
            $fault: 'client',
            $metadata: { httpStatusCode: 429 },
          });
        }
      },
    });

    // Act
    const outcome = await pusher.post('a', Buffer.from('{}'));

    // Assess
    expect(outcome).toEqual({ outcome: 'delivered', retries: 1 });
    expect(gateway.attempts.get('a')).toBe(2);
  });

  it('does not retry with maxRetries 0', async () => {
    // Prepare
    const { pusher, sleep } = setup({
      maxRetries: 0,
      behaviour: () => {
        throw throttled();
      },
    });

    // Act
    const outcome = await pusher.post('a', Buffer.from('{}'));

    // Assess
    expect(outcome).toEqual({ outcome: 'failed', retries: 0 });
    expect(sleep).not.toHaveBeenCalled();
  });
});

const serverError = (status: number) =>
  new ApiGatewayManagementApiServiceException({
    name: 'InternalServerError',
    $fault: 'server',
    $metadata: { httpStatusCode: status },
  });

describe('Pusher: other errors', () => {
  it.each<[string, () => unknown, string]>([
    [
      'a 403 ForbiddenException',
      () => new ForbiddenException({ message: 'no', $metadata: { httpStatusCode: 403 } }),
      'ForbiddenException',
    ],
    [
      'a 400 BadRequestException',
      () =>
        new ApiGatewayManagementApiServiceException({
          name: 'BadRequestException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
      'BadRequestException',
    ],
  ])('counts %s as failed without retrying and carries on', async (_what, makeError, name) => {
    // Prepare
    const { pusher, gateway, sleep, store, log } = setup({
      behaviour: (id) => {
        if (id === 'bad') throw makeError();
      },
    });

    // Act
    const report = await pusher.pushTo(pagesOf(['a', 'bad', 'b']), FRAME, 'test');

    // Assess
    expect(report).toEqual({ attempted: 3, delivered: 2, gone: 0, failed: 1, retried: 0 });
    expect(gateway.attempts.get('bad')).toBe(1);
    expect(sleep).not.toHaveBeenCalled();
    expect(store.removed).toEqual([]);
    expect(log.at('error')[0]?.attributes[0]).toMatchObject({
      connectionId: 'bad',
      error: name,
      attempts: 1,
    });
    expect(log.at('warn')[0]?.attributes[0]).toMatchObject({ audience: 'test', failed: 1 });
  });

  it.each<[string, () => unknown]>([
    ['a 500 service error', () => serverError(500)],
    ['a 503 service error', () => serverError(503)],
    ['a socket reset (no HTTP answer)', () => new Error('socket hang up')],
  ])(
    'retries %s with backoff and delivers when the next attempt gets through',
    async (_w, make) => {
      // Prepare
      const { pusher, gateway, delays } = setup({
        behaviour: (id, attempt) => {
          if (id === 'flaky' && attempt < 2) throw make();
        },
      });

      // Act
      const report = await pusher.pushTo(pagesOf(['a', 'flaky']), FRAME, 'test');

      // Assess
      expect(report).toEqual({ attempted: 2, delivered: 2, gone: 0, failed: 0, retried: 2 });
      expect(gateway.attempts.get('flaky')).toBe(3);
      expect(delays).toEqual([25, 50]);
    },
  );

  it('counts a connection failed when the gateway stays unavailable past maxRetries', async () => {
    // Prepare
    const { pusher, gateway, log } = setup({
      maxRetries: 2,
      behaviour: (id) => {
        if (id === 'down') throw serverError(502);
      },
    });

    // Act
    const report = await pusher.pushTo(pagesOf(['a', 'down']), FRAME, 'test');

    // Assess
    expect(report).toEqual({ attempted: 2, delivered: 1, gone: 0, failed: 1, retried: 2 });
    expect(gateway.attempts.get('down')).toBe(3);
    expect(log.at('error')[0]?.attributes[0]).toMatchObject({ connectionId: 'down', attempts: 3 });
  });

  it('does not slow the shared rate for a 5xx (only a 429 says the quota is reached)', async () => {
    // Prepare
    const { pusher } = setup({
      behaviour: (id, attempt) => {
        if (id === 'flaky' && attempt === 0) throw serverError(503);
      },
    });

    // Act
    await pusher.pushTo(pagesOf(['flaky']), FRAME, 'test');

    // Assess
    expect(pusher.rate.rate).toBe(Infinity);
    expect(pusher.rate.throttled).toBe(0);
  });
});

describe('Pusher: concurrency', () => {
  it.each([1, 3, 7])('never has more than %i posts in flight', async (limit) => {
    // Prepare
    let inFlight = 0;
    let maxInFlight = 0;
    const ids = Array.from({ length: 25 }, (_, i) => `c${i}`);
    const { pusher } = setup({
      concurrency: limit,
      behaviour: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
      },
    });

    // Act
    const report = await pusher.pushTo(pagesOf(ids.slice(0, 10), ids.slice(10)), FRAME);

    // Assess
    expect(report.delivered).toBe(25);
    expect(maxInFlight).toBe(limit);
    expect(inFlight).toBe(0);
  });

  it('keeps the bound while posts are being retried', async () => {
    // Prepare
    let inFlight = 0;
    let maxInFlight = 0;
    const { pusher } = setup({
      concurrency: 4,
      sleep: async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
      behaviour: async (_id, attempt) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
        if (attempt < 2) throw throttled();
      },
    });
    const workers = Array.from({ length: 12 }, (_, i) => `w${i}`);

    // Act
    const report = await pusher.pushTo(pagesOf(workers), FRAME);

    // Assess
    expect(report).toMatchObject({ attempted: 12, delivered: 12, retried: 24 });
    expect(maxInFlight).toBeLessThanOrEqual(4);
  });
});
