/**
 * Client JSON nested too deeply is a clear 400 / `bad_request` error frame, checked before
 * anything recursive (JSON.stringify, zod, DynamoDB marshalling) touches it: never a 500 from
 * `RangeError: Maximum call stack size exceeded`.
 */
import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { createApiHandler } from '../../../lambdas/http/api';
import type { HttpResult } from '../../../lambdas/edge/http';
import { createMessageHandler } from '../../../lambdas/ws/message';
import { signToken } from '../../../src/auth/token';
import { AppError } from '../../../src/errors/app-error';
import { assertJsonDepth, jsonDepthExceeds, MAX_JSON_DEPTH } from '../../../src/push/json-depth';
import { ApiGatewayPusher } from '../../../src/adapters/api-gateway/pusher';
import type { Pusher } from '../../../src/push/pusher';
import { submitTask } from '../../../src/tasks/submit';
import { parseClientFrame } from '../../../src/ws/client-frames';
import {
  MemoryArtifactStore,
  MemoryFanoutQueue,
  MemoryMessageStore,
} from '../../support/memory-stores';
import { MemoryTaskStore } from '../../support/memory-task-store';
import { ManualClock, MemoryConnectionStore, RecordingLog } from './fakes';

const SECRET = 'depth-unit-secret-0123456789-0123456789-ab';
const NOW = new Date('2024-06-01T12:00:00.000Z');

/** `n` arrays inside each other around a 1: depth n. */
const nestedText = (n: number) => '['.repeat(n) + '1' + ']'.repeat(n);
/** `n` objects inside each other: depth n. */
const nestedObject = (n: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < n; i += 1) v = { a: v };
  return v;
};

describe('jsonDepthExceeds', () => {
  it.each<[string, number, unknown]>([
    ['a scalar', 0, 'x'],
    ['null', 0, null],
    ['an empty object', 1, {}],
    ['an empty array', 1, []],
    ['a flat record', 1, { a: 1, b: 'x', c: null }],
    ['an array in an object', 2, { a: [1] }],
    ['mixed nesting', 5, [{ a: [{ b: {} }] }]],
  ])('measures %s as %i levels', (_what, depth, value) => {
    expect(jsonDepthExceeds(value, depth)).toBe(false);
    if (depth > 0) expect(jsonDepthExceeds(value, depth - 1)).toBe(true);
  });

  it('finds the one deep path among wide shallow ones', () => {
    const wide = Array.from({ length: 10_000 }, (_, i) => ({ i }));
    expect(jsonDepthExceeds([...wide, nestedObject(MAX_JSON_DEPTH)])).toBe(true);
    expect(jsonDepthExceeds([...wide, nestedObject(MAX_JSON_DEPTH - 1)])).toBe(false);
  });

  it('walks 200,000 levels without overflowing the stack', () => {
    const deep = JSON.parse(nestedText(200_000)) as unknown;
    expect(jsonDepthExceeds(deep, 300_000)).toBe(false);
    expect(jsonDepthExceeds(deep)).toBe(true);
  });

  it('names the value and the limit in its error', () => {
    expect(() => assertJsonDepth(nestedObject(MAX_JSON_DEPTH + 1), 'data')).toThrow(
      new AppError(
        'bad_request',
        `data is too deeply nested: at most ${MAX_JSON_DEPTH} levels of arrays and objects`,
      ),
    );
    expect(() => assertJsonDepth(nestedObject(MAX_JSON_DEPTH), 'data')).not.toThrow();
  });
});

