import type { Node } from 'constructs';
import { ENV } from '../lambdas/catalog';
import { DEFAULT_STREAM_MARGIN_S, DEFAULT_STREAM_WINDOW_S } from '../lambdas/http/wecom-bot-config';
import { isUnset, readContext, readInteger } from './context-values';

/**
 * The WeCom intelligent bot's settings from context (docs/operations.md, "Intelligent bot"):
 * how long its answer streams last, and where a task's later result may be posted. The token and
 * EncodingAESKey are not context: they live in the WecomBotSecret.
 */

/** Context keys of the intelligent bot. */
export const WECOM_BOT_CONTEXT_KEYS = {
  /**
   * Seconds WeCom keeps refreshing a stream answer (10..360, default 360: WeCom stops at 6
   * minutes). Sets TASKWIRE_WECOM_STREAM_WINDOW_S on the bot's function.
   */
  wecomStreamWindowSeconds: 'wecomStreamWindowSeconds',
  /**
   * Seconds before the window ends that a still-running task's stream is finished and its result
   * handed to response_url (1 to a quarter of the window, default 30). Sets
   * TASKWIRE_WECOM_STREAM_MARGIN_S.
   */
  wecomStreamMarginSeconds: 'wecomStreamMarginSeconds',
  /**
   * Hosts (`host` or `host:port`, comma-separated or a JSON array) a bot's response_url may point
   * at (default WeCom's, qyapi.weixin.qq.com). Sets TASKWIRE_WECOM_RESPONSE_HOSTS on every
   * function that tells a task's end in the chat.
   */
  wecomResponseHosts: 'wecomResponseHosts',
} as const;

/** Allowed range of `wecomStreamWindowSeconds`: WeCom refreshes a stream for 6 minutes at most. */
export const STREAM_WINDOW_RANGE = { min: 10, max: DEFAULT_STREAM_WINDOW_S } as const;

/** The bot's settings as the stack passes them on. */
export interface WecomBotContext {
  readonly streamWindowSeconds: number;
  readonly streamMarginSeconds: number;
  /** Hosts a response_url may point at; undefined leaves the code's default (WeCom's). */
  readonly responseHosts: readonly string[] | undefined;
}

// What URL.host yields (lowercase, optional port): the delivery compares against exactly that.
const HOST =
  /^(?=.{1,253}(?::|$))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/;

/**
 * Reads and checks the bot's settings; a bad value fails synth naming the key.
 * @throws Error for a window or margin out of range, or a host that is not `host[:port]`.
 */
export function readWecomBotContext(node: Node): WecomBotContext {
  const keys = WECOM_BOT_CONTEXT_KEYS;
  const streamWindowSeconds = readInteger(
    node,
    keys.wecomStreamWindowSeconds,
    DEFAULT_STREAM_WINDOW_S,
    STREAM_WINDOW_RANGE,
  );
  // The function would quietly cap a larger margin at a quarter of the window; say so instead.
  const streamMarginSeconds = readInteger(
    node,
    keys.wecomStreamMarginSeconds,
    Math.min(DEFAULT_STREAM_MARGIN_S, Math.floor(streamWindowSeconds / 4)),
    { min: 1, max: Math.floor(streamWindowSeconds / 4) },
  );
  return { streamWindowSeconds, streamMarginSeconds, responseHosts: readHosts(node) };
}

/** The environment of the bot's function (the `wecomBotSecret` need). */
export function botStreamEnvironment(bot: WecomBotContext): Record<string, string> {
  return {
    [ENV.wecomStreamWindowSeconds]: String(bot.streamWindowSeconds),
    [ENV.wecomStreamMarginSeconds]: String(bot.streamMarginSeconds),
  };
}

/** The environment of a function that posts a bot task's result (the `chatWebhook` need). */
export function responseHostsEnvironment(bot: WecomBotContext): Record<string, string> {
  return bot.responseHosts ? { [ENV.wecomResponseHosts]: bot.responseHosts.join(',') } : {};
}

function readHosts(node: Node): readonly string[] | undefined {
  const key = WECOM_BOT_CONTEXT_KEYS.wecomResponseHosts;
  const value = readContext(node, key);
  if (isUnset(value)) return undefined;
  const list: unknown[] | undefined =
    typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  if (!list) throw new Error(`context ${key} must be a comma-separated list of hosts`);
  // Empty entries (a trailing comma) are skipped, as the functions skip them.
  const hosts = list
    .map((host) => (typeof host === 'string' ? host.trim().toLowerCase() : host))
    .filter((host) => host !== '');
  const bad = hosts.find((host) => typeof host !== 'string' || !HOST.test(host));
  if (bad !== undefined) {
    throw new Error(
      `context ${key}: ${JSON.stringify(bad)} is not a host (host or host:port, no scheme or path)`,
    );
  }
  return hosts.length > 0 ? (hosts as string[]) : undefined;
}
