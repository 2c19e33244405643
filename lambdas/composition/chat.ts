import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoRateLimiter } from '../../src/adapters/dynamodb/rate-limiter';
import type { Clock } from '../../src/ports/clock';
import type { Log } from '../../src/ports/log';
import { DynamoBotStore } from '../../src/adapters/dynamodb/wecom-bot-store';
import { ChatNotifier } from '../../src/wecom/chat-notifier';
import { BotAwareChatNotifier } from '../../src/wecom/bot/delivery';

/** What the chat notifier is built from. */
export interface ChatDeps {
  readonly fetch: typeof fetch;
  /** The document client of the tasks table, which holds the robot's rate-limit counters. */
  readonly doc: DynamoDBDocumentClient;
  readonly clock: Clock;
  readonly log: Log;
}

/** Settings of the chat notifier (lambdas/config/chat-config.ts reads them in the cloud). */
export interface ChatSettings {
  /** The table the rate-limit counters live in (the tasks table: no table of its own). */
  readonly tasksTable: string;
  /** The group robot used when a callback carried none. */
  readonly defaultWebhookUrl?: string;
  /** Hosts a webhook may point at (default WeCom's). */
  readonly allowedHosts?: readonly string[];
  /**
   * Hosts an intelligent bot's `response_url` may point at (default WeCom's). The notifier
   * always knows the bot's tasks (their records live in the tasks table, src/wecom/bot).
   */
  readonly responseHosts?: readonly string[];
}

/**
 * Posts finished tasks to the WeCom chat within the robot's rate limit, counted in DynamoDB so
 * that it holds across every worker at once.
 */
export const buildChatNotifier = (deps: ChatDeps, settings: ChatSettings): ChatNotifier =>
  new BotAwareChatNotifier(
    {
      fetch: deps.fetch,
      limiter: new DynamoRateLimiter(deps.doc, settings.tasksTable, deps.clock),
      log: deps.log,
      ...(settings.allowedHosts?.length ? { allowedHosts: settings.allowedHosts } : {}),
      ...(settings.defaultWebhookUrl ? { defaultWebhookUrl: settings.defaultWebhookUrl } : {}),
    },
    {
      store: new DynamoBotStore(deps.doc, settings.tasksTable),
      clock: deps.clock,
      ...(settings.responseHosts?.length ? { responseHosts: settings.responseHosts } : {}),
    },
  );
