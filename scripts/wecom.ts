import { parseArgs } from 'node:util';
import { localWecom, localWecomBot } from '../local/wecom-dev';
import { sendChatMessage } from '../local/wecom-client';
import { type BotAnswer, followStream } from '../local/wecom-bot-client';

const USAGE =
  'usage: npm run wecom -- "download 12345" [--from alice] [--url http://127.0.0.1:3000/wecom/callback] [--msg-id N] [--webhook URL]\n' +
  '       npm run wecom -- --bot "download 12345" [--from alice] [--chat CHATID] [--response-url URL] [--interval 1000] [--url http://127.0.0.1:3000/wecom/bot]';

const port = () => process.env.TASKWIRE_HTTP_PORT || '3000';

/** Prints one frame of the bot's answers as the chat would show it. */
function printFrame(answer: BotAnswer, n: number): void {
  const r = answer.reply;
  const head = `--- frame ${n} · HTTP ${answer.status}`;
  if (!r) return void process.stdout.write(`${head}\n${answer.body || '(empty)'}\n`);
  const stream = r.stream ? ` · stream ${r.stream.id} finish=${String(r.stream.finish)}` : '';
  const body = r.stream?.content ?? r.text?.content ?? JSON.stringify(r);
  const buttons = r.template_card?.button_list?.map((b) => `[${b.text} → ${b.key}]`).join(' ');
  process.stdout.write(
    `${head} · ${r.msgtype ?? r.response_type ?? '?'}${stream}\n${body}\n${buttons ? `${buttons}\n` : ''}`,
  );
}

/**
 * Plays WeCom: encrypts and signs a chat message with the local WeCom settings (WECOM_* or the
 * dev defaults), POSTs it to the callback URL and prints the decrypted reply. With --bot, plays
 * the intelligent bot: sends the JSON callback and follows the stream with refresh callbacks, as
 * WeCom does (about every second), printing each frame.
 */
async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        from: { type: 'string', default: 'dev' },
        url: { type: 'string' },
        'msg-id': { type: 'string' },
        webhook: { type: 'string' },
        chat: { type: 'string' },
        bot: { type: 'boolean' },
        'response-url': { type: 'string' },
        interval: { type: 'string', default: '1000' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`wecom: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(values.help ? 0 : 2);
  }
  const text = positionals.join(' ');
  const url = values.url ?? `http://127.0.0.1:${port()}/wecom/${values.bot ? 'bot' : 'callback'}`;
  try {
    if (values.bot) {
      process.stdout.write(`> ${text}\n`);
      const frames = await followStream(
        url,
        localWecomBot(),
        {
          fromUser: values.from,
          ...(values.chat ? { chatId: values.chat } : {}),
          ...(values['response-url'] ? { responseUrl: values['response-url'] } : {}),
        },
        text,
        { intervalMs: Number(values.interval) || 1000, onFrame: printFrame },
      );
      process.exit(frames.every((f) => f.status === 200) ? 0 : 1);
    }
    const answer = await sendChatMessage(url, localWecom(), {
      text,
      fromUser: values.from,
      ...(values['msg-id'] ? { msgId: values['msg-id'] } : {}),
      ...(values.webhook ? { webhookUrl: values.webhook } : {}),
      ...(values.chat ? { chatId: values.chat } : {}),
    });
    process.stdout.write(`> ${text}\nHTTP ${answer.status}\n${answer.replyText ?? answer.body}\n`);
    process.exit(answer.status === 200 ? 0 : 1);
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    process.stderr.write(
      cause?.code === 'ECONNREFUSED'
        ? `wecom: nothing listens at ${url}; start it with npm start\n`
        : `wecom: ${(e as Error).message}\n`,
    );
    process.exit(1);
  }
}

void main();
