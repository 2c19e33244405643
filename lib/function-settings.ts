import type { Node } from 'constructs';
import { ENV } from '../lambdas/catalog';
import { ConfigError } from '../lambdas/config/config';
import { readTaskConfig } from '../lambdas/config/task-config';

/**
 * Deploy-time settings that reach functions as environment variables, read from CDK context
 * (cdk.context.json, or `-c key=value`): the task settings behind the `taskConfig` need and the
 * chat settings behind `chatWebhook`. Credentials live in Secrets Manager, not here; the one
 * borderline value is the default webhook URL, whose `key=` lets anyone post to that chat group,
 * so keep it out of committed context files.
 */

/** Environment variables a need adds. */
export type SettingsEnvironment = Readonly<Record<string, string>>;

/** Context keys of the task settings. */
export const TASK_CONTEXT_KEYS = {
  /** JSON object: server name → { baseUrl, path?, timeoutMs?, maxBytes? }. */
  downloadServers: 'downloadServers',
  /** A key of downloadServers. */
  defaultDownloadServer: 'defaultDownloadServer',
  /** JSON object: alias word → command word; optional (the code has defaults). */
  commandAliases: 'commandAliases',
} as const;

/**
 * Reads the task settings (download servers without credentials, default server, command
 * aliases) from context and checks them with the very function a Lambda runs at
 * cold start (readTaskConfig), so a typo fails `cdk synth` instead of the first WeCom message.
 * Returns undefined when no download servers are configured (offline synth, fresh checkout).
 */
export function readTaskSettings(node: Node): SettingsEnvironment | undefined {
  const servers = jsonContext(node, TASK_CONTEXT_KEYS.downloadServers);
  if (servers === undefined) return undefined;
  const defaultServer = stringContext(node, TASK_CONTEXT_KEYS.defaultDownloadServer);
  const aliases = jsonContext(node, TASK_CONTEXT_KEYS.commandAliases);
  const environment: Record<string, string> = {
    [ENV.downloadServers]: servers,
    ...(defaultServer === undefined ? {} : { [ENV.defaultDownloadServer]: defaultServer }),
    ...(aliases === undefined ? {} : { [ENV.commandAliases]: aliases }),
  };
  try {
    // The table and queue settings come from other needs; stand-ins let the check run.
    readTaskConfig({ ...environment, [ENV.tasksTable]: 'check', [ENV.taskQueues]: '{}' });
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new Error(`task settings from context: ${e.message}`, { cause: e });
    }
    throw e;
  }
  return environment;
}

/** Context keys of the chat settings. */
export const CHAT_CONTEXT_KEYS = {
  /** The group robot webhook used when a WeCom callback carried none (carries the group key). */
  wecomWebhookUrl: 'wecomWebhookUrl',
  /** Comma-separated hosts a webhook may point at (the code defaults to WeCom's). */
  wecomWebhookHosts: 'wecomWebhookHosts',
} as const;

/** Reads the chat settings; both are optional, so this may be empty. */
export function readChatSettings(node: Node): SettingsEnvironment {
  const url = stringContext(node, CHAT_CONTEXT_KEYS.wecomWebhookUrl);
  const hosts = stringContext(node, CHAT_CONTEXT_KEYS.wecomWebhookHosts);
  if (url !== undefined && !/^https:\/\/[^/\s]+\/\S*$/.test(url)) {
    throw new Error(`context ${CHAT_CONTEXT_KEYS.wecomWebhookUrl} must be an https:// URL`);
  }
  return {
    ...(url === undefined ? {} : { [ENV.wecomWebhookUrl]: url }),
    ...(hosts === undefined ? {} : { [ENV.wecomWebhookHosts]: hosts }),
  };
}

function contextValue(node: Node, key: string): unknown {
  const value: unknown = node.tryGetContext(key);
  return value === null || value === '' ? undefined : value;
}

// cdk.json gives objects, `-c key=…` gives strings: both end up as the JSON text the env holds.
function jsonContext(node: Node, key: string): string | undefined {
  const value = contextValue(node, key);
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function stringContext(node: Node, key: string): string | undefined {
  const value = contextValue(node, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new Error(`context ${key} must be a string`);
  return value;
}
