import type { LocalRuntime } from '../../local/runtime';
import { postCallback, sendChatMessage, wecomCallbackRequest } from '../../local/wecom-client';
import { signature, createWecomCipher } from '../../src/wecom/crypto';
import { startTestRuntime } from '../support/runtime';
import { allTasks, queueDepth, rawEncrypt, signedRequest, wecomPlaintext } from '../support/wecom';

let rt: LocalRuntime;
let callbackUrl: string;
const depth = () => queueDepth(rt.sqs, rt.queueUrls['taskwire-download'] ?? '');

beforeAll(async () => {
  // Ingress alone: no workers, so queue depths and task counts stay as the callback left them.
  rt = await startTestRuntime({ workers: false });
  callbackUrl = `${rt.httpUrl}/wecom/callback`;
});
afterAll(async () => {
  await rt.stop();
});

describe('WeCom callback: tasks', () => {
  it('queues one task for `download 12345`, however often and however concurrently WeCom retries', async () => {
    // Prepare
    const tasksBefore = (await allTasks(rt.dynamoEndpoint)).length;
    const queuedBefore = await depth();
    const request = wecomCallbackRequest(rt.wecom, { text: 'download 12345', fromUser: 'alice' });

    // Act: the first delivery, 3 sequential retries, then 3 at once
    const first = await postCallback(callbackUrl, rt.wecom, request);
    for (let i = 0; i < 3; i++) await postCallback(callbackUrl, rt.wecom, request);
    const concurrent = await Promise.all(
      [1, 2, 3].map(() => postCallback(callbackUrl, rt.wecom, request)),
    );

    // Assess
    expect(first.status).toBe(200);
    expect(first.replyText).toMatch(/accepted: download 12345 local → t_[a-z2-7]{20}/);
    for (const a of concurrent) expect(a.replyText).toBe(first.replyText);
    const tasks = await allTasks(rt.dynamoEndpoint);
    expect(tasks).toHaveLength(tasksBefore + 1);
    expect(await depth()).toBe(queuedBefore + 1);
    const taskId = /(t_[a-z2-7]{20})/.exec(first.replyText ?? '')?.[1] ?? '';
    const task = await rt.tasks.get(taskId);
    expect(task).toMatchObject({
      taskType: 'download',
      status: 'queued',
      source: 'wecom',
      args: { dsNumber: '12345', server: 'local' },
      requester: { userId: 'alice', wecom: { userId: 'alice' } },
    });
    expect(task?.enqueuedAt).toBeDefined();
  });

  it('queues one task for 3 concurrent first deliveries of the same message', async () => {
    const before = await depth();
    const request = wecomCallbackRequest(rt.wecom, { text: '下载 box7 12345', fromUser: 'bob' });
    const answers = await Promise.all(
      [1, 2, 3].map(() => postCallback(callbackUrl, rt.wecom, request)),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((a) => a.replyText)).size).toBe(1);
    expect(await depth()).toBe(before + 1);
  });

  it('keeps the WeCom chat and webhook on the task for the results', async () => {
    const answer = await sendChatMessage(callbackUrl, rt.wecom, {
      text: 'logic summary',
      fromUser: 'carol',
      chatId: 'chat-1',
      webhookUrl: 'http://127.0.0.1:9/hook',
    });
    const taskId = /(t_[a-z2-7]{20})/.exec(answer.replyText ?? '')?.[1] ?? '';
    expect((await rt.tasks.get(taskId))?.requester).toEqual({
      userId: 'carol',
      wecom: { userId: 'carol', chatId: 'chat-1', webhookUrl: 'http://127.0.0.1:9/hook' },
    });
  });
});

describe('WeCom callback: replies', () => {
  it.each([
    ['help', /download \[boxId\] <dsNumber> \[server\]/],
    ['dance now', /unknown command "dance"/],
    ['download', /Usage: download/],
    ['download 1 2 nowhere', /unknown server "nowhere"/],
    ['status t_aaaaaaaaaaaaaaaaaaaa', /no such task/],
    [`logic ${'w '.repeat(40)}`, /args/],
    [`logic ${'x'.repeat(300)}`, /args/],
  ])('answers %p with text and queues nothing', async (text, reply) => {
    const before = (await allTasks(rt.dynamoEndpoint)).length;
    const answer = await sendChatMessage(callbackUrl, rt.wecom, { text });
    expect(answer.status).toBe(200);
    expect(answer.replyText).toMatch(reply);
    expect((await allTasks(rt.dynamoEndpoint)).length).toBe(before);
  });

  it("answers `status <taskId>` with the task's state", async () => {
    const accepted = await sendChatMessage(callbackUrl, rt.wecom, { text: 'logic a b' });
    const taskId = /(t_[a-z2-7]{20})/.exec(accepted.replyText ?? '')?.[1] ?? '';
    const status = await sendChatMessage(callbackUrl, rt.wecom, { text: `status ${taskId}` });
    expect(status.replyText).toBe(`${taskId} logic: queued`);
  });

  it('answers the URL check with the decrypted echostr, + and / included', async () => {
    // Prepare: an echostr whose base64 holds + and /
    const cipher = createWecomCipher({
      encodingAesKey: rt.wecom.encodingAesKey,
      receiveId: rt.wecom.corpId,
    });
    let echostr = '';
    let plain = '';
    for (let i = 0; !/[+/]/.test(echostr); i++) {
      plain = `echo-${i}-${'x'.repeat(i % 40)}`;
      echostr = cipher.encrypt(plain);
    }
    const timestamp = String(Math.floor(Date.now() / 1000));
    const query = new URLSearchParams({
      msg_signature: signature(rt.wecom.token, timestamp, 'abc', echostr),
      timestamp,
      nonce: 'abc',
      echostr,
    });
    // Act
    const res = await fetch(
      `${callbackUrl}?${query.toString().replace(/\+/g, '%20').replace(/%20/g, '%2B')}`,
    );
    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe(plain);
  });
});

