import { ENV } from './env';
import { requireEnv } from './config';

/** The chat settings of a function that posts to WeCom (see lambdas/composition/chat.ts). */
export interface CloudChatSettings {
  readonly tasksTable: string;
  readonly defaultWebhookUrl?: string;
  /** Hosts a webhook may point at; absent means WeCom's own. */
  readonly allowedHosts?: readonly string[];
  /** Hosts an intelligent bot's response_url may point at; absent means WeCom's own. */
  readonly responseHosts?: readonly string[];
}

/**
 * Reads the chat settings: the tasks table (rate-limit counters), WECOM_WEBHOOK_URL and the
 * comma-separated WECOM_WEBHOOK_HOSTS.
 * @throws ConfigError when the tasks table is not set.
 */
export function readChatSettings(env: NodeJS.ProcessEnv): CloudChatSettings {
  const hosts = env[ENV.wecomWebhookHosts]
    ?.split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const defaultWebhookUrl = env[ENV.wecomWebhookUrl];
  const responseHosts = env[ENV.wecomResponseHosts]
    ?.split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return {
    tasksTable: requireEnv(env, ENV.tasksTable),
    ...(defaultWebhookUrl ? { defaultWebhookUrl } : {}),
    ...(hosts?.length ? { allowedHosts: hosts } : {}),
    ...(responseHosts?.length ? { responseHosts } : {}),
  };
}
