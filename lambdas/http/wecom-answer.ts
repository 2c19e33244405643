import { isAppError } from '../../src/errors/app-error';
import type { Log } from '../../src/ports/log';
import type { HttpResult } from '../edge/http';
import { httpErrorResult } from './error-response';

/**
 * The WeCom callback's error mapper: what WeCom, and the person writing to the bot, see when
 * something fails. Two answers:
 * - A command the task type refuses (too many words, a word too long: a `bad_request` raised
 *   after the callback was verified and read) is answered in the chat, as a passive reply with
 *   the reason: a 4xx would only make WeCom retry the same message. See {@link commandRefusal}.
 * - Anything else goes through the HTTP mapper ({@link wecomErrorAnswer}): a refused callback
 *   (WeCom's own codes: `bad_signature` 401, `too_large` 413, the rest 400) queues nothing and
 *   says why in a JSON body; a fault of ours is a logged 500, which WeCom retries.
 */

/**
 * The text to answer in the chat for an error raised while running a verified command, or
 * undefined when the error is not the person's to read (then it goes to {@link wecomErrorAnswer}).
 */
export function commandRefusal(e: unknown): string | undefined {
  return isAppError(e) && e.kind === 'bad_request' ? e.message : undefined;
}

/** The HTTP answer of a callback that failed (see the file's comment). */
export function wecomErrorAnswer(
  e: unknown,
  log: Log,
  context: Record<string, unknown> = {},
): HttpResult {
  return httpErrorResult(e, log, context);
}
