import { createAuthorizerHandler } from '../../../lambdas/ws/authorizer';
import { createConnectHandler } from '../../../lambdas/ws/connect';
import { createDisconnectHandler } from '../../../lambdas/ws/disconnect';
import { createMessageHandler } from '../../../lambdas/ws/message';
import type { WsResult } from '../../../lambdas/edge/ws-event';
import { signToken, type TokenRequest } from '../../../src/auth/token';
import { AppError } from '../../../src/errors/app-error';
import { MAX_GROUPS_PER_CONNECTION } from '../../../src/names/names';
import { MAX_CLIENT_FRAME_BYTES } from '../../../src/ws/client-frames';
import { ManualClock, MemoryConnectionStore, RecordingLog } from './fakes';

const SECRET = 'ws-unit-secret-0123456789-0123456789-abcd';
const NOW = new Date('2024-06-01T12:00:00.000Z');
const METHOD_ARN = 'arn:aws:execute-api:us-east-1:000000000000:abc123/dev/$connect';

const token = (request: TokenRequest, now: Date = NOW) => signToken(request, SECRET, now);

/** A WebSocket REQUEST authorizer event as API Gateway sends it on $connect. */
const authorizerEvent = (query: Record<string, string> | null) => ({
  type: 'REQUEST',
  methodArn: METHOD_ARN,
  headers: { Host: 'abc123.execute-api.us-east-1.amazonaws.com' },
  queryStringParameters: query,
  requestContext: { routeKey: '$connect', eventType: 'CONNECT', connectionId: 'cid-1' },
});

/** A $connect, $disconnect or message event. */
const wsEvent = (
  eventType: 'CONNECT' | 'DISCONNECT' | 'MESSAGE',
  extra: {
    connectionId?: string;
    authorizer?: Record<string, unknown> | null;
    body?: string | null;
    isBase64Encoded?: boolean;
    connectedAt?: number;
  } = {},
) => ({
  requestContext: {
    connectionId: extra.connectionId ?? 'c1',
    routeKey: { CONNECT: '$connect', DISCONNECT: '$disconnect', MESSAGE: '$default' }[eventType],
    eventType,
    ...(extra.connectedAt === undefined ? {} : { connectedAt: extra.connectedAt }),
    domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
    stage: 'dev',
    ...(extra.authorizer === undefined ? {} : { authorizer: extra.authorizer }),
  },
  ...(extra.body === undefined ? {} : { body: extra.body }),
  isBase64Encoded: extra.isBase64Encoded ?? false,
});

/** Rejects with what the promise rejected with, or fails when it resolved. */
async function rejection(attempt: Promise<unknown>): Promise<unknown> {
  return attempt.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
}

describe('authorizer', () => {
  const setup = () => {
    const log = new RecordingLog();
    const secret = jest.fn(async () => SECRET);
    const handler = createAuthorizerHandler({ secret, log, now: () => NOW });
    return { handler, log, secret };
  };

  it('allows a valid token with the principal as JSON-string context', async () => {
    // Prepare
    const { handler } = setup();
    const t = await token({ sub: 'alice' });

    // Act
    const result = await handler(authorizerEvent({ token: t }));

    // Assess
    expect(result).toEqual({
      principalId: 'alice',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }],
      },
      context: { userId: 'alice', roles: '["client"]', groups: '[]' },
    });
  });

  it('passes roles and groups through as JSON strings API Gateway can carry', async () => {
    // Prepare
    const { handler } = setup();
    const t = await token({ sub: 'ops', roles: ['worker', 'admin'], groups: ['ops', '*'] });

    // Act
    const { context } = await handler(authorizerEvent({ token: t, other: 'x' }));

    // Assess
    for (const value of Object.values(context)) expect(typeof value).toBe('string');
    expect(context.userId).toBe('ops');
    expect(JSON.parse(context.roles)).toEqual(['worker', 'admin']);
    expect(JSON.parse(context.groups)).toEqual(['ops', '*']);
  });

  it.each<[string, () => Promise<Record<string, string> | null>, string]>([
    ['no query string', async () => null, 'missing token'],
    ['no token parameter', async () => ({ other: 'x' }), 'missing token'],
    ['an empty token', async () => ({ token: '' }), 'missing token'],
    ['a malformed token', async () => ({ token: 'not-a-jwt' }), 'invalid token'],
    [
      'a token signed with another secret',
      async () => ({ token: await signToken({ sub: 'alice' }, 'y'.repeat(40), NOW) }),
      'invalid token',
    ],
    [
      'a token expired at the injected time',
      async () => ({
        token: await token({ sub: 'alice', ttlSeconds: 10 }, new Date(NOW.getTime() - 11_000)),
      }),
      'token expired',
    ],
  ])('throws Unauthorized for %s and logs why', async (_what, query, reason) => {
    // Prepare
    const { handler, log } = setup();
    const event = authorizerEvent(await query());

    // Act
    const error = await rejection(handler(event));

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(AppError);
    expect((error as Error).message).toBe('Unauthorized');
    expect(log.at('info')).toEqual([
      {
        level: 'info',
        message: 'connection refused',
        attributes: [{ reason, connectionId: 'cid-1' }],
      },
    ]);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'event'],
    ['an empty object', {}],
    ['an event without methodArn', { queryStringParameters: { token: 'x' } }],
    ['an empty methodArn', { methodArn: '', queryStringParameters: { token: 'x' } }],
    [
      'a query string that is not a map',
      { methodArn: METHOD_ARN, queryStringParameters: 'token=x' },
    ],
    ['a non-string token', { methodArn: METHOD_ARN, queryStringParameters: { token: 42 } }],
  ])('throws Unauthorized for a malformed event: %s', async (_what, event) => {
    // Prepare
    const { handler, secret } = setup();

    // Act
    const error = await rejection(handler(event));

    // Assess
    expect((error as Error).message).toBe('Unauthorized');
    expect(secret).not.toHaveBeenCalled();
  });

  it('lets a failing secret surface as a fault instead of a 401', async () => {
    // Prepare
    const { handler, secret } = setup();
    const fault = new Error('secrets manager timeout');
    secret.mockRejectedValue(fault);

    // Act
    const error = await rejection(handler(authorizerEvent({ token: await token({ sub: 'a' }) })));

    // Assess
    expect(error).toBe(fault);
  });
});

