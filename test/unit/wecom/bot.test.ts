/**
 * The intelligent bot's JSON callback (lambdas/http/wecom-bot.ts) on in-memory ports:
 * known-answer shapes from WeCom's published callbacks, encrypted with a random key for the
 * empty receive id, and every bad input it refuses.
 */
import { randomBytes } from 'node:crypto';
import { createWecomBotHandler } from '../../../lambdas/http/wecom-bot';
import type { HttpResult } from '../../../lambdas/edge/http';
import { botKeysOf } from '../../../lambdas/http/wecom-bot-config';
import {
  botCallbackRequest,
  botCardClick,
  botMessage,
  botRefresh,
  botText,
} from '../../../local/wecom-bot-client';
import { silentLog } from '../../../src/ports/log';
import type { Task } from '../../../src/tasks/task';
import { signature } from '../../../src/wecom/crypto';
import { BotAwareChatNotifier } from '../../../src/wecom/bot/delivery';
import { progressBar, truncate, MAX_STREAM_BYTES } from '../../../src/wecom/bot/render';
import { MemoryBotStore } from '../../../src/wecom/bot/store';
import { streamIdFor, taskOfStreamId } from '../../../src/wecom/bot/stream-id';
import { MemoryTaskStore } from '../../support/memory-task-store';

const settings = {
  token: `bot-${randomBytes(6).toString('hex')}`,
  // A random EncodingAESKey: 43 base64 characters.
  encodingAesKey: randomBytes(33).toString('base64').replace(/=/g, '').slice(0, 43),
};
const keys = botKeysOf(settings, 'test');
const NOW = new Date('2026-12-01T00:00:00Z');
const clock = { now: () => NOW };

function setup() {
  const tasks = new MemoryTaskStore();
  const queued: string[] = [];
  const store = new MemoryBotStore();
  const handler = createWecomBotHandler({
    keys: () => Promise.resolve(keys),
    submit: {
      tasks,
      queue: { enqueue: (m) => Promise.resolve(void queued.push(m.taskId)) },
      clock,
      log: silentLog,
      args: { servers: ['local'], defaultServer: 'local' },
    },
    commands: { servers: ['local'], defaultServer: 'local' },
    store,
    timing: { windowMs: 360_000, marginMs: 30_000 },
    log: silentLog,
    clock,
  });
  const post = (request: { query: string; body: string }) =>
    handler({ routeKey: 'POST /wecom/bot', rawQueryString: request.query, body: request.body });
  const send = (message: unknown, options?: Parameters<typeof botCallbackRequest>[2]) =>
    post(botCallbackRequest(settings, message, { now: NOW, ...options }));
  return { tasks, queued, store, handler, post, send };
}

/** A decrypted answer (stream, text or card update). */
interface Reply {
  msgtype?: string;
  response_type?: string;
  stream: { id: string; finish: boolean; content: string };
  text?: { content: string };
  template_card: {
    card_type: string;
    main_title: { title: string; desc: string };
    button_list: { key: string }[];
  };
}

/** Checks the answer's signature and decrypts it. */
function open(result: HttpResult): Reply {
  expect(result.statusCode).toBe(200);
  const env = JSON.parse(result.body) as {
    encrypt: string;
    msgsignature: string;
    timestamp: number;
    nonce: string;
  };
  expect(signature(settings.token, String(env.timestamp), env.nonce, env.encrypt)).toBe(
    env.msgsignature,
  );
  const { message, receiveId } = keys.cipher.decrypt(env.encrypt);
  expect(receiveId).toBe('');
  return JSON.parse(message) as Reply;
}

const errorCode = (r: HttpResult) => (JSON.parse(r.body) as { error: { code: string } }).error.code;

