/**
 * The decrypted callback message, read into one normalised `WecomInbound`.
 *
 * Shapes seen in the wild (all read by one schema, because both parsers lower-case keys):
 * - App callback XML: `ToUserName, FromUserName, CreateTime, MsgType, Content, MsgId, AgentID`;
 *   events carry `Event` (a string) and maybe `EventKey`.
 * - Classic group robot XML: `WebhookUrl, ChatId, ChatType, From{UserId,Name,Alias}, MsgType,
 *   Text{Content}, MsgId`; robot events carry `Event{EventType}`.
 * - JSON with the app field names (official Go sample) and smart-bot JSON (`msgid, chatid,
 *   chattype, from{userid}, msgtype, text{content}, response_url, aibotid`).
 */
import * as z from '../validation/zod';
import { WecomError } from './errors';
import { parseWecomJson, type JsonValue } from './json';
import { parseWecomXml, type XmlValue } from './xml';

/** A callback message in the one shape the rest of Taskwire uses. */
export interface WecomInbound {
  /** `text` (a possible command), `event`, or any other message type (image, voice, …). */
  kind: 'text' | 'event' | 'other';
  /** The raw MsgType, lower-cased (`text`, `event`, `image`, …). */
  msgType: string;
  /** The text, trimmed; present (and non-empty) exactly when kind is `text`. */
  text?: string;
  /** The sender's user id (FromUserName or From.UserId). */
  fromUserId: string;
  /** ToUserName: the corp / account the message was sent to. */
  toUserName?: string;
  /** AgentID: the app. */
  agentId?: string;
  /** The group chat (group robot callbacks). */
  chatId?: string;
  /** `single` or `group` (group robot callbacks). */
  chatType?: string;
  /**
   * The group robot webhook the callback carried, for answering into the chat. WeCom sends an
   * internal `http://in.qyapi.weixin.qq.com/…` address, so only http(s) is checked here; which
   * hosts may be posted to is the sender's policy.
   */
  webhookUrl?: string;
  /** Smart-bot `response_url`: a one-shot URL to answer this one message. */
  responseUrl?: string;
  /** Smart-bot id. */
  aiBotId?: string;
  /** MsgId, exactly as sent (large ids are kept as digit strings, never rounded). */
  msgId?: string;
  /** CreateTime, Unix seconds as a decimal string. */
  createTime?: string;
  /** Event name (`Event`, or `Event.EventType` for robots); present when kind is `event`. */
  event?: string;
  /** EventKey, when the event carries one. */
  eventKey?: string;
  /**
   * Identifies the message across WeCom's retries: `msg:<MsgId>` when there is a MsgId, else
   * `evt:<from>:<CreateTime>:<Event>` for events (as WeCom's docs advise) and
   * `msg:<from>:<CreateTime>:` for other messages without an id. Prefixed so an id can never
   * collide with a composite key.
   */
  dedupeKey: string;
}

/** Ids and times arrive as strings (XML) or numbers (JSON); both become exact strings. */
const idLike = z.pipe(
  z.union([z.string(), z.number().check(z.int(), z.nonnegative())]),
  z.transform((v: string | number) => String(v).trim()),
);

/** An empty XML element (`<Text></Text>`) reads as '', which means "absent" for a group. */
const group = <T extends z.ZodMiniType>(schema: T) =>
  z.pipe(
    z.transform((v: unknown) => (v === '' ? undefined : v)),
    z.optional(schema),
  );

/** A string, trimmed. */
const trimmed = () => z.string().check(z.trim());

const messageSchema = z.object({
  msgtype: z.string().check(z.trim(), z.toLowerCase(), z.minLength(1)),
  fromusername: z.optional(trimmed()),
  tousername: z.optional(trimmed()),
  createtime: z.optional(z.pipe(idLike, z.string().check(z.regex(/^\d{1,20}$/)))),
  content: z.optional(z.string()),
  msgid: z.optional(z.pipe(idLike, z.string().check(z.maxLength(256)))),
  agentid: z.optional(idLike),
  event: z.optional(z.union([z.string(), group(z.object({ eventtype: z.optional(z.string()) }))])),
  eventkey: z.optional(z.string()),
  webhookurl: z.optional(trimmed()),
  chatid: z.optional(trimmed()),
  chattype: z.optional(trimmed()),
  from: group(z.object({ userid: z.optional(trimmed()) })),
  text: group(z.object({ content: z.optional(z.string()) })),
  response_url: z.optional(trimmed()),
  aibotid: z.optional(trimmed()),
});