describe('$connect', () => {
  const authorizer = {
    userId: 'alice',
    roles: '["worker"]',
    groups: '["ops","*"]',
    principalId: 'alice',
    integrationLatency: 0,
  };

  it('records the connection with the principal the authorizer verified', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    const handler = createConnectHandler({ store, log: new RecordingLog() });
    const connectedAt = NOW.getTime();

    // Act
    const result = await handler(
      wsEvent('CONNECT', { connectionId: 'c9', authorizer, connectedAt }),
    );

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    expect(await store.get('c9')).toMatchObject({
      connectionId: 'c9',
      userId: 'alice',
      roles: ['worker'],
      allowedGroups: ['ops', '*'],
      connectedAt: NOW.toISOString(),
    });
  });

  it('uses the current time when API Gateway gives no connectedAt', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    const handler = createConnectHandler({ store, log: new RecordingLog() });
    const before = Date.now();

    // Act
    await handler(wsEvent('CONNECT', { authorizer }));

    // Assess
    const at = Date.parse(String((await store.get('c1'))?.connectedAt));
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  it.each<[string, Record<string, unknown> | null | undefined]>([
    ['no authorizer context', undefined],
    ['a null authorizer context', null],
    ['a context without userId', { roles: '[]', groups: '[]' }],
    ['roles that are not JSON', { userId: 'a', roles: 'admin', groups: '[]' }],
    ['an unknown role', { userId: 'a', roles: '["root"]', groups: '[]' }],
    ['groups that are not a list', { userId: 'a', roles: '[]', groups: '"ops"' }],
  ])('fails loudly and writes nothing with %s (a wiring fault)', async (_what, ctx) => {
    // Prepare
    const store = new MemoryConnectionStore();
    const handler = createConnectHandler({ store, log: new RecordingLog() });

    // Act
    const error = await rejection(handler(wsEvent('CONNECT', { authorizer: ctx })));

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(store.connections.size).toBe(0);
  });
});