describe('bot callback: published shapes', () => {
  it('answers a text command with a stream tied to its task, and a refresh with its state', async () => {
    const { send, tasks, queued } = setup();
    const text = botText(
      {
        fromUser: 'alice',
        chatId: 'wrkSFfCgAAxxxx',
        responseUrl: 'https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=x',
      },
      '@RobotA download 12345',
      'CAIQ16HMjQYY',
    );
    const reply = open(await send(text));
    expect(reply.msgtype).toBe('stream_with_template_card');
    expect(reply.stream.finish).toBe(false);
    expect(reply.template_card.card_type).toBe('button_interaction');
    expect(queued).toHaveLength(1);
    const taskId = taskOfStreamId(settings.token, 'aib-taskwire-dev', reply.stream.id as string);
    expect(taskId).toBe(queued[0]);

    await tasks.transition(taskId ?? '', { to: 'running' });
    await tasks.setProgress(taskId ?? '', 0.4);
    const refresh = open(await send(botRefresh({ fromUser: 'alice' }, reply.stream.id as string)));
    expect(refresh).toMatchObject({
      msgtype: 'stream',
      stream: { id: reply.stream.id, finish: false },
    });
    expect(refresh.stream.content).toContain('[████░░░░░░] 40%');
  });

  it('reads a mixed message’s text parts as the command', async () => {
    const { send, queued } = setup();
    const mixed = botMessage(
      {},
      {
        msgtype: 'mixed',
        mixed: {
          msg_item: [
            { msgtype: 'text', text: { content: 'logic' } },
            { msgtype: 'image', image: { url: 'https://x/y' } },
            { msgtype: 'text', text: { content: 'summary' } },
          ],
        },
      },
    );
    const reply = open(await send(mixed));
    expect(reply.msgtype).toBe('stream_with_template_card');
    expect(queued).toHaveLength(1);
  });

  it('answers enter_chat with the usage text, and help with a finished stream', async () => {
    const { send } = setup();
    const enter = open(
      await send(
        botMessage(
          {},
          { msgtype: 'event', create_time: 1700000000, event: { eventtype: 'enter_chat' } },
        ),
      ),
    );
    expect(enter).toMatchObject({
      msgtype: 'text',
      text: { content: expect.stringContaining('download') },
    });
    const help = open(await send(botText({}, 'help')));
    expect(help.stream.finish).toBe(true);
  });

  it('answers the URL check with the echostr for the empty receive id', async () => {
    const { handler } = setup();
    const echostr = keys.cipher.encrypt('1234567890');
    const ts = String(Math.floor(NOW.getTime() / 1000));
    const q = new URLSearchParams({
      msg_signature: signature(settings.token, ts, 'n1', echostr),
      timestamp: ts,
      nonce: 'n1',
      echostr,
    });
    const r = await handler({ routeKey: 'GET /wecom/bot', rawQueryString: q.toString() });
    expect(r).toMatchObject({ statusCode: 200, body: '1234567890' });
  });
});