/** Parses the decrypted text (XML or JSON, chosen by its first character) into a record. */
function parseRecord(plaintext: string): XmlValue | JsonValue {
  const text = plaintext.replace(/^\uFEFF/, '').trim();
  if (text.startsWith('<')) return parseWecomXml(text);
  if (text.startsWith('{')) return parseWecomJson(text);
  throw new WecomError('bad_format', 'message is neither XML nor JSON');
}

/** Empty strings mean absent: WeCom leaves unused XML elements empty. */
const nonEmpty = (v: string | undefined): string | undefined =>
  v === undefined || v === '' ? undefined : v;

/** Accepts only http(s) URLs, so a webhook can never point at file:, data: or the like. */
function httpUrl(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WecomError('bad_field', `${name} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WecomError('bad_field', `${name} must be an http(s) URL`);
  }
  return value;
}

/**
 * Parses a decrypted callback message (XML or JSON) into a WecomInbound.
 * @throws WecomError bad_xml | bad_json | bad_format | missing_field (no MsgType, no sender, text
 *   without content, nothing to dedupe on) | bad_field (wrong type or format) | empty_text
 */
export function parseMessage(plaintext: string): WecomInbound {
  const root = parseRecord(plaintext);
  // `<xml/>` or `<xml>text</xml>` reads as a string: a document without fields.
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new WecomError('missing_field', 'message has no MsgType');
  }
  if (!Object.hasOwn(root, 'msgtype')) {
    throw new WecomError('missing_field', 'message has no MsgType');
  }
  const parsed = messageSchema.safeParse(root);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? 'message' : issue.path.join('.') || 'message';
    throw new WecomError('bad_field', `invalid field ${where}`);
  }
  const m = parsed.data;

  const fromUserId = nonEmpty(m.fromusername) ?? nonEmpty(m.from?.userid);
  if (fromUserId === undefined) {
    throw new WecomError('missing_field', 'message has no sender (FromUserName / From.UserId)');
  }
  const kind: WecomInbound['kind'] =
    m.msgtype === 'text' ? 'text' : m.msgtype === 'event' ? 'event' : 'other';
  const msgId = nonEmpty(m.msgid);
  const createTime = nonEmpty(m.createtime);
  const inbound: Omit<WecomInbound, 'dedupeKey'> = { kind, msgType: m.msgtype, fromUserId };

  if (kind === 'text') {
    const raw = m.content ?? m.text?.content;
    if (raw === undefined) throw new WecomError('missing_field', 'text message has no Content');
    const text = raw.trim();
    if (text === '') throw new WecomError('empty_text', 'text message is empty');
    inbound.text = text;
  }
  let event: string | undefined;
  if (kind === 'event') {
    event = nonEmpty(typeof m.event === 'string' ? m.event.trim() : m.event?.eventtype?.trim());
    if (event === undefined) throw new WecomError('missing_field', 'event message has no Event');
    inbound.event = event;
    const eventKey = nonEmpty(m.eventkey);
    if (eventKey !== undefined) inbound.eventKey = eventKey;
  }

  // Optional fields are set only when present, so consumers never see `key: undefined`.
  const toUserName = nonEmpty(m.tousername);
  const agentId = nonEmpty(m.agentid);
  const chatId = nonEmpty(m.chatid);
  const chatType = nonEmpty(m.chattype);
  const webhookUrl = httpUrl(m.webhookurl, 'WebhookUrl');
  const responseUrl = httpUrl(m.response_url, 'response_url');
  const aiBotId = nonEmpty(m.aibotid);
  if (toUserName !== undefined) inbound.toUserName = toUserName;
  if (agentId !== undefined) inbound.agentId = agentId;
  if (chatId !== undefined) inbound.chatId = chatId;
  if (chatType !== undefined) inbound.chatType = chatType;
  if (webhookUrl !== undefined) inbound.webhookUrl = webhookUrl;
  if (responseUrl !== undefined) inbound.responseUrl = responseUrl;
  if (aiBotId !== undefined) inbound.aiBotId = aiBotId;
  if (msgId !== undefined) inbound.msgId = msgId;
  if (createTime !== undefined) inbound.createTime = createTime;

  // The composite parts are not escaped: WeCom user ids and event names never contain ':',
  // and CreateTime is digits only, so the fields cannot run into each other.
  let dedupeKey: string;
  if (msgId !== undefined) dedupeKey = `msg:${msgId}`;
  else if (createTime !== undefined) {
    dedupeKey = `${kind === 'event' ? 'evt' : 'msg'}:${fromUserId}:${createTime}:${event ?? ''}`;
  } else {
    throw new WecomError('missing_field', 'message has neither MsgId nor CreateTime');
  }
  return { ...inbound, dedupeKey };
}
