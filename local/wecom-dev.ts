import type { WecomSettings } from '../lambdas/config/wecom-config';
import type { WecomBotSettings } from '../lambdas/http/wecom-bot-config';

/**
 * The WeCom settings `npm start` and `npm run wecom` use when WECOM_* are unset: a dev token,
 * a dev EncodingAESKey (43 characters) and a dev corp id. Public on purpose, local only.
 */
export const DEV_WECOM: WecomSettings = {
  token: 'taskwire-dev-token',
  encodingAesKey: 'VGFza3dpcmVMb2NhbERldktleUZvcldlQ29tMDEyMzQ',
  corpId: 'ww-taskwire-dev',
};

/** The settings local tools use: WECOM_* from the environment, else the dev ones. */
export function localWecom(env: NodeJS.ProcessEnv = process.env): WecomSettings {
  return {
    token: env.WECOM_TOKEN || DEV_WECOM.token,
    encodingAesKey: env.WECOM_ENCODING_AES_KEY || DEV_WECOM.encodingAesKey,
    corpId: env.WECOM_CORP_ID ?? DEV_WECOM.corpId,
  };
}

/**
 * The intelligent bot's dev settings (`npm start` prints them): its own token and
 * EncodingAESKey; its receive id is empty. Public on purpose, local only.
 */
export const DEV_WECOM_BOT: WecomBotSettings = {
  token: 'taskwire-dev-bot-token',
  encodingAesKey: 'VGFza3dpcmVMb2NhbERldkJvdEtleUZvcldlQ29tMDE',
};

/** The bot settings local tools use: WECOM_BOT_* from the environment, else the dev ones. */
export function localWecomBot(env: NodeJS.ProcessEnv = process.env): WecomBotSettings {
  return {
    token: env.WECOM_BOT_TOKEN || DEV_WECOM_BOT.token,
    encodingAesKey: env.WECOM_BOT_ENCODING_AES_KEY || DEV_WECOM_BOT.encodingAesKey,
  };
}