describe('bot callback: bad input is a 4xx and starts nothing', () => {
  const text = () => botText({ fromUser: 'mallory' }, 'download 12345');

  it.each([
    [
      'bad signature',
      (r: { query: string; body: string }) => ({
        ...r,
        query: r.query.replace(/msg_signature=./, 'msg_signature=0'),
      }),
      401,
      'bad_signature',
    ],
    [
      'an XML body',
      (r: { query: string; body: string }) => ({
        ...r,
        body: `<xml><Encrypt>${(JSON.parse(r.body) as { encrypt: string }).encrypt}</Encrypt></xml>`,
      }),
      400,
      'bad_format',
    ],
    [
      'bad JSON envelope',
      (r: { query: string; body: string }) => ({ ...r, body: '{"encrypt":' }),
      400,
      'bad_json',
    ],
    [
      'no encrypt field',
      (r: { query: string; body: string }) => ({ ...r, body: '{}' }),
      400,
      'missing_field',
    ],
    [
      'no query',
      (r: { query: string; body: string }) => ({ ...r, query: '' }),
      400,
      'missing_field',
    ],
  ])('%s', async (_name, mangle, status, code) => {
    const { post, queued } = setup();
    const r = await post(mangle(botCallbackRequest(settings, text(), { now: NOW })));
    expect(r.statusCode).toBe(status);
    expect(errorCode(r)).toBe(code);
    expect(queued).toHaveLength(0);
  });

  it('undecryptable: signed garbage ciphertext', async () => {
    const { post, queued } = setup();
    const encrypt = randomBytes(48).toString('base64');
    const ts = String(Math.floor(NOW.getTime() / 1000));
    const q = new URLSearchParams({
      msg_signature: signature(settings.token, ts, 'n', encrypt),
      timestamp: ts,
      nonce: 'n',
    });
    const r = await post({ query: q.toString(), body: JSON.stringify({ encrypt }) });
    expect(r.statusCode).toBe(400);
    expect(['bad_padding', 'bad_length', 'bad_utf8', 'bad_receive_id']).toContain(errorCode(r));
    expect(queued).toHaveLength(0);
  });

  it('a non-empty receive id (encrypted for a corp) is refused', async () => {
    const { send, queued } = setup();
    const r = await send(text(), { receiveId: 'ww-some-corp' });
    expect(r.statusCode).toBe(400);
    expect(errorCode(r)).toBe('bad_receive_id');
    expect(queued).toHaveLength(0);
  });

  it('a stale timestamp is refused', async () => {
    const { send } = setup();
    const r = await send(text(), { now: new Date(NOW.getTime() - 3600_000) });
    expect(r.statusCode).toBe(400);
  });

  it.each([
    ['not JSON', 'hello', 'bad_format'],
    ['bad JSON', '{"msgid":', 'bad_json'],
    [
      'no msgid',
      JSON.stringify({
        aibotid: 'a',
        chattype: 'single',
        from: { userid: 'u' },
        msgtype: 'text',
        text: { content: 'help' },
      }),
      'missing_field',
    ],
    [
      'no from.userid',
      JSON.stringify({
        msgid: '1',
        aibotid: 'a',
        chattype: 'single',
        from: {},
        msgtype: 'text',
        text: { content: 'help' },
      }),
      'missing_field',
    ],
    [
      'bad chattype',
      JSON.stringify({
        msgid: '1',
        aibotid: 'a',
        chattype: 'room',
        from: { userid: 'u' },
        msgtype: 'text',
        text: { content: 'help' },
      }),
      'bad_field',
    ],
    [
      'text without text',
      JSON.stringify({
        msgid: '1',
        aibotid: 'a',
        chattype: 'single',
        from: { userid: 'u' },
        msgtype: 'text',
      }),
      'missing_field',
    ],
    [
      'stream without id',
      JSON.stringify({
        msgid: '1',
        aibotid: 'a',
        chattype: 'single',
        from: { userid: 'u' },
        msgtype: 'stream',
        stream: {},
      }),
      'missing_field',
    ],
    [
      'response_url not http',
      JSON.stringify({
        msgid: '1',
        aibotid: 'a',
        chattype: 'single',
        from: { userid: 'u' },
        response_url: 'file:///etc/passwd',
        msgtype: 'text',
        text: { content: 'help' },
      }),
      'bad_field',
    ],
  ])('%s', async (_name, plaintext, code) => {
    const { send, queued } = setup();
    const r = await send(undefined, { plaintext });
    expect(r.statusCode).toBe(400);
    expect(errorCode(r)).toBe(code);
    expect(queued).toHaveLength(0);
  });

  it('a replayed msgid creates no second task and answers the same stream id', async () => {
    const { send, queued } = setup();
    const message = botText({ fromUser: 'alice' }, 'download 12345', '4561255354251345929');
    const a = open(await send(message));
    const b = open(await send(message));
    expect(b.stream.id).toBe(a.stream.id);
    expect(queued).toHaveLength(1);
  });

  it('a refresh with a forged stream id, or another bot’s, finishes with "no such task"', async () => {
    const { send } = setup();
    const first = open(await send(botText({}, 'download 12345')));
    const taskId =
      taskOfStreamId(settings.token, 'aib-taskwire-dev', first.stream.id as string) ?? '';
    for (const id of [
      `tw1.${taskId}.AAAAAAAAAAAAAAAAAAAAAA`,
      streamIdFor('other-token', 'aib-taskwire-dev', taskId),
      'junk',
    ]) {
      const r = open(await send(botRefresh({}, id)));
      expect(r.stream).toMatchObject({
        id,
        finish: true,
        content: expect.stringMatching(/no such task/),
      });
    }
    const other = open(
      await send(botRefresh({ aiBotId: 'another-bot' }, first.stream.id as string)),
    );
    expect(other.stream.content).toMatch(/no such task/);
  });

  it('a card click on a task the clicker may not touch answers why and changes nothing', async () => {
    const { send, tasks } = setup();
    const first = open(await send(botText({ fromUser: 'alice' }, 'download 12345')));
    const key = first.template_card.button_list[0]?.key ?? '';
    const r = open(await send(botCardClick({ fromUser: 'mallory' }, key)));
    expect(r.response_type).toBe('update_template_card');
    expect(r.template_card.main_title.desc).toMatch(/only the person who asked/);
    const taskId = key.split(':')[1] ?? '';
    expect((await tasks.get(taskId))?.status).toBe('queued');
    const unknown = open(
      await send(botCardClick({ fromUser: 'alice' }, 'retry:t_aaaaaaaaaaaaaaaaaaaa')),
    );
    expect(unknown.template_card.main_title.title).toMatch(/no such task/);
  });
});