describe('$disconnect', () => {
  it('removes every record of the connection', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    store.seed({ connectionId: 'c1', userId: 'alice', groups: ['ops'] });
    store.seed({ connectionId: 'c2', userId: 'alice' });
    const log = new RecordingLog();
    const handler = createDisconnectHandler({ store, log });

    // Act
    const result = await handler(wsEvent('DISCONNECT', { connectionId: 'c1' }));

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    expect(store.removed).toEqual(['c1']);
    expect([...store.connections.keys()]).toEqual(['c2']);
    expect(log.at('info')[0]?.attributes[0]).toEqual({ connectionId: 'c1', removed: 1 });
  });

  it('answers 200 for a connection that is already gone', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    const handler = createDisconnectHandler({ store, log: new RecordingLog() });

    // Act
    const result = await handler(wsEvent('DISCONNECT', { connectionId: 'ghost' }));

    // Assess
    expect(result).toEqual({ statusCode: 200 });
  });

  it('still removes the records when the socket-worker ports cannot be built', async () => {
    // Prepare: settings missing make the workers factory throw, as it would in a broken deploy
    const store = new MemoryConnectionStore();
    store.seed({ connectionId: 'w1', userId: 'wendy', roles: ['worker'] });
    const log = new RecordingLog();
    const handler = createDisconnectHandler({
      store,
      log,
      workers: () => {
        throw new Error('setting TASKWIRE_PLACEMENT is not valid JSON');
      },
    });

    // Act
    const result = await handler(wsEvent('DISCONNECT', { connectionId: 'w1' }));

    // Assess
    expect(result).toEqual({ statusCode: 200 });
    expect(store.removed).toEqual(['w1']);
    expect(log.at('error')[0]?.message).toBe('could not take back a socket worker’s tasks');
  });

  it('refuses an event without a connection id', async () => {
    // Prepare
    const store = new MemoryConnectionStore();
    const handler = createDisconnectHandler({ store, log: new RecordingLog() });

    // Act
    const error = await rejection(handler(wsEvent('DISCONNECT', { connectionId: '' })));

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(store.removed).toEqual([]);
  });
});

