import { randomBytes } from 'node:crypto';
import { signature } from '../crypto';
import type { CallbackKeys } from '../callback';
import type { CallbackReply } from '../reply';
import type { TemplateCard } from './render';

/** The plaintext answers the bot callback gives (WeCom's passive-reply shapes). */
export type BotReplyPayload =
  | { msgtype: 'stream'; stream: { id: string; finish: boolean; content: string } }
  | {
      msgtype: 'stream_with_template_card';
      stream: { id: string; finish: boolean; content: string };
      template_card: TemplateCard;
    }
  | { msgtype: 'text'; text: { content: string } }
  | { response_type: 'update_template_card'; template_card: TemplateCard };

/** An empty 200: WeCom takes it as "nothing to say". */
export const EMPTY_BOT_REPLY: CallbackReply = {
  contentType: 'text/plain; charset=utf-8',
  body: '',
};

/**
 * Encrypts and signs a bot answer: `{"encrypt","msgsignature","timestamp","nonce"}` with the
 * payload encrypted for the empty receive id.
 */
export function botReply(
  keys: CallbackKeys,
  payload: BotReplyPayload,
  now: Date,
  nonce?: string,
): CallbackReply {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const n = nonce ?? randomBytes(8).toString('hex');
  const encrypt = keys.cipher.encrypt(JSON.stringify(payload));
  return {
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({
      encrypt,
      msgsignature: signature(keys.token, timestamp, n, encrypt),
      timestamp: Number(timestamp),
      nonce: n,
    }),
  };
}
