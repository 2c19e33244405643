import { createApiHandler } from '../../lambdas/http/api';
import { HTTP_ROUTES, routeKeyOf } from '../../lambdas/http/routes';
import type { HttpResult } from '../../lambdas/edge/http';
import { createWecomCallbackHandler } from '../../lambdas/http/wecom-callback';
import { createWecomBotHandler } from '../../lambdas/http/wecom-bot';
import { botKeysOf } from '../../lambdas/http/wecom-bot-config';
import { botCallbackRequest, botText } from '../../local/wecom-bot-client';
import { MemoryBotStore } from '../../src/wecom/bot/store';
import { createConsoleHandler } from '../../lambdas/http/console';
import { wecomKeysOf } from '../../lambdas/config/wecom-config';
import { DEV_WECOM, DEV_WECOM_BOT } from '../../local/wecom-dev';
import { buildAsyncApi } from '../../scripts/specs/asyncapi';
import { specInfo } from '../../scripts/specs/documents';
import { buildOpenApi } from '../../scripts/specs/openapi';
import { signToken } from '../../src/auth/token';
import { Pusher } from '../../src/push/pusher';
import { signature } from '../../src/wecom/crypto';
import { silentLog } from '../../src/ports/log';
import { MemoryTaskStore } from '../support/memory-task-store';
import {
  MemoryArtifactStore,
  MemoryFanoutQueue,
  MemoryMessageStore,
} from '../support/memory-stores';
import { ManualClock, MemoryConnectionStore } from '../unit/core/fakes';
import { RecordingPoster } from './answers';
import { expectDocumentedAnswer, expectDocumentedFrame } from './documented';

/*
 * Every answer the HTTP handlers give, for each route and its documented errors, is one the
 * OpenAPI document lists (status, media type, body schema); every frame an HTTP push sends is
 * one the AsyncAPI document lists. The handlers run on in-memory ports.
 */

const SECRET = 'specs-unit-secret-0123456789-0123456789-ab';
const NOW = new Date('2026-11-22T00:00:00.000Z');
const openapi = buildOpenApi(specInfo());
const asyncapi = buildAsyncApi(specInfo());
/** The route keys the tests below called. */
const called = new Set<string>();

interface Request {
  readonly routeKey: string;
  readonly token?: string;
  readonly pathParameters?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly rawQueryString?: string;
  readonly queryStringParameters?: Record<string, string>;
  readonly body?: string;
}

/** An HTTP API payload 2.0 event. */
const httpEvent = (r: Request) => ({
  version: '2.0',
  routeKey: r.routeKey,
  rawQueryString: r.rawQueryString ?? '',
  headers: {
    'content-type': 'application/json',
    ...(r.token ? { authorization: `Bearer ${r.token}` } : {}),
    ...r.headers,
  },
  ...(r.pathParameters ? { pathParameters: r.pathParameters } : {}),
  ...(r.queryStringParameters ? { queryStringParameters: r.queryStringParameters } : {}),
  ...(r.body === undefined ? {} : { body: r.body }),
  isBase64Encoded: false,
});

function setup(options: { inlineLimit?: number } = {}) {
  const clock = new ManualClock(NOW);
  const store = new MemoryConnectionStore();
  store.seed({ connectionId: 'c-alice', userId: 'alice', clientType: 'viewer', groups: ['ops'] });
  const poster = new RecordingPoster();
  const messages = new MemoryMessageStore();
  const tasks = new MemoryTaskStore();
  const handler = createApiHandler({
    store,
    pusher: new Pusher({ poster, store, log: silentLog }),
    secret: async () => SECRET,
    log: silentLog,
    clock,
    submit: {
      tasks,
      queue: { enqueue: async () => undefined },
      clock,
      log: silentLog,
      args: { servers: ['local'], defaultServer: 'local' },
    },
    messages,
    fanout: new MemoryFanoutQueue(),
    artifacts: new MemoryArtifactStore(),
    ...(options.inlineLimit === undefined ? {} : { inlineLimit: options.inlineLimit }),
  });
  /** Sends the request, checks the answer against the document, and answers it. */
  const call = async (r: Request, status: number): Promise<HttpResult> => {
    called.add(r.routeKey);
    const result = await handler(httpEvent(r));
    expect([r.routeKey, result.statusCode, result.body]).toEqual([r.routeKey, status, result.body]);
    expectDocumentedAnswer(openapi, r.routeKey, result);
    return result;
  };
  return { call, poster, store, messages, tasks };
}

const admin = () => signToken({ sub: 'ops', roles: ['admin'] }, SECRET, NOW);
const body = (r: HttpResult) => JSON.parse(r.body) as Record<string, string>;

