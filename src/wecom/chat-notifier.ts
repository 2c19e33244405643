import type { Log } from '../ports/log';
import type { Task } from '../tasks/task';
import { type ChatPost, chatPostFor, type TaskTypeLookup } from './chat-message';
import type { RateLimiter } from './rate-limiter';

/** WeCom allows a group robot 20 messages a minute. */
export const ROBOT_LIMIT = { perWindow: 20, windowSeconds: 60 } as const;

/** Hosts WeCom robot webhooks live on. */
export const WECOM_WEBHOOK_HOSTS: readonly string[] = [
  'qyapi.weixin.qq.com',
  'in.qyapi.weixin.qq.com',
];

/** What happened to a chat notification. */
export type ChatOutcome =
  | { readonly kind: 'sent' }
  | { readonly kind: 'skipped'; readonly reason: string }
  /** Try again later (rate limit or a failed post): the caller re-queues it with this delay. */
  | { readonly kind: 'later'; readonly delaySeconds: number; readonly reason: string };

/** Options of {@link ChatNotifier}. */
export interface ChatNotifierOptions {
  readonly fetch: typeof fetch;
  readonly limiter: RateLimiter;
  readonly log: Log;
  /** Used when the callback carried no WebhookUrl (WECOM_WEBHOOK_URL). */
  readonly defaultWebhookUrl?: string;
  /** Hosts a webhook may point at; the default webhook's host is always allowed. */
  readonly allowedHosts?: readonly string[];
  readonly timeoutMs?: number;
}

/**
 * Posts finished tasks back into the WeCom chat through the group robot webhook, within the
 * robot's rate limit. Only hosts on the allow-list are ever contacted.
 */
export class ChatNotifier {
  private readonly allowed: Set<string>;

  public constructor(private readonly options: ChatNotifierOptions) {
    this.allowed = new Set(options.allowedHosts ?? WECOM_WEBHOOK_HOSTS);
    if (options.defaultWebhookUrl) this.allowed.add(new URL(options.defaultWebhookUrl).host);
  }

  /** The webhook a task's result goes to, or undefined. */
  public webhookFor(task: Task): string | undefined {
    if (!task.requester.wecom) return undefined;
    return task.requester.wecom.webhookUrl ?? this.options.defaultWebhookUrl;
  }

  /**
   * Posts the task's message. `types` give each type's summary and result lines (`chatSummary`,
   * `chatResult`); without them the message has the generic lines (the reaper's: it runs no
   * task types and does not bundle them).
   */
  public async notify(task: Task, types?: TaskTypeLookup): Promise<ChatOutcome> {
    const url = this.webhookFor(task);
    if (!url) return { kind: 'skipped', reason: 'no webhook' };
    let host: string;
    try {
      host = new URL(url).host;
    } catch {
      return { kind: 'skipped', reason: 'webhook is not a URL' };
    }
    if (!this.allowed.has(host)) {
      this.options.log.warn('webhook host not allowed', { taskId: task.taskId, host });
      return { kind: 'skipped', reason: `host ${host} is not allowed` };
    }
    const permit = await this.options.limiter.tryAcquire(
      `robot:${url}`,
      ROBOT_LIMIT.perWindow,
      ROBOT_LIMIT.windowSeconds,
    );
    if (!permit.ok)
      return { kind: 'later', delaySeconds: permit.retryAfterSeconds, reason: 'rate limited' };
    try {
      const answer = await postMarkdown(
        this.options.fetch,
        url,
        chatPostFor(task, types),
        this.options.timeoutMs,
      );
      if (answer.ok) return { kind: 'sent' };
      // 45009 is WeCom's "over the limit" code.
      if (answer.errcode === 45009)
        return { kind: 'later', delaySeconds: 60, reason: 'WeCom rate limit' };
      return {
        kind: 'later',
        delaySeconds: 30,
        reason: `webhook answered ${answer.status} ${answer.errmsg ?? ''}`.trim(),
      };
    } catch (e) {
      return {
        kind: 'later',
        delaySeconds: 30,
        reason: e instanceof Error ? e.message : String(e),
      };
    }
  }
}

/** WeCom's answer to a markdown post (a robot webhook or a bot's response_url). */
export interface MarkdownAnswer {
  /** HTTP 2xx with `errcode` 0 (or none): WeCom took the message. */
  readonly ok: boolean;
  readonly status: number;
  readonly errcode?: number;
  readonly errmsg?: string;
}

/**
 * Posts a `markdown` or `markdown_v2` message to a WeCom URL, following no redirect, within
 * `timeoutMs` (default 5 s). WeCom answers 200 with `{"errcode":0}` when it took it.
 * @throws what `fetch` throws (network error, timeout).
 */
export async function postMarkdown(
  fetchFn: typeof fetch,
  url: string,
  post: ChatPost,
  timeoutMs = 5000,
): Promise<MarkdownAnswer> {
  const res = await fetchFn(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ msgtype: post.msgtype, [post.msgtype]: { content: post.content } }),
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json().catch(() => ({}))) as { errcode?: number; errmsg?: string };
  return {
    ok: res.ok && (body.errcode ?? 0) === 0,
    status: res.status,
    ...(body.errcode === undefined ? {} : { errcode: body.errcode }),
    ...(body.errmsg === undefined ? {} : { errmsg: body.errmsg }),
  };
}
