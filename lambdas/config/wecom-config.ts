import * as z from '../../src/validation/zod';
import { ENV } from './env';
import type { CallbackKeys } from '../../src/wecom/callback';
import { createWecomCipher } from '../../src/wecom/crypto';
import { WecomConfigError } from '../../src/wecom/errors';
import { readSecret } from '../composition/cloud/secrets';
import { ConfigError } from './config';

/** The WeCom app's (or bot's) callback settings. */
export const wecomSettingsSchema = z.object({
  token: z.string({ error: 'token is missing' }).check(z.minLength(1, 'token is empty')),
  encodingAesKey: z
    .string({ error: 'encodingAesKey is missing' })
    .check(z.minLength(1, 'encodingAesKey is empty')),
  /** The corp id; empty for smart-bot callbacks, whose receive id is not checked. */
  corpId: z.string(),
});
export type WecomSettings = z.infer<typeof wecomSettingsSchema>;

/**
 * Builds the callback keys from settings.
 * @throws ConfigError when a setting is missing or the EncodingAESKey is malformed.
 */
export function wecomKeysOf(settings: unknown, where: string): CallbackKeys {
  const parsed = wecomSettingsSchema.safeParse(settings);
  if (!parsed.success) {
    throw new ConfigError(
      `WeCom settings from ${where}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  try {
    const { token, encodingAesKey, corpId } = parsed.data;
    return {
      token,
      cipher: createWecomCipher({
        encodingAesKey,
        receiveId: corpId,
        ...(corpId === '' ? { skipReceiveIdCheck: true } : {}),
      }),
    };
  } catch (e) {
    if (e instanceof WecomConfigError)
      throw new ConfigError(`WeCom settings from ${where}: ${e.message}`);
    throw e;
  }
}

/**
 * Returns a getter for the callback keys: from Secrets Manager (JSON with token,
 * encodingAesKey, corpId; cached five minutes) in the cloud, or from WECOM_TOKEN,
 * WECOM_ENCODING_AES_KEY and WECOM_CORP_ID locally. Local settings are checked at once.
 */
export function wecomKeysSource(env: NodeJS.ProcessEnv): () => Promise<CallbackKeys> {
  const arn = env[ENV.wecomSecretArn];
  if (arn) {
    let cached: { raw: string; keys: CallbackKeys } | undefined;
    return async () => {
      const raw = await readSecret(arn);
      if (typeof raw !== 'string') throw new ConfigError(`WeCom secret ${arn} is not a string`);
      if (cached?.raw !== raw) {
        let json: unknown;
        try {
          json = JSON.parse(raw);
        } catch {
          throw new ConfigError(`WeCom secret ${arn} is not JSON`);
        }
        cached = { raw, keys: wecomKeysOf(json, `secret ${arn}`) };
      }
      return cached.keys;
    };
  }
  const keys = wecomKeysOf(
    {
      token: env[ENV.wecomToken],
      encodingAesKey: env[ENV.wecomEncodingAesKey],
      corpId: env[ENV.wecomCorpId] ?? '',
    },
    `${ENV.wecomToken} / ${ENV.wecomEncodingAesKey} / ${ENV.wecomCorpId}`,
  );
  return () => Promise.resolve(keys);
}
