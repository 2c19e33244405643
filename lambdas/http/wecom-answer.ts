import type { Context } from 'aws-lambda';
import { isAppError, notFound } from '../../src/errors/app-error';
import type { Log } from '../../src/ports/log';
import type { HttpResult } from '../edge/http';
import { type HttpEvent, httpEventSchema } from '../edge/http-event';
import { invocationLog } from '../runtime/logger';
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

/** One route's handler in a WeCom callback function. */
export type WecomRouteHandler = (event: HttpEvent, log: Log) => Promise<HttpResult>;

/**
 * The entry of a WeCom callback function (the XML callback, the intelligent bot): reads the
 * event, logs with the request's keys, runs the route's handler from `routes` (the route table's
 * keys for that function) and answers any error through {@link wecomErrorAnswer}.
 */
export function wecomRouteDispatcher(
  routes: Readonly<Record<string, WecomRouteHandler>>,
  baseLog: Log,
): (raw: unknown, context?: Context) => Promise<HttpResult> {
  return async (raw, context) => {
    const event = httpEventSchema.parse(raw);
    const log = invocationLog(baseLog, context, {
      route: event.routeKey,
      requestId: event.requestContext?.requestId,
    });
    try {
      // hasOwn: a route key such as "constructor" must not find Object.prototype's.
      const run = Object.hasOwn(routes, event.routeKey) ? routes[event.routeKey] : undefined;
      if (!run) throw notFound(`no route ${event.routeKey}`);
      return await run(event, log);
    } catch (e) {
      return wecomErrorAnswer(e, log, { routeKey: event.routeKey });
    }
  };
}
