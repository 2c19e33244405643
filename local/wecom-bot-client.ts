import { randomBytes, randomInt } from 'node:crypto';
import type { WecomBotSettings } from '../lambdas/http/wecom-bot-config';
import { createWecomCipher, signature } from '../src/wecom/crypto';

/** Who writes to the bot, and where. */
export interface BotChat {
  readonly aiBotId?: string;
  readonly fromUser?: string;
  readonly chatId?: string;
  readonly chatType?: 'single' | 'group';
  readonly responseUrl?: string;
}

/** The query string and body of a bot callback POST. */
export interface BotRequest {
  readonly query: string;
  readonly body: string;
}

/** The common fields of a bot callback, as WeCom sends them. */
export function botMessage(chat: BotChat, fields: Record<string, unknown>, msgId?: string) {
  return {
    msgid: msgId ?? `${Date.now()}${randomInt(1, 1e6)}`,
    aibotid: chat.aiBotId ?? 'aib-taskwire-dev',
    ...(chat.chatId ? { chatid: chat.chatId } : {}),
    chattype: chat.chatType ?? (chat.chatId ? 'group' : 'single'),
    from: { userid: chat.fromUser ?? 'dev' },
    ...(chat.responseUrl ? { response_url: chat.responseUrl } : {}),
    ...fields,
  };
}

/** A text message. */
export const botText = (chat: BotChat, text: string, msgId?: string) =>
  botMessage(chat, { msgtype: 'text', text: { content: text } }, msgId);
/** A stream refresh, as WeCom sends one about every second. */
export const botRefresh = (chat: BotChat, streamId: string) =>
  botMessage(chat, { msgtype: 'stream', stream: { id: streamId } });
/** A click on a card's button. */
export const botCardClick = (chat: BotChat, eventKey: string, cardTaskId = 'card') =>
  botMessage(chat, {
    msgtype: 'event',
    create_time: Math.floor(Date.now() / 1000),
    event: {
      eventtype: 'template_card_event',
      template_card_event: {
        card_type: 'button_interaction',
        event_key: eventKey,
        task_id: cardTaskId,
      },
    },
  });

/**
 * Encrypts (for the empty receive id, or `receiveId`) and signs a bot message as WeCom does:
 * body `{"encrypt"}`, msg_signature over token, timestamp, nonce and the ciphertext.
 */
export function botCallbackRequest(
  settings: WecomBotSettings,
  message: unknown,
  options: { readonly now?: Date; readonly receiveId?: string; readonly plaintext?: string } = {},
): BotRequest {
  const cipher = createWecomCipher({
    encodingAesKey: settings.encodingAesKey,
    receiveId: options.receiveId ?? '',
  });
  const timestamp = String(Math.floor((options.now ?? new Date()).getTime() / 1000));
  const nonce = randomBytes(6).toString('hex');
  const encrypt = cipher.encrypt(options.plaintext ?? JSON.stringify(message));
  const msgSignature = signature(settings.token, timestamp, nonce, encrypt);
  return {
    query: new URLSearchParams({ msg_signature: msgSignature, timestamp, nonce }).toString(),
    body: JSON.stringify({ encrypt }),
  };
}

/** What the bot answered, decrypted. */
export interface BotAnswer {
  readonly status: number;
  readonly body: string;
  /** The decrypted answer (stream, text or card update); absent for an empty or error body. */
  readonly reply?: {
    msgtype?: string;
    response_type?: string;
    stream?: { id: string; finish: boolean; content: string };
    text?: { content: string };
    template_card?: {
      main_title?: { title?: string; desc?: string };
      button_list?: { text: string; key: string }[];
    };
  };
}

/** POSTs a bot callback and decrypts (after checking its signature) the answer. */
export async function postBot(
  url: string,
  settings: WecomBotSettings,
  request: BotRequest,
): Promise<BotAnswer> {
  const res = await fetch(`${url}?${request.query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: request.body,
  });
  const body = await res.text();
  if (res.status !== 200 || body === '') return { status: res.status, body };
  const envelope = JSON.parse(body) as {
    encrypt: string;
    msgsignature: string;
    timestamp: number;
    nonce: string;
  };
  if (
    signature(settings.token, String(envelope.timestamp), envelope.nonce, envelope.encrypt) !==
    envelope.msgsignature
  ) {
    throw new Error('the bot answer is not signed with the bot token');
  }
  const cipher = createWecomCipher({ encodingAesKey: settings.encodingAesKey, receiveId: '' });
  return {
    status: res.status,
    body,
    reply: JSON.parse(cipher.decrypt(envelope.encrypt).message) as BotAnswer['reply'],
  };
}

/** Sends one bot message. */
export const sendBot = (url: string, settings: WecomBotSettings, message: unknown) =>
  postBot(url, settings, botCallbackRequest(settings, message));

/**
 * Sends a text and follows its stream with refreshes (every `intervalMs`) until it finishes or
 * `maxFrames`, calling `onFrame` with each answer.
 */
export async function followStream(
  url: string,
  settings: WecomBotSettings,
  chat: BotChat,
  text: string,
  options: {
    intervalMs?: number;
    maxFrames?: number;
    onFrame?: (a: BotAnswer, n: number) => void;
  } = {},
): Promise<BotAnswer[]> {
  const frames: BotAnswer[] = [];
  let answer = await sendBot(url, settings, botText(chat, text));
  frames.push(answer);
  options.onFrame?.(answer, 0);
  const id = answer.reply?.stream?.id;
  while (
    id &&
    answer.reply?.stream &&
    !answer.reply.stream.finish &&
    frames.length < (options.maxFrames ?? 400)
  ) {
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 1000));
    answer = await sendBot(url, settings, botRefresh(chat, id));
    frames.push(answer);
    options.onFrame?.(answer, frames.length - 1);
  }
  return frames;
}