describe('WeCom callback: bad input is a 4xx, queues nothing and writes nothing', () => {
  const now = () => String(Math.floor(Date.now() / 1000));
  const valid = () => wecomCallbackRequest(rt.wecom, { text: 'download 12345' });

  const cases: [string, () => { query: string; body: string }, number, string][] = [
    [
      'a wrong signature',
      () => {
        const r = valid();
        return { ...r, query: r.query.replace(/msg_signature=[0-9a-f]{4}/, 'msg_signature=0000') };
      },
      401,
      'bad_signature',
    ],
    ['missing query parameters', () => ({ ...valid(), query: '' }), 400, 'missing_field'],
    [
      'a stale timestamp',
      () =>
        signedRequest(rt.wecom, rawEncrypt(rt.wecom, wecomPlaintext('<xml/>', rt.wecom.corpId)), {
          timestamp: String(Number(now()) - 3600),
        }),
      400,
      'bad_field',
    ],
    [
      'a non-numeric timestamp',
      () => signedRequest(rt.wecom, 'AAAA', { timestamp: '12ab' }),
      400,
      'missing_field',
    ],
    [
      'a body that is neither XML nor JSON',
      () => signedRequest(rt.wecom, 'x', { body: () => 'hello' }),
      400,
      'bad_format',
    ],
    [
      'an Encrypt that is not base64',
      () => signedRequest(rt.wecom, '!!!not base64!!!'),
      400,
      'bad_base64',
    ],
    [
      'an Encrypt of the wrong length',
      () => signedRequest(rt.wecom, Buffer.alloc(40).toString('base64')),
      400,
      'bad_length',
    ],
    [
      'bad padding',
      () =>
        signedRequest(
          rt.wecom,
          rawEncrypt(
            rt.wecom,
            wecomPlaintext('<xml><MsgType>text</MsgType></xml>', rt.wecom.corpId, 0),
          ),
        ),
      400,
      'bad_padding',
    ],
    [
      'a wrong receive id',
      () =>
        signedRequest(
          rt.wecom,
          rawEncrypt(
            rt.wecom,
            wecomPlaintext(
              '<xml><MsgType>text</MsgType><Content>download 1</Content></xml>',
              'ww-somebody-else',
            ),
          ),
        ),
      400,
      'bad_receive_id',
    ],
    ['an oversized body', () => signedRequest(rt.wecom, 'A'.repeat(70 * 1024)), 413, 'too_large'],
    [
      'a DOCTYPE payload',
      () =>
        signedRequest(rt.wecom, 'AAAA', {
          body: (e) =>
            `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><xml><Encrypt>${e}</Encrypt></xml>`,
        }),
      400,
      'bad_xml',
    ],
    [
      'an entity inside the decrypted message',
      () =>
        signedRequest(
          rt.wecom,
          rawEncrypt(
            rt.wecom,
            wecomPlaintext(
              '<!DOCTYPE x [<!ENTITY e "download 1">]><xml><MsgType>text</MsgType><Content>&e;</Content><FromUserName>a</FromUserName></xml>',
              rt.wecom.corpId,
            ),
          ),
        ),
      400,
      'bad_xml',
    ],
    [
      'an empty text',
      () =>
        signedRequest(
          rt.wecom,
          rawEncrypt(
            rt.wecom,
            wecomPlaintext(
              `<xml><ToUserName>x</ToUserName><FromUserName>a</FromUserName><CreateTime>${now()}</CreateTime><MsgType>text</MsgType><Content>   </Content><MsgId>1</MsgId></xml>`,
              rt.wecom.corpId,
            ),
          ),
        ),
      400,
      'empty_text',
    ],
    [
      'a JSON envelope without encrypt',
      () => signedRequest(rt.wecom, 'x', { body: () => '{"tousername":"a"}' }),
      400,
      'missing_field',
    ],
  ];

  it.each(cases)('%s', async (_name, make, status, code) => {
    // Prepare
    const tasksBefore = (await allTasks(rt.dynamoEndpoint)).length;
    const queuedBefore = await depth();
    const { query, body } = make();
    // Act
    const res = await fetch(`${callbackUrl}?${query}`, { method: 'POST', body });
    // Assess
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ error: { code, message: expect.any(String) } });
    expect((await allTasks(rt.dynamoEndpoint)).length).toBe(tasksBefore);
    expect(await depth()).toBe(queuedBefore);
  });

  it('answers a URL check with a bad signature with 401', async () => {
    const res = await fetch(
      `${callbackUrl}?msg_signature=00&timestamp=${now()}&nonce=a&echostr=AAAA`,
    );
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'bad_signature' } });
  });

  it('answers a callback with a valid signature from a JSON envelope', async () => {
    const r = valid();
    const encrypt = /CDATA\[([^\]]+)\]\]><\/Encrypt>/.exec(r.body)?.[1] ?? '';
    const res = await fetch(`${callbackUrl}?${r.query}`, {
      method: 'POST',
      body: JSON.stringify({ encrypt }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/json/);
  });
});
