import { randomBytes, randomInt } from 'node:crypto';
import type { WecomSettings } from '../lambdas/config/wecom-config';
import { signature, createWecomCipher } from '../src/wecom/crypto';
import { parseEnvelope } from '../src/wecom/envelope';

/** A chat message as WeCom would send it. */
export interface ChatMessage {
  readonly text: string;
  readonly fromUser?: string;
  /** WeCom's message id; a retry repeats it (default: a fresh one). */
  readonly msgId?: string;
  /** Group robot fields, for results that go back to a chat. */
  readonly chatId?: string;
  readonly webhookUrl?: string;
  readonly now?: Date;
}

/** The query string and body of a callback POST. */
export interface CallbackRequest {
  readonly query: string;
  readonly body: string;
}

const cdata = (s: string) => `<![CDATA[${s.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;

/**
 * Encrypts and signs a text message exactly as WeCom does for an app callback: the message XML
 * is encrypted with the EncodingAESKey, wrapped in the `<Encrypt>` envelope, and msg_signature
 * is computed over the token, timestamp, nonce and ciphertext.
 */
export function wecomCallbackRequest(
  settings: WecomSettings,
  message: ChatMessage,
): CallbackRequest {
  const cipher = createWecomCipher({
    encodingAesKey: settings.encodingAesKey,
    receiveId: settings.corpId,
  });
  const now = message.now ?? new Date();
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const nonce = randomBytes(6).toString('hex');
  const from = message.fromUser ?? 'dev';
  const msgId = message.msgId ?? String(randomInt(1, 2 ** 47));
  const robot = [
    message.webhookUrl ? `<WebhookUrl>${cdata(message.webhookUrl)}</WebhookUrl>` : '',
    message.chatId ? `<ChatId>${cdata(message.chatId)}</ChatId>` : '',
  ].join('');
  const plaintext =
    `<xml><ToUserName>${cdata(settings.corpId)}</ToUserName><FromUserName>${cdata(from)}</FromUserName>` +
    `<CreateTime>${timestamp}</CreateTime><MsgType>${cdata('text')}</MsgType>` +
    `<Content>${cdata(message.text)}</Content><MsgId>${msgId}</MsgId><AgentID>1000002</AgentID>${robot}</xml>`;
  const encrypt = cipher.encrypt(plaintext);
  const msgSignature = signature(settings.token, timestamp, nonce, encrypt);
  const query = new URLSearchParams({ msg_signature: msgSignature, timestamp, nonce }).toString();
  const body =
    `<xml><ToUserName>${cdata(settings.corpId)}</ToUserName>` +
    `<Encrypt>${cdata(encrypt)}</Encrypt><AgentID>${cdata('1000002')}</AgentID></xml>`;
  return { query, body };
}

/** What the callback answered, with the passive reply decrypted when there is one. */
export interface CallbackAnswer {
  readonly status: number;
  readonly body: string;
  /** The decrypted reply text (the `<Content>` of the passive reply). */
  readonly replyText?: string;
}

/** POSTs a prepared callback request and decrypts the passive reply. */
export async function postCallback(
  callbackUrl: string,
  settings: WecomSettings,
  request: CallbackRequest,
): Promise<CallbackAnswer> {
  const res = await fetch(`${callbackUrl}?${request.query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/xml' },
    body: request.body,
  });
  const body = await res.text();
  if (res.status !== 200 || body === 'success') return { status: res.status, body };
  const cipher = createWecomCipher({
    encodingAesKey: settings.encodingAesKey,
    receiveId: settings.corpId,
  });
  const { message } = cipher.decrypt(parseEnvelope(body).encrypt);
  const content = /<Content><!\[CDATA\[([\s\S]*)\]\]><\/Content>/.exec(message)?.[1];
  return { status: res.status, body, ...(content === undefined ? {} : { replyText: content }) };
}

/** Sends one chat message to a callback URL as WeCom would. */
export function sendChatMessage(
  callbackUrl: string,
  settings: WecomSettings,
  message: ChatMessage,
) {
  return postCallback(callbackUrl, settings, wecomCallbackRequest(settings, message));
}