/** The HTTP API with in-memory stores and a gateway that accepts everything. */
function httpSetup() {
  const store = new MemoryConnectionStore();
  store.seed({ connectionId: 'c1', userId: 'bob', groups: ['ops'] });
  const send = jest.fn(async (): Promise<object> => ({}));
  const client = { send } as unknown as ApiGatewayManagementApiClient;
  const log = new RecordingLog();
  const messages = new MemoryMessageStore();
  const tasks = new MemoryTaskStore();
  const handler = createApiHandler({
    store,
    pusher: new ApiGatewayPusher({ client, store, log, sleep: async () => undefined }),
    secret: async () => SECRET,
    log,
    clock: new ManualClock(NOW),
    submit: {
      tasks,
      queue: { enqueue: async () => undefined },
      clock: new ManualClock(NOW),
      log,
      args: { servers: ['local'], defaultServer: 'local' },
    },
    messages,
    fanout: new MemoryFanoutQueue(),
    artifacts: new MemoryArtifactStore(),
  });
  const call = async (routeKey: string, body: string, pathParameters?: Record<string, string>) =>
    handler({
      version: '2.0',
      routeKey,
      rawPath: '/',
      rawQueryString: '',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await signToken({ sub: 'ops', roles: ['admin'] }, SECRET, NOW)}`,
      },
      ...(pathParameters ? { pathParameters } : {}),
      requestContext: { http: { method: 'POST', path: '/' } },
      body,
      isBase64Encoded: false,
    });
  return { call, send, log, messages, tasks };
}

const PUSH_ROUTES: [string, Record<string, string> | undefined][] = [
  ['POST /users/{userId}/messages', { userId: 'bob' }],
  ['POST /groups/{group}/messages', { group: 'ops' }],
  ['POST /broadcast', undefined],
];
const SEND_AT = '2024-06-01T13:00:00Z';
const bodyOf = (r: HttpResult) => JSON.parse(r.body) as unknown;

describe('HTTP push: data nested too deeply', () => {
  const tooDeep = `data is too deeply nested: at most ${MAX_JSON_DEPTH} levels of arrays and objects`;

  it.each(
    PUSH_ROUTES.flatMap(([route, params]) => [
      [`${route} now`, route, params, undefined],
      [`${route} scheduled`, route, params, SEND_AT],
    ]) as [string, string, Record<string, string> | undefined, string | undefined][],
  )(
    '%s: 10,000 levels (about 20 KB) is a 400 and sends or stores nothing',
    async (_n, route, params, sendAt) => {
      // Prepare
      const { call, send, log, messages } = httpSetup();
      const data = nestedText(10_000);
      const body = `{"data":${data}${sendAt ? `,"sendAt":"${sendAt}"` : ''}}`;
      expect(Buffer.byteLength(body)).toBeLessThan(21_000);

      // Act
      const result = await call(route, body, params);

      // Assess
      expect(result.statusCode).toBe(400);
      expect(bodyOf(result)).toEqual({ error: { code: 'bad_request', message: tooDeep } });
      expect(send).not.toHaveBeenCalled();
      expect(messages.scheduled.size).toBe(0);
      expect(log.entries.filter((e) => e.level === 'error')).toEqual([]);
    },
  );

  it.each(
    PUSH_ROUTES.flatMap(([route, params]) => [
      [`${route} now`, route, params, undefined, 200],
      [`${route} scheduled`, route, params, SEND_AT, 202],
    ]) as [string, string, Record<string, string> | undefined, string | undefined, number][],
  )('%s: exactly the cap is accepted', async (_n, route, params, sendAt, status) => {
    // Prepare
    const { call } = httpSetup();
    const data = JSON.stringify(nestedObject(MAX_JSON_DEPTH));

    // Act
    const result = await call(
      route,
      `{"data":${data}${sendAt ? `,"sendAt":"${sendAt}"` : ''}}`,
      params,
    );

    // Assess
    expect(result.statusCode).toBe(status);
  });

  it('one level over the cap is refused the same way', async () => {
    const { call } = httpSetup();
    const data = JSON.stringify(nestedObject(MAX_JSON_DEPTH + 1));
    const result = await call('POST /broadcast', `{"data":${data}}`);
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toEqual({ error: { code: 'bad_request', message: tooDeep } });
  });
});

describe('task args nested too deeply', () => {
  it('POST /tasks: a 400 naming args, and no task', async () => {
    // Prepare
    const { call, tasks } = httpSetup();

    // Act
    const result = await call(
      'POST /tasks',
      `{"taskType":"logic","args":{"args":${nestedText(10_000)}}}`,
    );

    // Assess
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toEqual({
      error: {
        code: 'bad_request',
        message: `args is too deeply nested: at most ${MAX_JSON_DEPTH} levels of arrays and objects`,
      },
    });
    expect(tasks.all.size).toBe(0);
  });

  it('submitTask refuses them for every source before reading the type', async () => {
    const tasks = new MemoryTaskStore();
    const ports = {
      tasks,
      queue: { enqueue: async () => undefined },
      clock: new ManualClock(NOW),
      log: new RecordingLog(),
      args: { servers: ['local'], defaultServer: 'local' },
    };
    for (const source of ['ws', 'http', 'wecom', 'chain'] as const) {
      await expect(
        submitTask(ports, {
          taskType: 'logic',
          args: { args: JSON.parse(nestedText(5_000)) as unknown },
          source,
          requester: {},
        }),
      ).rejects.toMatchObject({ code: 'bad_request', message: /^args is too deeply nested/ });
    }
    expect(tasks.all.size).toBe(0);
  });
});

describe('WebSocket submit: args nested too deeply', () => {
  const frame = (args: string) =>
    `{"action":"submit","taskType":"logic","args":${args},"requestId":"deep-1"}`;

  it('parseClientFrame answers bad_request with the requestId', () => {
    // Act
    const parsed = parseClientFrame(frame(`{"args":${nestedText(10_000)}}`));

    // Assess
    expect(parsed).toMatchObject({
      ok: false,
      requestId: 'deep-1',
      error: {
        code: 'bad_request',
        message: `args is too deeply nested: at most ${MAX_JSON_DEPTH} levels of arrays and objects`,
      },
    });
  });

  it('lets args at the cap through to the task type (which has its own rules)', () => {
    const parsed = parseClientFrame(frame(JSON.stringify(nestedObject(MAX_JSON_DEPTH))));
    expect(parsed.ok).toBe(true);
  });

  it('the message route answers an error frame, writes nothing and stays up', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    store.seed({ connectionId: 'c1', userId: 'alice' });
    const tasks = new MemoryTaskStore();
    const post = jest.fn(async () => ({ outcome: 'delivered' as const }));
    const handler = createMessageHandler({
      store,
      log: new RecordingLog(),
      clock: new ManualClock(NOW),
      pusher: { post } as unknown as Pusher,
      submit: {
        tasks,
        queue: { enqueue: async () => undefined },
        clock: new ManualClock(NOW),
        log: new RecordingLog(),
        args: { servers: ['local'], defaultServer: 'local' },
      },
    });

    // Act
    const result = await handler({
      requestContext: { connectionId: 'c1', routeKey: 'submit', eventType: 'MESSAGE' },
      body: frame(`{"args":${nestedText(10_000)}}`),
      isBase64Encoded: false,
    });

    // Assess
    expect(JSON.parse(result.body ?? '{}')).toMatchObject({
      type: 'error',
      code: 'bad_request',
      message: /too deeply nested/,
      requestId: 'deep-1',
    });
    expect(tasks.all.size).toBe(0);
    expect(post).not.toHaveBeenCalled();
  });
});
