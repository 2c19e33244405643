import { MemoryTaskStore } from '../../support/memory-task-store';
import {
  MemoryArtifactStore,
  MemoryFanoutQueue,
  MemoryMessageStore,
} from '../../support/memory-stores';
import {
  type ApiGatewayManagementApiClient,
  PayloadTooLargeException,
  type PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { createApiHandler, MAX_PUSH_BODY_BYTES } from '../../../lambdas/http/api';
import type { HttpResult } from '../../../lambdas/edge/http';
import { signToken, type TokenRequest } from '../../../src/auth/token';
import { notFound } from '../../../src/errors/app-error';
import { ApiGatewayPusher } from '../../../src/adapters/api-gateway/pusher';
import { ManualClock, MemoryConnectionStore, RecordingLog } from './fakes';

const SECRET = 'http-unit-secret-0123456789-0123456789-abc';
const NOW = new Date('2024-06-01T12:00:00.000Z');

/** API Gateway's WebSocket message limit (PostToConnection refuses larger data with 413). */
const API_GATEWAY_MAX_MESSAGE_BYTES = 128 * 1024;

const token = (request: TokenRequest, now: Date = NOW) => signToken(request, SECRET, now);
const adminToken = () => token({ sub: 'ops', roles: ['admin'] });

interface EventInput {
  readonly routeKey: string;
  readonly path?: string;
  readonly authorization?: string;
  readonly pathParameters?: Record<string, string>;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly headers?: Record<string, string>;
}

/** An HTTP API payload 2.0 event, as API Gateway sends it. */
function httpEvent(input: EventInput) {
  const [method = 'GET', rawPath = '/'] = input.routeKey.split(' ');
  return {
    version: '2.0',
    routeKey: input.routeKey,
    rawPath: input.path ?? rawPath,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      ...(input.authorization ? { authorization: input.authorization } : {}),
      ...input.headers,
    },
    ...(input.pathParameters ? { pathParameters: input.pathParameters } : {}),
    requestContext: { http: { method, path: input.path ?? rawPath } },
    ...(input.body === undefined ? {} : { body: input.body }),
    isBase64Encoded: input.isBase64Encoded ?? false,
  };
}

/** The API with an in-memory store, a real Pusher over a fake gateway, and a fixed clock. */
function setup() {
  const store = new MemoryConnectionStore();
  const send = jest.fn(async (command: PostToConnectionCommand): Promise<object> => {
    // Like API Gateway: a message over 128 KB is refused with 413.
    const data = command.input.Data as Uint8Array | undefined;
    if ((data?.byteLength ?? 0) > API_GATEWAY_MAX_MESSAGE_BYTES) {
      throw new PayloadTooLargeException({
        message: 'Message too long',
        $metadata: { httpStatusCode: 413 },
      });
    }
    return {};
  });
  const client = { send } as unknown as ApiGatewayManagementApiClient;
  const log = new RecordingLog();
  const pusher = new ApiGatewayPusher({ client, store, log, sleep: async () => undefined });
  const secret = jest.fn(async () => SECRET);
  const tasks = new MemoryTaskStore();
  const enqueued: string[] = [];
  const handler = createApiHandler({
    store,
    pusher,
    secret,
    log,
    clock: new ManualClock(NOW),
    submit: {
      tasks,
      queue: { enqueue: async (m) => void enqueued.push(m.taskId) },
      clock: new ManualClock(NOW),
      log,
      args: { servers: ['local'], defaultServer: 'local' },
    },
    messages: new MemoryMessageStore(),
    fanout: new MemoryFanoutQueue(),
    artifacts: new MemoryArtifactStore(),
  });
  const posted = () =>
    send.mock.calls.map(([c]) => ({
      connectionId: String(c.input.ConnectionId),
      frame: JSON.parse(Buffer.from(c.input.Data as Uint8Array).toString('utf8')) as Record<
        string,
        unknown
      >,
    }));
  return { handler, store, send, log, secret, posted };
}