describe('HTTP answers match the OpenAPI document', () => {
  it('for health, pushes (inline, as a link, queued, scheduled), deliveries and schedules', async () => {
    const token = await admin();
    const { call, poster } = setup();
    await call({ routeKey: 'GET /healthz' }, 200);
    const toUser = {
      routeKey: 'POST /users/{userId}/messages',
      token,
      pathParameters: { userId: 'alice' },
    };
    await call({ ...toUser, body: JSON.stringify({ data: { hello: 'world' }, from: 'ops' }) }, 200);
    await call({ ...toUser, body: JSON.stringify({ data: 'x'.repeat(200 * 1024) }) }, 200);
    await call(
      {
        routeKey: 'POST /groups/{group}/messages',
        token,
        pathParameters: { group: 'ops' },
        body: JSON.stringify({ data: [1, null], sendAt: '2026-11-23T08:55:00+08:00' }),
      },
      202,
    ).then(async (scheduled) => {
      const scheduledId = body(scheduled).scheduledId ?? '';
      const route = { token, pathParameters: { scheduledId } };
      await call({ routeKey: 'GET /scheduled/{scheduledId}', ...route }, 200);
      await call({ routeKey: 'DELETE /scheduled/{scheduledId}', ...route }, 200);
    });

    // Both message frames (data inline, and the link form for data over 128 KB) are documented.
    expect(poster.frames.map((f) => [f.connectionId, 'data' in f.frame])).toEqual([
      ['c-alice', true],
      ['c-alice', false],
    ]);
    for (const { frame } of poster.frames) expectDocumentedFrame(asyncapi, frame);

    const queued = setup({ inlineLimit: 0 });
    const fanout = await queued.call(
      { routeKey: 'POST /broadcast', token, body: '{"data":1}' },
      202,
    );
    const deliveryId = body(fanout).deliveryId ?? '';
    await queued.call(
      { routeKey: 'GET /deliveries/{deliveryId}', token, pathParameters: { deliveryId } },
      200,
    );
  });

  it('for presence, stats and tasks', async () => {
    const token = await admin();
    const { call } = setup();
    await call(
      { routeKey: 'GET /users/{userId}/presence', token, pathParameters: { userId: 'alice' } },
      200,
    );
    await call({ routeKey: 'GET /stats', token }, 200);
    const online = await call({ routeKey: 'GET /presence', token }, 200);
    expect(JSON.parse(online.body)).toMatchObject({ users: [{ userId: 'alice' }] });
    const submitted = await call(
      {
        routeKey: 'POST /tasks',
        token,
        headers: { 'Idempotency-Key': 'job-42' },
        body: JSON.stringify({ taskType: 'logic', args: ['x', 'y'], userId: 'alice' }),
      },
      202,
    );
    const taskId = body(submitted).taskId ?? '';
    await call({ routeKey: 'GET /tasks/{taskId}', token, pathParameters: { taskId } }, 200);
    const cancel = { routeKey: 'POST /tasks/{taskId}/cancel', token, pathParameters: { taskId } };
    expect(JSON.parse((await call(cancel, 200)).body)).toEqual({
      taskId,
      status: 'cancelled',
      changed: true,
    });
    expect(JSON.parse((await call(cancel, 200)).body)).toMatchObject({ changed: false });
    // Two more of alice's, then pages of 2: a cursor on the first page, none on the last.
    for (const word of ['a', 'b']) {
      await call(
        {
          routeKey: 'POST /tasks',
          token,
          body: JSON.stringify({ taskType: 'logic', args: [word], userId: 'alice' }),
        },
        202,
      );
    }
    const list = { routeKey: 'GET /tasks', token };
    const first = await call(
      { ...list, queryStringParameters: { userId: 'alice', limit: '2' } },
      200,
    );
    const cursor = String(JSON.parse(first.body).cursor);
    const last = await call(
      { ...list, queryStringParameters: { userId: 'alice', limit: '2', cursor } },
      200,
    );
    expect(JSON.parse(last.body).tasks).toHaveLength(1);
    expect(JSON.parse(last.body).cursor).toBeUndefined();
    await call({ ...list, queryStringParameters: { status: 'cancelled' } }, 200);
  });

  it('for each error a route documents', async () => {
    const token = await admin();
    const client = await signToken({ sub: 'alice' }, SECRET, NOW);
    const { call, messages, store } = setup();
    await call({ routeKey: 'GET /stats' }, 401);
    await call({ routeKey: 'GET /stats', token: client }, 403);
    await call({ routeKey: 'POST /tasks', token, body: '{' }, 400);
    await call(
      { routeKey: 'POST /tasks', token, headers: { 'Idempotency-Key': 'no spaces' }, body: '{}' },
      400,
    );
    await call({ routeKey: 'GET /tasks/{taskId}', token, pathParameters: { taskId: 'x' } }, 400);
    const unknownTask = { taskId: 't_aaaaaaaaaaaaaaaaaaaa' };
    await call({ routeKey: 'GET /tasks/{taskId}', token, pathParameters: unknownTask }, 404);
    const cancel = 'POST /tasks/{taskId}/cancel';
    await call({ routeKey: cancel, token, pathParameters: unknownTask }, 404);
    await call({ routeKey: cancel, token, pathParameters: { taskId: 'x' } }, 400);
    await call({ routeKey: cancel, token: client, pathParameters: unknownTask }, 403);
    await call({ routeKey: 'GET /tasks', token, queryStringParameters: { limit: '2' } }, 400);
    await call(
      { routeKey: 'GET /tasks', token, queryStringParameters: { userId: 'a', cursor: 'zz' } },
      400,
    );
    const tooLarge = JSON.stringify({ data: 'x'.repeat(5 * 1024 * 1024) });
    await call({ routeKey: 'POST /broadcast', token, body: tooLarge }, 413);

    const scheduled = await call(
      {
        routeKey: 'POST /broadcast',
        token,
        body: JSON.stringify({ data: 1, sendAt: '2026-12-01T00:00:00Z' }),
      },
      202,
    );
    const scheduledId = body(scheduled).scheduledId ?? '';
    const record = messages.scheduled.get(scheduledId);
    if (record) messages.scheduled.set(scheduledId, { ...record, state: 'sent' });
    const route = { routeKey: 'DELETE /scheduled/{scheduledId}', token };
    await call({ ...route, pathParameters: { scheduledId } }, 409);

    jest.spyOn(store, 'countByClientType').mockRejectedValueOnce(new Error('table is gone'));
    await call({ routeKey: 'GET /stats', token }, 500);
  });
});

