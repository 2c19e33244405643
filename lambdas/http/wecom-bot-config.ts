import type { CallbackKeys } from '../../src/wecom/callback';
import { createWecomCipher } from '../../src/wecom/crypto';
import { WecomConfigError } from '../../src/wecom/errors';
import { readSecret } from '../composition/cloud/secrets';
import { ConfigError } from '../config/config';
import { ENV } from '../config/env';

/** Environment of the intelligent bot (docs/operations.md, "Intelligent bot"). */
export const BOT_ENV = {
  secretArn: ENV.wecomBotSecretArn,
  token: ENV.wecomBotToken,
  encodingAesKey: ENV.wecomBotEncodingAesKey,
  windowSeconds: ENV.wecomStreamWindowSeconds,
  marginSeconds: ENV.wecomStreamMarginSeconds,
  responseHosts: ENV.wecomResponseHosts,
} as const;

/** The stream window: WeCom stops refreshing 6 minutes after the message. */
export const DEFAULT_STREAM_WINDOW_S = 360;
export const DEFAULT_STREAM_MARGIN_S = 30;

/** The bot's stream timing, milliseconds. */
export interface StreamTiming {
  readonly windowMs: number;
  /** Finish a running task's stream this long before the window ends (≤ a quarter of it). */
  readonly marginMs: number;
}

/** The bot's callback settings. */
export interface WecomBotSettings {
  readonly token: string;
  readonly encodingAesKey: string;
}

/**
 * The bot's callback keys: its receive id is empty and checked (a message encrypted for a
 * corp id is refused), unlike the XML app callback's.
 * @throws ConfigError when a setting is missing or the key is malformed.
 */
export function botKeysOf(settings: Partial<WecomBotSettings>, where: string): CallbackKeys {
  if (!settings.token) throw new ConfigError(`WeCom bot settings from ${where}: token is missing`);
  if (!settings.encodingAesKey) {
    throw new ConfigError(`WeCom bot settings from ${where}: encodingAesKey is missing`);
  }
  try {
    return {
      token: settings.token,
      cipher: createWecomCipher({ encodingAesKey: settings.encodingAesKey, receiveId: '' }),
    };
  } catch (e) {
    if (e instanceof WecomConfigError)
      throw new ConfigError(`WeCom bot settings from ${where}: ${e.message}`);
    throw e;
  }
}

/** The keys getter: the secret (cached per value) in the cloud, else WECOM_BOT_* at once. */
export function botKeysSource(env: NodeJS.ProcessEnv): () => Promise<CallbackKeys> {
  const arn = env[BOT_ENV.secretArn];
  if (arn) {
    let cached: { raw: string; keys: CallbackKeys } | undefined;
    return async () => {
      const raw = await readSecret(arn);
      if (cached?.raw !== raw) {
        let json: Partial<WecomBotSettings>;
        try {
          json = JSON.parse(raw) as Partial<WecomBotSettings>;
        } catch {
          throw new ConfigError(`WeCom bot secret ${arn} is not JSON`);
        }
        cached = { raw, keys: botKeysOf(json, `secret ${arn}`) };
      }
      return cached.keys;
    };
  }
  const keys = botKeysOf(
    { token: env[BOT_ENV.token] ?? '', encodingAesKey: env[BOT_ENV.encodingAesKey] ?? '' },
    `${BOT_ENV.token} / ${BOT_ENV.encodingAesKey}`,
  );
  return () => Promise.resolve(keys);
}

function positiveSeconds(raw: string | number | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new ConfigError(`${name}=${String(raw)}: seconds, above 0`);
  return value;
}

/** The stream timing from the environment (fractions of seconds allowed, for tests). */
export function readStreamTiming(
  env: NodeJS.ProcessEnv,
  override: { windowSeconds?: number; marginSeconds?: number } = {},
): StreamTiming {
  const windowS = positiveSeconds(
    override.windowSeconds ?? env[BOT_ENV.windowSeconds],
    BOT_ENV.windowSeconds,
    DEFAULT_STREAM_WINDOW_S,
  );
  const marginS = positiveSeconds(
    override.marginSeconds ?? env[BOT_ENV.marginSeconds],
    BOT_ENV.marginSeconds,
    DEFAULT_STREAM_MARGIN_S,
  );
  return { windowMs: windowS * 1000, marginMs: Math.min(marginS, windowS / 4) * 1000 };
}

/** Hosts a response_url may be posted to, from TASKWIRE_WECOM_RESPONSE_HOSTS (else WeCom's). */
export function readResponseHosts(env: NodeJS.ProcessEnv): readonly string[] | undefined {
  const hosts = env[BOT_ENV.responseHosts]
    ?.split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return hosts?.length ? hosts : undefined;
}
