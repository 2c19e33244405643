/**
 * Results of bot tasks that outlive the stream: the worker tells the chat of every task end
 * through the ChatNotifier; for a task the intelligent bot started, this one decides instead:
 * - a step that chains another (download → logic): nothing yet, the chain's end tells;
 * - while WeCom still refreshes the stream (not handed off, inside the window): nothing, the
 *   next refresh shows the result (`delivery: stream`);
 * - else the result goes, once, to the message's `response_url` (valid an hour, and only on an
 *   allowed host: WeCom's), or failing that to the group robot webhook; which one is recorded.
 */
import type { Clock } from '../../ports/clock';
import type { Task } from '../../tasks/task';
import { chatMessageFor, type TaskTypeLookup } from '../chat-message';
import {
  type ChatNotifierOptions,
  type ChatOutcome,
  ChatNotifier,
  postMarkdown,
} from '../chat-notifier';
import type { BotStore } from './store';

/** Hosts a response_url may point at (WeCom's). */
export const WECOM_RESPONSE_HOSTS: readonly string[] = ['qyapi.weixin.qq.com'];

/** A response_url works for an hour after the message. */
export const RESPONSE_URL_TTL_MS = 60 * 60 * 1000;

/** What the bot side of the notifier needs. */
export interface BotDeliveryOptions {
  readonly store: BotStore;
  readonly clock: Clock;
  /** Hosts a response_url may be posted to (default WeCom's). */
  readonly responseHosts?: readonly string[];
}

/** The chained task a result names (download's `logicTaskId`), if any. */
export function chainedTaskId(task: Task): string | undefined {
  const result = task.result as { logicTaskId?: unknown } | undefined;
  return typeof result?.logicTaskId === 'string' ? result.logicTaskId : undefined;
}

/** True when the URL's host may receive a response_url post. */
export function mayPostTo(url: string, hosts: readonly string[]): boolean {
  try {
    const parsed = new URL(url);
    return (
      (parsed.protocol === 'https:' || parsed.protocol === 'http:') && hosts.includes(parsed.host)
    );
  } catch {
    return false;
  }
}

/** The ChatNotifier that knows the intelligent bot's tasks (see the file's comment). */
export class BotAwareChatNotifier extends ChatNotifier {
  private readonly hosts: readonly string[];

  public constructor(
    private readonly chatOptions: ChatNotifierOptions,
    private readonly bot: BotDeliveryOptions,
  ) {
    super(chatOptions);
    this.hosts = bot.responseHosts ?? WECOM_RESPONSE_HOSTS;
  }

  public override async notify(task: Task, types?: TaskTypeLookup): Promise<ChatOutcome> {
    if (!task.requester.wecom) return super.notify(task, types);
    const rootId = task.parentTaskId ?? task.taskId;
    const record = await this.bot.store.get(rootId);
    if (!record) return super.notify(task, types);
    if (task.status === 'succeeded' && chainedTaskId(task) !== undefined) {
      return { kind: 'skipped', reason: 'the chained step tells' };
    }
    const now = this.bot.clock.now();
    const at = now.toISOString();
    if (now.getTime() < Date.parse(record.windowEndsAt)) {
      if (await this.bot.store.claimDelivery(rootId, 'stream', at)) {
        return { kind: 'skipped', reason: 'the stream shows it' };
      }
    }
    const url = record.responseUrl;
    const fresh = now.getTime() < Date.parse(record.createdAt) + RESPONSE_URL_TTL_MS;
    if (url && fresh && mayPostTo(url, this.hosts)) {
      if (!(await this.bot.store.claimDelivery(rootId, 'response_url', at))) {
        return { kind: 'skipped', reason: 'already delivered' };
      }
      const sent = await this.postResponse(url, task, types);
      if (sent) return { kind: 'sent' };
      // The one-shot URL failed: the group robot (if any) still tells the chat.
      return super.notify(task, types);
    }
    if (url && !mayPostTo(url, this.hosts)) {
      this.chatOptions.log.warn('response_url host not allowed', { taskId: task.taskId });
    }
    if (
      !(await this.bot.store.claimDelivery(rootId, this.webhookFor(task) ? 'webhook' : 'none', at))
    ) {
      return { kind: 'skipped', reason: 'already delivered' };
    }
    return super.notify(task, types);
  }

  private async postResponse(url: string, task: Task, types?: TaskTypeLookup): Promise<boolean> {
    try {
      const answer = await postMarkdown(
        this.chatOptions.fetch,
        url,
        // A bot's response_url takes markdown (not markdown_v2).
        { msgtype: 'markdown', content: chatMessageFor(task, types) },
        this.chatOptions.timeoutMs,
      );
      return answer.ok;
    } catch (e) {
      this.chatOptions.log.warn('response_url post failed', {
        taskId: task.taskId,
        error: e instanceof Error ? e.message : String(e),
      });
      return false;
    }
  }
}