const bodyOf = (result: HttpResult): unknown => JSON.parse(result.body);

/** Asserts the contract's error answer: status, JSON content type, exactly {error:{code,message}}. */
function expectError(result: HttpResult, status: number, code: string, message?: string | RegExp) {
  expect(result.statusCode).toBe(status);
  expect(result.headers['content-type']).toMatch(/^application\/json/);
  const body = bodyOf(result) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  if (typeof message === 'string') expect(body.error.message).toBe(message);
  else if (message) expect(body.error.message).toMatch(message);
}

/** The admin routes with a valid event shape for each. */
const ADMIN_ROUTES: [string, Omit<EventInput, 'authorization'>][] = [
  [
    'POST /users/{userId}/messages',
    {
      routeKey: 'POST /users/{userId}/messages',
      pathParameters: { userId: 'bob' },
      body: '{"data":1}',
    },
  ],
  [
    'POST /groups/{group}/messages',
    {
      routeKey: 'POST /groups/{group}/messages',
      pathParameters: { group: 'ops' },
      body: '{"data":1}',
    },
  ],
  ['POST /broadcast', { routeKey: 'POST /broadcast', body: '{"data":1}' }],
  [
    'GET /users/{userId}/presence',
    { routeKey: 'GET /users/{userId}/presence', pathParameters: { userId: 'bob' } },
  ],
  ['GET /stats', { routeKey: 'GET /stats' }],
];

describe('HTTP API: health', () => {
  it('answers GET /healthz with 200 without a token or the secret', async () => {
    // Prepare
    const { handler, secret } = setup();

    // Act
    const result = await handler(httpEvent({ routeKey: 'GET /healthz' }));

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ status: 'ok' });
    expect(secret).not.toHaveBeenCalled();
  });
});

