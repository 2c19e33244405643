import type { LocalRuntime } from '../../local/runtime';
import {
  type BotAnswer,
  type BotChat,
  botCardClick,
  botCallbackRequest,
  botRefresh,
  botText,
  followStream,
  postBot,
  sendBot,
} from '../../local/wecom-bot-client';
import { SLOW_DATASET } from '../../local/sample-server';
import { startTestRuntime } from '../support/runtime';

let rt: LocalRuntime;
let botUrl: string;
const taskIdOf = (a: BotAnswer) =>
  /(t_[a-z2-7]{20})/.exec(a.reply?.stream?.content ?? '')?.[1] ?? '';
const waitFor = async <T>(
  read: () => Promise<T | undefined> | T | undefined,
  ms = 15_000,
): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
};

beforeAll(async () => {
  // A short window (3 s, margin 0.75 s) so the slow dataset (about 4 s) crosses it.
  rt = await startTestRuntime({ wecomStream: { windowSeconds: 3, marginSeconds: 0.75 } });
  botUrl = `${rt.httpUrl}/wecom/bot`;
});
afterAll(async () => {
  await rt.stop();
});

describe('WeCom intelligent bot: end to end', () => {
  it('answers `download 12345` with a stream whose refreshes go queued → running → succeeded with the logic result', async () => {
    const chat: BotChat = { fromUser: 'alice', responseUrl: rt.responseUrlFor('a1') };
    const frames = await followStream(botUrl, rt.wecomBot, chat, 'download 12345', {
      intervalMs: 100,
    });

    const first = frames[0];
    expect(first?.status).toBe(200);
    expect(first?.reply?.msgtype).toBe('stream_with_template_card');
    expect(first?.reply?.stream?.finish).toBe(false);
    expect(first?.reply?.stream?.content).toMatch(/queued/);
    expect(first?.reply?.template_card?.button_list?.[0]?.key).toMatch(/^cancel:t_/);
    const contents = frames.map((f) => f.reply?.stream?.content ?? '');
    expect(new Set(frames.map((f) => f.reply?.stream?.id)).size).toBe(1);
    const last = frames[frames.length - 1];
    expect(last?.reply?.stream?.finish).toBe(true);
    expect(last?.reply?.stream?.content).toMatch(/1\. ✅ \*\*download\*\* succeeded/);
    expect(last?.reply?.stream?.content).toMatch(/2\. ✅ \*\*logic\*\* succeeded/);
    expect(contents.some((c) => /running|\[[█░]+\] \d+%/.test(c))).toBe(true);
    // The stream showed the result: nothing was posted to the response_url.
    const taskId = taskIdOf(first as BotAnswer);
    await new Promise((r) => setTimeout(r, 300));
    expect(rt.botResponses.received.filter((p) => p.path.includes('a1'))).toHaveLength(0);
    expect(await rt.tasks.get(taskId)).toMatchObject({ status: 'succeeded', source: 'wecom' });
  });

  it('a retried msgid creates no second task and answers the same stream', async () => {
    const message = botText({ fromUser: 'bob' }, 'download 12345', 'retry-msg-1');
    const a = await sendBot(botUrl, rt.wecomBot, message);
    const b = await sendBot(botUrl, rt.wecomBot, message);
    expect(a.reply?.stream?.id).toBe(b.reply?.stream?.id);
    expect(taskIdOf(a)).toBe(taskIdOf(b));
  });

  it('a slow task crosses the window: the stream finishes saying so, the result arrives at the response_url once', async () => {
    const chat: BotChat = { fromUser: 'carol', responseUrl: rt.responseUrlFor('slow1') };
    const frames = await followStream(botUrl, rt.wecomBot, chat, `download ${SLOW_DATASET}`, {
      intervalMs: 200,
    });
    const last = frames[frames.length - 1];
    expect(last?.reply?.stream?.finish).toBe(true);
    expect(last?.reply?.stream?.content).toMatch(/result will follow/);
    const taskId = taskIdOf(frames[0] as BotAnswer);
    const post = await waitFor(
      () => rt.botResponses.received.find((p) => p.path.includes('slow1')),
      20_000,
    );
    expect(post.body).toMatchObject({ msgtype: 'markdown' });
    expect(JSON.stringify(post.body)).toMatch(/logic/);
    await new Promise((r) => setTimeout(r, 500));
    expect(rt.botResponses.received.filter((p) => p.path.includes('slow1'))).toHaveLength(1);
    expect(await rt.tasks.get(taskId)).toMatchObject({ status: 'succeeded' });
  });

  it('Cancel works for its requester only; Retry resubmits a cancelled task with the same args', async () => {
    const dave: BotChat = { fromUser: 'dave', responseUrl: rt.responseUrlFor('c1') };
    const first = await sendBot(botUrl, rt.wecomBot, botText(dave, `download ${SLOW_DATASET}`));
    const taskId = taskIdOf(first);
    const cancelKey = first.reply?.template_card?.button_list?.[0]?.key ?? '';

    // Someone else's click: the card says why, nothing changes.
    const eve = await sendBot(botUrl, rt.wecomBot, botCardClick({ fromUser: 'eve' }, cancelKey));
    expect(eve.reply?.response_type).toBe('update_template_card');
    expect(eve.reply?.template_card?.main_title?.desc).toMatch(/only the person who asked/);
    expect((await rt.tasks.get(taskId))?.status).not.toBe('cancelled');

    const click = await sendBot(botUrl, rt.wecomBot, botCardClick(dave, cancelKey));
    expect(click.reply?.response_type).toBe('update_template_card');
    expect(click.reply?.template_card?.main_title?.title).toMatch(/cancelled/);
    expect((await rt.tasks.get(taskId))?.status).toBe('cancelled');
    const retryKey = click.reply?.template_card?.button_list?.[0]?.key ?? '';
    expect(retryKey).toBe(`retry:${taskId}`);

    const refresh = await sendBot(
      botUrl,
      rt.wecomBot,
      botRefresh(dave, first.reply?.stream?.id ?? ''),
    );
    expect(refresh.reply?.stream?.finish).toBe(true);
    expect(refresh.reply?.stream?.content).toMatch(/cancelled/);

    const retry = await sendBot(
      botUrl,
      rt.wecomBot,
      botCardClick({ ...dave, responseUrl: rt.responseUrlFor('r1') }, retryKey),
    );
    expect(retry.reply?.template_card?.main_title?.desc).toMatch(/retry of/);
    const newId =
      /→ (t_[a-z2-7]{20})/.exec(retry.reply?.template_card?.main_title?.desc ?? '')?.[1] ?? '';
    const original = await rt.tasks.get(taskId);
    expect(await rt.tasks.get(newId)).toMatchObject({ taskType: 'download', args: original?.args });
    // The retry has no stream: its result goes to the click's response_url.
    await waitFor(() => rt.botResponses.received.find((p) => p.path.includes('r1')), 20_000);
  });

  it('refuses a forged stream id and answers a bad signature with a 4xx', async () => {
    const forged = await sendBot(
      botUrl,
      rt.wecomBot,
      botRefresh({}, 'tw1.t_aaaaaaaaaaaaaaaaaaaa.AAAAAAAAAAAAAAAAAAAAAA'),
    );
    expect(forged.reply?.stream).toMatchObject({
      finish: true,
      content: expect.stringMatching(/no such task/),
    });
    const request = botCallbackRequest(rt.wecomBot, botText({}, 'help'));
    const bad = await postBot(botUrl, rt.wecomBot, {
      ...request,
      query: request.query.replace(/msg_signature=[0-9a-f]/, 'msg_signature=z'),
    });
    expect(bad.status).toBe(401);
  });
});