describe('WeCom answers match the OpenAPI document', () => {
  const keys = wecomKeysOf(DEV_WECOM, 'test');
  const ts = String(Math.floor(NOW.getTime() / 1000));
  const signed = (cipherText: string, extra: Record<string, string> = {}) =>
    new URLSearchParams({
      msg_signature: signature(keys.token, ts, 'n0nce', cipherText),
      timestamp: ts,
      nonce: 'n0nce',
      ...extra,
    }).toString();
  const appMessage = (content: string) =>
    `<xml><ToUserName>ww1</ToUserName><FromUserName>alice</FromUserName><CreateTime>${ts}</CreateTime><MsgType>text</MsgType><Content>${content}</Content><MsgId>1</MsgId></xml>`;

  function setupWecom() {
    const handler = createWecomCallbackHandler({
      keys: async () => keys,
      submit: {
        tasks: new MemoryTaskStore(),
        queue: { enqueue: async () => undefined },
        clock: { now: () => NOW },
        log: silentLog,
        args: { servers: ['local'], defaultServer: 'local' },
      },
      commands: { servers: ['local'], defaultServer: 'local' },
      log: silentLog,
      clock: { now: () => NOW },
    });
    return async (r: Request, status: number) => {
      called.add(r.routeKey);
      const result = await handler(httpEvent(r));
      expect([r.routeKey, result.statusCode, result.body]).toEqual([
        r.routeKey,
        status,
        result.body,
      ]);
      expectDocumentedAnswer(openapi, r.routeKey, result);
      return result;
    };
  }

  it('for the URL check, XML and JSON callbacks and their refusals', async () => {
    const call = setupWecom();
    const echostr = keys.cipher.encrypt('challenge-42');
    const check = await call(
      { routeKey: 'GET /wecom/callback', rawQueryString: signed(echostr, { echostr }) },
      200,
    );
    expect(check.body).toBe('challenge-42');

    const xml = keys.cipher.encrypt(appMessage('help'));
    const reply = await call(
      {
        routeKey: 'POST /wecom/callback',
        rawQueryString: signed(xml),
        body: `<xml><ToUserName>ww1</ToUserName><Encrypt>${xml}</Encrypt></xml>`,
      },
      200,
    );
    expect(reply.headers['content-type']).toMatch(/^application\/xml/);
    const json = keys.cipher.encrypt(appMessage('help'));
    const jsonReply = await call(
      {
        routeKey: 'POST /wecom/callback',
        rawQueryString: signed(json),
        body: JSON.stringify({ encrypt: json }),
      },
      200,
    );
    expect(jsonReply.headers['content-type']).toMatch(/^application\/json/);
    const event = keys.cipher.encrypt(
      appMessage('x')
        .replace('>text<', '>event<')
        .replace('<MsgId>', '<Event>enter_agent</Event><MsgId>'),
    );
    const success = await call(
      {
        routeKey: 'POST /wecom/callback',
        rawQueryString: signed(event),
        body: `<xml><Encrypt>${event}</Encrypt></xml>`,
      },
      200,
    );
    expect(success.body).toBe('success');

    await call({ routeKey: 'GET /wecom/callback', rawQueryString: 'timestamp=1' }, 400);
    await call(
      {
        routeKey: 'POST /wecom/callback',
        rawQueryString: signed('other'),
        body: `<xml><Encrypt>${xml}</Encrypt></xml>`,
      },
      401,
    );
    await call(
      { routeKey: 'POST /wecom/callback', rawQueryString: signed(xml), body: 'x'.repeat(70_000) },
      413,
    );
  });
});