describe('HTTP API: admin authentication', () => {
  const cases: [string, () => Promise<string | undefined>, number, string, string][] = [
    [
      'no Authorization header',
      async () => undefined,
      401,
      'unauthorized',
      'send Authorization: Bearer <token with the admin role>',
    ],
    [
      'a non-bearer scheme',
      async () => 'Basic b3BzOnNlY3JldA==',
      401,
      'unauthorized',
      'send Authorization: Bearer <token with the admin role>',
    ],
    ['a malformed token', async () => 'Bearer not-a-jwt', 401, 'unauthorized', 'invalid token'],
    [
      'a token signed with another secret',
      async () =>
        `Bearer ${await signToken({ sub: 'ops', roles: ['admin'] }, 'x'.repeat(40), NOW)}`,
      401,
      'unauthorized',
      'invalid token',
    ],
    [
      'an expired admin token',
      async () =>
        `Bearer ${await token(
          { sub: 'ops', roles: ['admin'], ttlSeconds: 60 },
          new Date(NOW.getTime() - 61_000),
        )}`,
      401,
      'unauthorized',
      'token expired',
    ],
    [
      'a client token',
      async () => `Bearer ${await token({ sub: 'bob' })}`,
      403,
      'forbidden',
      'this route needs the admin role',
    ],
    [
      'a worker token',
      async () => `Bearer ${await token({ sub: 'w', roles: ['worker'] })}`,
      403,
      'forbidden',
      'this route needs the admin role',
    ],
  ];

  describe.each(ADMIN_ROUTES)('%s', (_route, input) => {
    it.each(cases)('refuses %s', async (_what, authorization, status, code, message) => {
      // Prepare
      const { handler, send, store } = setup();
      store.seed({ connectionId: 'b1', userId: 'bob', groups: ['ops'] });
      const header = await authorization();

      // Act
      const result = await handler(
        httpEvent({ ...input, ...(header ? { authorization: header } : {}) }),
      );

      // Assess
      expectError(result, status, code, message);
      expect(send).not.toHaveBeenCalled();
    });
  });

  it('reads the Authorization header whatever its case', async () => {
    // Prepare
    const { handler } = setup();
    const header = `Bearer ${await adminToken()}`;

    // Act
    const result = await handler(
      httpEvent({ routeKey: 'GET /stats', headers: { AUTHORIZATION: header } }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
  });
});

describe('HTTP API: push routes', () => {
  it('delivers to every connection of a user and answers the count', async () => {
    // Prepare
    const { handler, store, posted } = setup();
    store.seed({ connectionId: 'b1', userId: 'bob' });
    store.seed({ connectionId: 'b2', userId: 'bob' });
    store.seed({ connectionId: 'c1', userId: 'carol' });

    // Act
    const result = await handler(
      httpEvent({
        routeKey: 'POST /users/{userId}/messages',
        pathParameters: { userId: 'bob' },
        authorization: `Bearer ${await adminToken()}`,
        body: JSON.stringify({ data: { hello: 'bob' }, from: 'billing' }),
      }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ delivered: 2 });
    const frames = posted();
    expect(frames.map((p) => p.connectionId).sort()).toEqual(['b1', 'b2']);
    for (const { frame } of frames) {
      expect(frame).toMatchObject({
        type: 'message',
        data: { hello: 'bob' },
        to: { user: 'bob' },
        from: 'billing',
        at: NOW.toISOString(),
      });
      expect(typeof frame.id).toBe('string');
    }
  });

  it('delivers to group members and to everyone', async () => {
    // Prepare
    const { handler, store } = setup();
    store.seed({ connectionId: 'm1', userId: 'dan', groups: ['ops'] });
    store.seed({ connectionId: 'x1', userId: 'erin' });
    const authorization = `Bearer ${await adminToken()}`;

    // Act
    const group = await handler(
      httpEvent({
        routeKey: 'POST /groups/{group}/messages',
        pathParameters: { group: 'ops' },
        authorization,
        body: '{"data":"deploy done"}',
      }),
    );
    const all = await handler(
      httpEvent({ routeKey: 'POST /broadcast', authorization, body: '{"data":"hi all"}' }),
    );

    // Assess
    expect(group.statusCode).toBe(200);
    expect(bodyOf(group)).toEqual({ delivered: 1 });
    expect([200, 202]).toContain(all.statusCode);
    expect(bodyOf(all)).toMatchObject({ delivered: 2 });
  });

  it('answers 200 with delivered 0 when nobody is connected', async () => {
    // Prepare
    const { handler } = setup();

    // Act
    const result = await handler(
      httpEvent({
        routeKey: 'POST /users/{userId}/messages',
        pathParameters: { userId: 'nobody' },
        authorization: `Bearer ${await adminToken()}`,
        body: '{"data":"anyone?"}',
      }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ delivered: 0 });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['false', false],
    ['zero', 0],
    ['an empty string', ''],
    ['an array', [1, 2]],
  ])('accepts data that is %s', async (_what, data) => {
    // Prepare
    const { handler, store, posted } = setup();
    store.seed({ connectionId: 'b1', userId: 'bob' });

    // Act
    const result = await handler(
      httpEvent({
        routeKey: 'POST /users/{userId}/messages',
        pathParameters: { userId: 'bob' },
        authorization: `Bearer ${await adminToken()}`,
        body: JSON.stringify({ data }),
      }),
    );

    // Assess
    expect(bodyOf(result)).toEqual({ delivered: 1 });
    expect(posted()[0]?.frame.data).toEqual(data);
  });

  it('decodes a base64-encoded body', async () => {
    // Prepare
    const { handler, store, posted } = setup();
    store.seed({ connectionId: 'b1', userId: 'bob' });

    // Act
    const result = await handler(
      httpEvent({
        routeKey: 'POST /users/{userId}/messages',
        pathParameters: { userId: 'bob' },
        authorization: `Bearer ${await adminToken()}`,
        body: Buffer.from('{"data":"héllo"}').toString('base64'),
        isBase64Encoded: true,
      }),
    );

    // Assess
    expect(bodyOf(result)).toEqual({ delivered: 1 });
    expect(posted()[0]?.frame.data).toBe('héllo');
  });

  it('accepts a body of exactly MAX_PUSH_BODY_BYTES', async () => {
    // Prepare
    const { handler, store } = setup();
    store.seed({ connectionId: 'b1', userId: 'bob' });
    const shell = '{"data":""}';
    const body = `{"data":"${'x'.repeat(MAX_PUSH_BODY_BYTES - shell.length)}"}`;

    // Act
    const result = await handler(
      httpEvent({
        routeKey: 'POST /users/{userId}/messages',
        pathParameters: { userId: 'bob' },
        authorization: `Bearer ${await adminToken()}`,
        body,
      }),
    );

    // Assess
    expect(Buffer.byteLength(body)).toBe(MAX_PUSH_BODY_BYTES);
    expect(result.statusCode).toBe(200);
  });
});

describe('HTTP API: bad push bodies', () => {
  const tooLargeMessage = `body over ${MAX_PUSH_BODY_BYTES} bytes`;
  const cases: [string, string | null | undefined, number, string, string | RegExp][] = [
    ['a body that is not JSON', '{data: 1}', 400, 'bad_request', 'body is not valid JSON'],
    ['plain text', 'hello', 400, 'bad_request', 'body is not valid JSON'],
    ['an empty body', '', 400, 'bad_request', 'body is empty: send a JSON object'],
    ['a whitespace body', ' \n\t', 400, 'bad_request', 'body is empty: send a JSON object'],
    ['no body at all', undefined, 400, 'bad_request', 'body is empty: send a JSON object'],
    ['a null body', null, 400, 'bad_request', 'body is empty: send a JSON object'],
    ['an object without data', '{}', 400, 'bad_request', 'data: data is required'],
    ['only a from', '{"from":"x"}', 400, 'bad_request', 'data: data is required'],
    [
      'an unknown field',
      '{"data":1,"priority":9}',
      400,
      'bad_request',
      /Unrecognized key.*priority/,
    ],
    ['a JSON array', '[{"data":1}]', 400, 'bad_request', /expected object/],
    ['JSON null', 'null', 400, 'bad_request', /expected object/],
    ['a JSON string', '"data"', 400, 'bad_request', /expected object/],
    ['an empty from', '{"data":1,"from":""}', 400, 'bad_request', /^from: /],
    ['a numeric from', '{"data":1,"from":7}', 400, 'bad_request', /^from: /],
    [
      'a from over 128 characters',
      `{"data":1,"from":"${'f'.repeat(129)}"}`,
      400,
      'bad_request',
      /^from: /,
    ],
    [
      'a body one byte over the cap',
      `{"data":"${'x'.repeat(MAX_PUSH_BODY_BYTES - 10)}"}`,
      413,
      'too_large',
      tooLargeMessage,
    ],
    [
      'a body over the cap in bytes but not in characters',
      `{"data":"${'é'.repeat(MAX_PUSH_BODY_BYTES / 2)}"}`,
      413,
      'too_large',
      tooLargeMessage,
    ],
    [
      'an oversized body that is not JSON either',
      '{'.repeat(MAX_PUSH_BODY_BYTES + 1),
      413,
      'too_large',
      tooLargeMessage,
    ],
  ];

  it.each(cases)('answers %s with %i', async (_what, body, status, code, message) => {
    // Prepare
    const { handler, store, send } = setup();
    store.seed({ connectionId: 'b1', userId: 'bob' });

    // Act
    const result = await handler(
      httpEvent({
        routeKey: 'POST /users/{userId}/messages',
        pathParameters: { userId: 'bob' },
        authorization: `Bearer ${await adminToken()}`,
        body,
      }),
    );

    // Assess
    expectError(result, status, code, message);
    expect(send).not.toHaveBeenCalled();
  });

  // A body under the cap can still make a frame over API Gateway's 128 KB message limit (every
  // `1e20`, 4 bytes, is re-serialised as 21). The frame then carries a link to the stored data
  // instead of the data, so the message is still delivered.
  it('delivers data whose frame outgrows the 128 KB limit as a link to the stored data', async () => {
    // Prepare
    const { handler, store, posted } = setup();
    store.seed({ connectionId: 'b1', userId: 'bob' });
    const count = 30_000;
    const body = `{"data":[${Array.from({ length: count }, () => '1e20').join(',')}]}`;

    // Act
    const result = await handler(
      httpEvent({
        routeKey: 'POST /users/{userId}/messages',
        pathParameters: { userId: 'bob' },
        authorization: `Bearer ${await adminToken()}`,
        body,
      }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ delivered: 1 });
    const frame = posted()[0]?.frame;
    expect(frame).toMatchObject({
      type: 'message',
      to: { user: 'bob' },
      dataUrl: expect.any(String),
    });
    expect(frame?.data).toBeUndefined();
    expect(Number(frame?.dataBytes)).toBeGreaterThan(128 * 1024);
  });

  it('answers 400 for a bad body on the group and broadcast routes too', async () => {
    // Prepare
    const { handler } = setup();
    const authorization = `Bearer ${await adminToken()}`;

    // Act
    const group = await handler(
      httpEvent({
        routeKey: 'POST /groups/{group}/messages',
        pathParameters: { group: 'ops' },
        authorization,
        body: '{"dta":1}',
      }),
    );
    const all = await handler(httpEvent({ routeKey: 'POST /broadcast', authorization, body: '' }));

    // Assess
    expectError(group, 400, 'bad_request');
    expectError(all, 400, 'bad_request', 'body is empty: send a JSON object');
  });
});

describe('HTTP API: path parameters and routes', () => {
  it.each<[string, string, Record<string, string> | undefined, RegExp]>([
    ['a userId with "#"', 'POST /users/{userId}/messages', { userId: 'a#b' }, /^userId: /],
    ['a userId with a space', 'POST /users/{userId}/messages', { userId: 'a b' }, /^userId: /],
    ['an empty userId', 'POST /users/{userId}/messages', { userId: '' }, /^userId: /],
    ['a missing userId', 'POST /users/{userId}/messages', undefined, /^userId: /],
    [
      'a 129-character userId',
      'POST /users/{userId}/messages',
      { userId: 'u'.repeat(129) },
      /^userId: /,
    ],
    ['a group with "/"', 'POST /groups/{group}/messages', { group: 'a/b' }, /^group: /],
    ['a group with "@"', 'POST /groups/{group}/messages', { group: 'a@b' }, /^group: /],
    ['a missing group', 'POST /groups/{group}/messages', undefined, /^group: /],
    ['a presence userId with "#"', 'GET /users/{userId}/presence', { userId: 'x#y' }, /^userId: /],
  ])('answers %s with 400 bad_request', async (_what, routeKey, pathParameters, message) => {
    // Prepare
    const { handler, send } = setup();

    // Act
    const result = await handler(
      httpEvent({
        routeKey,
        ...(pathParameters ? { pathParameters } : {}),
        authorization: `Bearer ${await adminToken()}`,
        body: '{"data":1}',
      }),
    );

    // Assess
    expectError(result, 400, 'bad_request', message);
    expect(send).not.toHaveBeenCalled();
  });

  it.each([
    ['an unknown path', 'GET /nope'],
    ['a known path with the wrong method', 'DELETE /stats'],
    ["API Gateway's catch-all", '$default'],
  ])('answers %s with 404 not_found, before asking for a token', async (_what, routeKey) => {
    // Prepare
    const { handler, secret } = setup();

    // Act
    const result = await handler(httpEvent({ routeKey }));

    // Assess
    expectError(result, 404, 'not_found', `no route ${routeKey}`);
    expect(secret).not.toHaveBeenCalled();
  });
});

describe('HTTP API: presence and stats', () => {
  it('lists the connections of a user', async () => {
    // Prepare
    const { handler, store } = setup();
    store.seed({ connectionId: 'b1', userId: 'bob', clientType: 'viewer' });

    // Act
    const result = await handler(
      httpEvent({
        routeKey: 'GET /users/{userId}/presence',
        pathParameters: { userId: 'bob' },
        authorization: `Bearer ${await adminToken()}`,
      }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({
      userId: 'bob',
      connections: [
        { connectionId: 'b1', clientType: 'viewer', connectedAt: '2024-01-01T00:00:00.000Z' },
      ],
    });
  });

  it('counts connections by clientType', async () => {
    // Prepare
    const { handler, store } = setup();
    store.seed({ connectionId: 'a', userId: 'u', clientType: 'viewer' });
    store.seed({ connectionId: 'b', userId: 'u' });

    // Act
    const result = await handler(
      httpEvent({ routeKey: 'GET /stats', authorization: `Bearer ${await adminToken()}` }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({
      connections: { viewer: 1, unregistered: 1 },
      tasks: { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 },
    });
  });
});

describe('HTTP API: faults of ours', () => {
  it.each<[string, (ctx: ReturnType<typeof setup>) => void, Omit<EventInput, 'authorization'>]>([
    [
      'the store failing during stats',
      ({ store }) => {
        jest.spyOn(store, 'countByClientType').mockRejectedValue(new Error('boom: table gone'));
      },
      { routeKey: 'GET /stats' },
    ],
    [
      'the store failing during presence',
      ({ store }) => {
        jest.spyOn(store, 'listUser').mockRejectedValue(new TypeError('boom: cannot read x'));
      },
      { routeKey: 'GET /users/{userId}/presence', pathParameters: { userId: 'bob' } },
    ],
    [
      'the recipient query failing during a push',
      ({ store }) => {
        jest.spyOn(store, 'recipients').mockImplementation(async function* () {
          yield* [];
          throw new Error('boom: throughput exceeded');
        });
      },
      { routeKey: 'POST /broadcast', body: '{"data":1}' },
    ],
    [
      'the secret being unavailable',
      ({ secret }) => {
        secret.mockRejectedValue(new Error('boom: secrets manager timeout'));
      },
      { routeKey: 'GET /stats' },
    ],
  ])('answers %s with 500 internal and no detail', async (_what, breakIt, input) => {
    // Prepare
    const ctx = setup();
    breakIt(ctx);

    // Act
    const result = await ctx.handler(
      httpEvent({ ...input, authorization: `Bearer ${await adminToken()}` }),
    );

    // Assess
    expectError(result, 500, 'internal', 'internal error; it has been logged');
    expect(result.body).not.toMatch(/boom|stack|\.ts|at /);
    const logged = ctx.log.at('error');
    expect(logged).toHaveLength(1);
    expect(logged[0]?.attributes[0]).toMatchObject({
      routeKey: input.routeKey,
      error: { message: expect.stringMatching(/^boom/), stack: expect.any(String) },
    });
  });

  it('passes a domain error from a port through with its own status', async () => {
    // Prepare
    const { handler, store } = setup();
    jest.spyOn(store, 'listUser').mockRejectedValue(notFound('no such user'));

    // Act
    const result = await handler(
      httpEvent({
        routeKey: 'GET /users/{userId}/presence',
        pathParameters: { userId: 'bob' },
        authorization: `Bearer ${await adminToken()}`,
      }),
    );

    // Assess
    expectError(result, 404, 'not_found', 'no such user');
  });
});