describe('bot rendering and delivery', () => {
  it('draws a progress bar and keeps content within 20,480 bytes', () => {
    expect(progressBar(0.6)).toBe('[██████░░░░] 60%');
    const long = truncate('字'.repeat(20_000), 't_x');
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_STREAM_BYTES);
    expect(long).toMatch(/truncated/);
  });

  /** A bot-aware notifier whose fetch only records the URLs it is called with. */
  function recordingNotifier(defaultWebhookUrl?: string) {
    const store = new MemoryBotStore();
    const calls: string[] = [];
    const fakeFetch = ((url: string) => {
      calls.push(String(url));
      return Promise.resolve(new Response('{"errcode":0}'));
    }) as unknown as typeof fetch;
    const notifier = new BotAwareChatNotifier(
      {
        fetch: fakeFetch,
        limiter: { tryAcquire: () => Promise.resolve({ ok: true }) },
        log: silentLog,
        ...(defaultWebhookUrl !== undefined ? { defaultWebhookUrl } : {}),
      },
      { store, clock },
    );
    return { store, calls, notifier };
  }

  /** A succeeded logic task the bot's user `u` asked for. */
  const succeeded = (taskId: string) =>
    ({
      taskId,
      taskType: 'logic',
      args: {},
      status: 'succeeded',
      source: 'wecom',
      requester: { wecom: { userId: 'u' } },
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
      expiresAt: 0,
    }) as Task;

  it('never calls a response_url on a non-WeCom host (the webhook tells instead)', async () => {
    const { store, calls, notifier } = recordingNotifier(
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k',
    );
    await store.create({
      taskId: 't_evil',
      aiBotId: 'a',
      userId: 'u',
      chatType: 'single',
      responseUrl: 'https://evil.example.com/steal',
      createdAt: NOW.toISOString(),
      windowEndsAt: NOW.toISOString(),
      handedOffAt: NOW.toISOString(),
      expiresAt: 0,
    });
    await notifier.notify(succeeded('t_evil'));
    expect(calls.some((u) => u.includes('evil.example.com'))).toBe(false);
    expect(calls).toEqual(['https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k']);
    expect((await store.get('t_evil'))?.delivery).toBe('webhook');
  });

  it('posts a handed-off result to a WeCom response_url exactly once', async () => {
    const { store, calls, notifier } = recordingNotifier();
    const url = 'https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=abc';
    await store.create({
      taskId: 't_ok',
      aiBotId: 'a',
      userId: 'u',
      chatType: 'single',
      responseUrl: url,
      createdAt: NOW.toISOString(),
      windowEndsAt: new Date(NOW.getTime() + 1000).toISOString(),
      expiresAt: 0,
    });
    await store.handOff('t_ok', NOW.toISOString());
    const task = succeeded('t_ok');
    await notifier.notify(task);
    await notifier.notify(task);
    expect(calls).toEqual([url]);
    expect((await store.get('t_ok'))?.delivery).toBe('response_url');
  });
});