describe('WeCom intelligent bot answers match the OpenAPI document', () => {
  const keys = botKeysOf(DEV_WECOM_BOT, 'test');
  const ts = String(Math.floor(NOW.getTime() / 1000));

  it('for the URL check, a stream answer, an empty answer and the refusals', async () => {
    const handler = createWecomBotHandler({
      keys: async () => keys,
      submit: {
        tasks: new MemoryTaskStore(),
        queue: { enqueue: async () => undefined },
        clock: { now: () => NOW },
        log: silentLog,
        args: { servers: ['local'], defaultServer: 'local' },
      },
      commands: { servers: ['local'], defaultServer: 'local' },
      store: new MemoryBotStore(),
      timing: { windowMs: 360_000, marginMs: 30_000 },
      log: silentLog,
      clock: { now: () => NOW },
    });
    const call = async (r: Request, status: number) => {
      called.add(r.routeKey);
      const result = await handler(httpEvent(r));
      expect([r.routeKey, result.statusCode]).toEqual([r.routeKey, status]);
      expectDocumentedAnswer(openapi, r.routeKey, result);
      return result;
    };
    const echostr = keys.cipher.encrypt('challenge-7');
    const q = new URLSearchParams({
      msg_signature: signature(keys.token, ts, 'n0nce', echostr),
      timestamp: ts,
      nonce: 'n0nce',
      echostr,
    }).toString();
    expect((await call({ routeKey: 'GET /wecom/bot', rawQueryString: q }, 200)).body).toBe(
      'challenge-7',
    );
    const text = botCallbackRequest(DEV_WECOM_BOT, botText({}, 'download 12345'), { now: NOW });
    const stream = await call(
      { routeKey: 'POST /wecom/bot', rawQueryString: text.query, body: text.body },
      200,
    );
    expect(stream.headers['content-type']).toMatch(/^application\/json/);
    const event = botCallbackRequest(
      DEV_WECOM_BOT,
      {
        msgid: '9',
        aibotid: 'a',
        chattype: 'single',
        from: { userid: 'u' },
        msgtype: 'event',
        event: { eventtype: 'feedback_event' },
      },
      { now: NOW },
    );
    expect(
      (
        await call(
          { routeKey: 'POST /wecom/bot', rawQueryString: event.query, body: event.body },
          200,
        )
      ).body,
    ).toBe('');
    await call({ routeKey: 'GET /wecom/bot', rawQueryString: 'timestamp=1' }, 400);
    await call(
      {
        routeKey: 'POST /wecom/bot',
        rawQueryString: text.query.replace(/msg_signature=./, 'msg_signature=0'),
        body: text.body,
      },
      401,
    );
    await call(
      { routeKey: 'POST /wecom/bot', rawQueryString: text.query, body: 'x'.repeat(70_000) },
      413,
    );
  });
});

describe('console answers match the OpenAPI document', () => {
  const handler = createConsoleHandler(() => ({ wsUrl: 'wss://ws.example.com/prod' }));
  const call = async (routeKey: string, rawPath: string, status: number) => {
    called.add(routeKey);
    const result = await handler({ ...httpEvent({ routeKey }), rawPath });
    expect([rawPath, result.statusCode]).toEqual([rawPath, status]);
    expectDocumentedAnswer(openapi, routeKey, result);
    return result;
  };

  it('for the page, its files, the redirect and an unknown file', async () => {
    await call('GET /console', '/console', 308);
    for (const file of ['', 'index.html', 'app.js', 'console.css', 'config.json']) {
      await call('GET /console/{proxy+}', `/console/${file}`, 200);
    }
    await call('GET /console/{proxy+}', '/console/nope.txt', 404);
  });
});

it('covers every route of the table', () => {
  expect([...called].sort()).toEqual(HTTP_ROUTES.map(routeKeyOf).sort());
});
