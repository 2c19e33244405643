/**
 * The intelligent bot's (智能机器人) decrypted JSON callback, read into one typed `BotInbound`.
 * Shapes as WeCom publishes them (keys are lower-cased by parseWecomJson):
 * `{msgid, aibotid, chatid?, chattype, from:{userid}, response_url, msgtype, …}` with
 * `text:{content}`, `mixed:{msg_item:[{msgtype, text?:{content}}]}`, `stream:{id}` (a refresh)
 * or `event:{eventtype, template_card_event?:{card_type, event_key, task_id}}`.
 */
import * as z from '../../validation/zod';
import { WecomError } from '../errors';
import { isJsonRecord, parseWecomJson } from '../json';

/** What every bot callback carries. */
export interface BotCommon {
  /** WeCom's message id: the dedupe key of the message (a retry repeats it). */
  readonly msgId: string;
  readonly aiBotId: string;
  readonly chatId?: string;
  readonly chatType: 'single' | 'group';
  readonly fromUserId: string;
  /** The one-shot URL to answer this message later (valid an hour, usable once). */
  readonly responseUrl?: string;
}

/** A bot callback. */
export type BotInbound = BotCommon &
  (
    | { readonly kind: 'text'; readonly text: string }
    | { readonly kind: 'stream'; readonly streamId: string }
    | { readonly kind: 'enter_chat' }
    | {
        readonly kind: 'card_event';
        readonly eventKey: string;
        readonly cardTaskId?: string;
      }
    | { readonly kind: 'other'; readonly msgType: string }
  );

const idLike = z.pipe(
  z.union([z.string(), z.number().check(z.int(), z.nonnegative())]),
  z.transform((v: string | number) => String(v).trim()),
);
const nonEmpty = (what: string) =>
  z.string({ error: `${what} must be text` }).check(z.trim(), z.minLength(1, `${what} is empty`));

const baseSchema = z.object({
  msgid: z.pipe(idLike, z.string().check(z.minLength(1), z.maxLength(256))),
  aibotid: nonEmpty('aibotid').check(z.maxLength(128)),
  chatid: z.optional(z.string().check(z.trim(), z.maxLength(256))),
  chattype: z.enum(['single', 'group']),
  from: z.object({ userid: nonEmpty('from.userid').check(z.maxLength(128)) }),
  response_url: z.optional(z.string().check(z.trim(), z.maxLength(2048))),
  msgtype: z.string().check(z.trim(), z.toLowerCase(), z.minLength(1)),
});
const textSchema = z.object({ text: z.object({ content: z.string() }) });
const mixedSchema = z.object({
  mixed: z.object({
    msg_item: z
      .array(
        z.object({
          msgtype: z.string(),
          text: z.optional(z.object({ content: z.string() })),
        }),
      )
      .check(z.maxLength(64)),
  }),
});
const streamSchema = z.object({
  stream: z.object({ id: nonEmpty('stream.id').check(z.maxLength(512)) }),
});
const eventSchema = z.object({
  event: z.object({
    eventtype: nonEmpty('event.eventtype'),
    template_card_event: z.optional(
      z.object({
        card_type: z.optional(z.string()),
        event_key: nonEmpty('template_card_event.event_key').check(z.maxLength(1024)),
        task_id: z.optional(z.string().check(z.maxLength(128))),
      }),
    ),
  }),
});

function read<S extends z.ZodMiniType>(schema: S, value: unknown): z.output<S> {
  const parsed = z.safeParse(schema, value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path ?? [];
  const where = path.join('.');
  // Missing when the input has nothing at the issue's path (whatever zod's code for it).
  let at: unknown = value;
  for (const key of path) {
    at =
      typeof at === 'object' && at !== null ? (at as Record<PropertyKey, unknown>)[key] : undefined;
  }
  const missing = at === undefined;
  throw new WecomError(
    missing ? 'missing_field' : 'bad_field',
    `${missing ? 'missing' : 'invalid'} field ${where || 'message'}`,
  );
}

/** Accepts only http(s) URLs (which hosts are ever called is the sender's policy). */
function httpUrl(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WecomError('bad_field', 'response_url is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WecomError('bad_field', 'response_url must be an http(s) URL');
  }
  return value;
}

/**
 * Parses a decrypted bot callback.
 * @throws WecomError bad_json | bad_format | missing_field | bad_field | empty_text
 */
export function parseBotMessage(plaintext: string): BotInbound {
  const text = plaintext.replace(/^\uFEFF/, '').trim();
  if (!text.startsWith('{')) throw new WecomError('bad_format', 'bot message is not JSON');
  const root = parseWecomJson(text);
  if (!isJsonRecord(root)) throw new WecomError('bad_json', 'bot message is not a JSON object');
  const base = read(baseSchema, root);
  const responseUrl = httpUrl(base.response_url);
  const common: BotCommon = {
    msgId: base.msgid,
    aiBotId: base.aibotid,
    chatType: base.chattype,
    fromUserId: base.from.userid,
    ...(base.chatid ? { chatId: base.chatid } : {}),
    ...(responseUrl ? { responseUrl } : {}),
  };
  switch (base.msgtype) {
    case 'text': {
      const content = read(textSchema, root).text.content.trim();
      if (content === '') throw new WecomError('empty_text', 'text message is empty');
      return { ...common, kind: 'text', text: content };
    }
    case 'mixed': {
      const parts = read(mixedSchema, root)
        .mixed.msg_item.filter((item) => item.msgtype.toLowerCase() === 'text')
        .map((item) => item.text?.content.trim() ?? '')
        .filter((part) => part !== '');
      if (parts.length === 0) return { ...common, kind: 'other', msgType: 'mixed' };
      return { ...common, kind: 'text', text: parts.join(' ') };
    }
    case 'stream':
      return { ...common, kind: 'stream', streamId: read(streamSchema, root).stream.id };
    case 'event': {
      const { event } = read(eventSchema, root);
      const type = event.eventtype.toLowerCase();
      if (type === 'enter_chat') return { ...common, kind: 'enter_chat' };
      if (type === 'template_card_event') {
        const card = event.template_card_event;
        if (!card) throw new WecomError('missing_field', 'missing field event.template_card_event');
        return {
          ...common,
          kind: 'card_event',
          eventKey: card.event_key,
          ...(card.task_id ? { cardTaskId: card.task_id } : {}),
        };
      }
      return { ...common, kind: 'other', msgType: `event:${type}` };
    }
    default:
      return { ...common, kind: 'other', msgType: base.msgtype };
  }
}
