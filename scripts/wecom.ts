import { parseArgs } from 'node:util';
import { localWecom } from '../local/wecom-dev';
import { sendChatMessage } from '../local/wecom-client';

const USAGE =
  'usage: npm run wecom -- "download 12345" [--from alice] [--url http://127.0.0.1:3000/wecom/callback] [--msg-id N] [--webhook URL]';

/**
 * Plays WeCom: encrypts and signs a chat message with the local WeCom settings (WECOM_* or the
 * dev defaults), POSTs it to the callback URL and prints the decrypted reply.
 */
async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        from: { type: 'string', default: 'dev' },
        url: {
          type: 'string',
          default: `http://127.0.0.1:${process.env.TASKWIRE_HTTP_PORT || '3000'}/wecom/callback`,
        },
        'msg-id': { type: 'string' },
        webhook: { type: 'string' },
        chat: { type: 'string' },
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
  try {
    const answer = await sendChatMessage(values.url, localWecom(), {
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
        ? `wecom: nothing listens at ${values.url}; start it with npm start\n`
        : `wecom: ${(e as Error).message}\n`,
    );
    process.exit(1);
  }
}

void main();