describe('message routes', () => {
  const setup = () => {
    const store = new MemoryConnectionStore();
    store.seed({ connectionId: 'c1', userId: 'alice', allowedGroups: ['ops', 'dev'] });
    store.seed({ connectionId: 'w1', userId: 'wendy', roles: ['worker'] });
    store.seed({ connectionId: 'a1', userId: 'root', roles: ['admin'], allowedGroups: ['*'] });
    const log = new RecordingLog();
    const clock = new ManualClock(NOW);
    let n = 0;
    const handler = createMessageHandler({ store, log, clock, newId: () => `id-${++n}` });
    const send = async (
      frame: unknown,
      options: { connectionId?: string; isBase64Encoded?: boolean } = {},
    ) => {
      const body =
        typeof frame === 'string' || frame === null || frame === undefined
          ? frame
          : JSON.stringify(frame);
      const result: WsResult = await handler(
        wsEvent('MESSAGE', {
          connectionId: options.connectionId ?? 'c1',
          body,
          ...(options.isBase64Encoded === undefined
            ? {}
            : { isBase64Encoded: options.isBase64Encoded }),
        }),
      );
      expect(result.statusCode).toBe(200);
      return JSON.parse(String(result.body)) as Record<string, unknown>;
    };
    return { store, log, clock, send };
  };

  /** Every server frame has type, a unique id and an ISO time. */
  const expectEnvelope = (frame: Record<string, unknown>, type: string) => {
    expect(frame.type).toBe(type);
    expect(frame.id).toEqual(expect.stringMatching(/^id-\d+$/));
    expect(frame.at).toBe(NOW.toISOString());
  };

  it('answers ping with pong, the time and the requestId', async () => {
    // Prepare
    const { send } = setup();

    // Act
    const pong = await send({ action: 'ping', requestId: 'r1' });

    // Assess
    expectEnvelope(pong, 'pong');
    expect(pong).toEqual({
      type: 'pong',
      id: 'id-1',
      at: NOW.toISOString(),
      ts: NOW.getTime(),
      requestId: 'r1',
    });
  });

  it('registers, joins and leaves, each reply with its own id', async () => {
    // Prepare
    const { send, store } = setup();

    // Act
    const registered = await send({
      action: 'register',
      clientType: 'viewer',
      groups: ['ops', 'ops'],
    });
    const joined = await send({ action: 'join', group: 'dev', requestId: 'j' });
    const left = await send({ action: 'leave', group: 'ops' });

    // Assess
    expectEnvelope(registered, 'registered');
    expect(registered).toMatchObject({
      connectionId: 'c1',
      userId: 'alice',
      clientType: 'viewer',
      groups: ['ops'],
    });
    expect(registered).not.toHaveProperty('requestId');
    expectEnvelope(joined, 'joined');
    expect(joined).toMatchObject({ group: 'dev', requestId: 'j' });
    expectEnvelope(left, 'left');
    expect(left).toMatchObject({ group: 'ops' });
    expect(new Set([registered.id, joined.id, left.id]).size).toBe(3);
    expect((await store.get('c1'))?.groups).toEqual(['dev']);
  });

  it.each([
    ['a worker as an http observer', 'w1', 'http'],
    ['an admin as a download worker', 'a1', 'download'],
    ['a worker as a logic worker', 'w1', 'logic'],
  ])('lets %s register', async (_what, connectionId, clientType) => {
    // Prepare
    const { send, store } = setup();

    // Act
    const reply = await send({ action: 'register', clientType }, { connectionId });

    // Assess
    expect(reply).toMatchObject({ type: 'registered', clientType });
    expect((await store.get(connectionId))?.clientType).toBe(clientType);
  });

  it('reads a base64-encoded (binary) frame', async () => {
    // Prepare
    const { send } = setup();
    const body = Buffer.from(JSON.stringify({ action: 'ping', requestId: 'bin' })).toString(
      'base64',
    );

    // Act
    const reply = await send(body, { isBase64Encoded: true });

    // Assess
    expect(reply).toMatchObject({ type: 'pong', requestId: 'bin' });
  });

  const badInput: [string, unknown, string, string | RegExp, string | undefined][] = [
    ['no body', null, 'bad_request', 'empty message: send a JSON object', undefined],
    ['an empty body', '', 'bad_request', 'empty message: send a JSON object', undefined],
    ['not JSON', '{nope', 'bad_request', 'message is not valid JSON', undefined],
    ['a JSON array', '[]', 'bad_request', 'message must be a JSON object', undefined],
    ['no action', { requestId: 'r' }, 'bad_request', 'missing "action"', 'r'],
    [
      'an unknown action',
      { action: 'dance', requestId: 'r' },
      'unknown_action',
      /^unknown action/,
      'r',
    ],
    ['a missing field', { action: 'join', requestId: 'r' }, 'bad_request', /^group: /, 'r'],
    ['a bad group name', { action: 'join', group: 'a#b' }, 'bad_request', /^group: /, undefined],
    [
      'a frame over the size cap',
      { action: 'ping', pad: 'é'.repeat(MAX_CLIENT_FRAME_BYTES / 2) },
      'too_large',
      `message over ${MAX_CLIENT_FRAME_BYTES} bytes`,
      undefined,
    ],
    [
      'a group the token does not allow',
      { action: 'join', group: 'secret', requestId: 'r' },
      'forbidden',
      'your token does not allow group "secret"',
      'r',
    ],
    [
      'a register with one forbidden group',
      { action: 'register', clientType: 'viewer', groups: ['ops', 'secret'] },
      'forbidden',
      'your token does not allow group "secret"',
      undefined,
    ],
    [
      'an observer type without the worker role',
      { action: 'register', clientType: 'http', requestId: 'r' },
      'forbidden',
      'clientType "http" needs the worker or admin role',
      'r',
    ],
  ];

  it.each(badInput)(
    'answers %s with an error frame and changes nothing',
    async (_what, frame, code, message, requestId) => {
      // Prepare
      const { send, store } = setup();
      const before = JSON.stringify([...store.connections.entries()]);

      // Act
      const reply = await send(frame);

      // Assess
      expectEnvelope(reply, 'error');
      expect(reply.code).toBe(code);
      if (typeof message === 'string') expect(reply.message).toBe(message);
      else expect(reply.message).toMatch(message);
      if (requestId === undefined) expect(reply).not.toHaveProperty('requestId');
      else expect(reply.requestId).toBe(requestId);
      expect(JSON.stringify([...store.connections.entries()])).toBe(before);
    },
  );

  it('answers not_found when the connection record is gone', async () => {
    // Prepare
    const { send } = setup();

    // Act
    const reply = await send(
      { action: 'join', group: 'ops', requestId: 'r' },
      { connectionId: 'ghost' },
    );

    // Assess
    expectEnvelope(reply, 'error');
    expect(reply).toMatchObject({
      code: 'not_found',
      message: 'connection is not registered; reconnect',
      requestId: 'r',
    });
  });

  it('passes a domain error from the store through as its code', async () => {
    // Prepare
    const { send, store } = setup();
    jest.spyOn(store, 'leave').mockRejectedValue(new AppError('not_found', 'connection is gone'));

    // Act
    const reply = await send({ action: 'leave', group: 'ops' });

    // Assess
    expect(reply).toMatchObject({
      type: 'error',
      code: 'not_found',
      message: 'connection is gone',
    });
  });

  it.each<[string, Record<string, unknown>, 'get' | 'register' | 'join' | 'leave']>([
    ['register', { action: 'register', clientType: 'viewer', requestId: 'r' }, 'register'],
    ['join (reading the connection)', { action: 'join', group: 'ops', requestId: 'r' }, 'get'],
    ['join (writing)', { action: 'join', group: 'ops', requestId: 'r' }, 'join'],
    ['leave', { action: 'leave', group: 'ops', requestId: 'r' }, 'leave'],
  ])(
    'answers internal without detail when the store fails during %s',
    async (_what, frame, method) => {
      // Prepare
      const { send, store, log } = setup();
      jest.spyOn(store, method).mockRejectedValue(new Error('boom: ProvisionedThroughputExceeded'));

      // Act
      const reply = await send(frame);

      // Assess
      expectEnvelope(reply, 'error');
      expect(reply).toEqual({
        type: 'error',
        id: reply.id,
        at: NOW.toISOString(),
        code: 'internal',
        message: 'internal error; it has been logged',
        requestId: 'r',
      });
      expect(JSON.stringify(reply)).not.toMatch(/boom|Provisioned|stack/);
      const logged = log.at('error');
      expect(logged).toHaveLength(1);
      expect(logged[0]?.attributes[0]).toMatchObject({
        connectionId: 'c1',
        action: frame.action,
        error: {
          name: 'Error',
          message: 'boom: ProvisionedThroughputExceeded',
          stack: expect.any(String),
        },
      });
    },
  );

  it(`accepts a register with ${MAX_GROUPS_PER_CONNECTION} groups`, async () => {
    // Prepare
    const { send, store } = setup();
    const groups = Array.from({ length: MAX_GROUPS_PER_CONNECTION }, (_, i) => `g${i}`);

    // Act
    const reply = await send(
      { action: 'register', clientType: 'viewer', groups },
      { connectionId: 'a1' },
    );

    // Assess
    expect(reply.type).toBe('registered');
    expect((await store.get('a1'))?.groups).toHaveLength(MAX_GROUPS_PER_CONNECTION);
  });

  // BUG (src/ws/session.ts, `join` case, lines 66-71): MAX_GROUPS_PER_CONNECTION (src/names/names.ts:24,
  // "At most this many groups per connection") is only checked on the groups array of one register
  // frame (src/ws/client-frames.ts:17). `join` never looks at how many groups the connection is
  // already in, so a token with groups ["*"] can join any number of groups: the connection item's
  // `groups` set and its membership items grow without bound (every $disconnect and Gone clean-up
  // then needs ever more BatchWrites, and the item eventually hits DynamoDB's 400 KB limit, which
  // surfaces as `internal`). Expected: the 51st join is refused with an error frame (bad_request)
  // and nothing is written. Actual: {"type":"joined"} and the connection is in 51 groups.
  it(`refuses a join past ${MAX_GROUPS_PER_CONNECTION} groups`, async () => {
    // Prepare
    const { send, store } = setup();
    const groups = Array.from({ length: MAX_GROUPS_PER_CONNECTION }, (_, i) => `g${i}`);
    await send({ action: 'register', clientType: 'viewer', groups }, { connectionId: 'a1' });

    // Act
    const reply = await send(
      { action: 'join', group: 'one-too-many', requestId: 'r' },
      { connectionId: 'a1' },
    );

    // Assess
    expect(reply).toMatchObject({ type: 'error', code: 'bad_request', requestId: 'r' });
    expect((await store.get('a1'))?.groups).toHaveLength(MAX_GROUPS_PER_CONNECTION);
  });

  // BUG (src/ws/session.ts, `register` case, lines 55-57): same limit; register checks only the
  // size of the frame's own groups array, not the union with the groups already joined, so two
  // registers of 50 distinct groups leave the connection in 100. Expected: the second register is
  // refused (bad_request) and nothing is written. Actual: {"type":"registered"} with 100 groups.
  it(`refuses a register that would take a connection past ${MAX_GROUPS_PER_CONNECTION} groups`, async () => {
    // Prepare
    const { send, store } = setup();
    const first = Array.from({ length: MAX_GROUPS_PER_CONNECTION }, (_, i) => `a${i}`);
    const second = Array.from({ length: MAX_GROUPS_PER_CONNECTION }, (_, i) => `b${i}`);
    await send({ action: 'register', clientType: 'viewer', groups: first }, { connectionId: 'a1' });

    // Act
    const reply = await send(
      { action: 'register', clientType: 'viewer', groups: second },
      { connectionId: 'a1' },
    );

    // Assess
    expect(reply).toMatchObject({ type: 'error', code: 'bad_request' });
    expect((await store.get('a1'))?.groups).toHaveLength(MAX_GROUPS_PER_CONNECTION);
  });

  it('keeps answering after an error', async () => {
    // Prepare
    const { send } = setup();
    await send('{nope');

    // Act
    const pong = await send({ action: 'ping' });

    // Assess
    expect(pong.type).toBe('pong');
  });
});
