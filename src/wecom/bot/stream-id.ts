/**
 * Stream ids: the id of a stream reply names its task and is signed, so a refresh finds the
 * task with no lookup of its own (the mapping stream id → taskId is the id itself) and a forged
 * id, or one of another bot, is refused before anything is read.
 *
 * `tw1.<taskId>.<mac>`, mac = base64url(HMAC-SHA256(bot token, "stream\n<aibotid>\n<taskId>"))
 * cut to 22 characters (128 bits). Deterministic: a retried message gets the same id.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'tw1';
const MAC_CHARS = 22;
const TASK_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

const macOf = (secret: string, aiBotId: string, taskId: string) =>
  createHmac('sha256', secret)
    .update(`stream\n${aiBotId}\n${taskId}`)
    .digest('base64url')
    .slice(0, MAC_CHARS);

/** The stream id of a task's stream for one bot. */
export const streamIdFor = (secret: string, aiBotId: string, taskId: string): string =>
  `${PREFIX}.${taskId}.${macOf(secret, aiBotId, taskId)}`;

/** A stream id that names no task (an answer that is finished at once: help, status, …). */
export const oneShotStreamId = (): string => `${PREFIX}.x.${randomBytes(12).toString('base64url')}`;

/** The task a stream id names, or undefined when it is forged, malformed or another bot's. */
export function taskOfStreamId(
  secret: string,
  aiBotId: string,
  streamId: string,
): string | undefined {
  const parts = streamId.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return undefined;
  const [, taskId = '', mac = ''] = parts;
  if (!TASK_ID_RE.test(taskId) || mac.length !== MAC_CHARS) return undefined;
  const expected = Buffer.from(macOf(secret, aiBotId, taskId));
  const given = Buffer.from(mac);
  return given.length === expected.length && timingSafeEqual(given, expected) ? taskId : undefined;
}
