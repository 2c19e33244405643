import { createOidcVerifier, type OidcVerifier } from '../../src/auth/oidc';
import { OidcSettingsError, parseOidcSettings } from '../../src/auth/oidc-settings';
import { once } from '../runtime/lazy';
import { ConfigError } from './config';
import { ENV } from './env';

/**
 * The OIDC issuer this function trusts beside the HS256 secret (`TASKWIRE_OIDC`, set by the
 * stack from context `oidc` or `cognito`), or undefined for HS256 only. Built once per
 * container; the issuer's keys are cached at module scope (src/auth/remote-keys.ts), so warm
 * invocations verify without a request to the issuer.
 * @throws ConfigError naming TASKWIRE_OIDC when its JSON is malformed.
 */
export const oidcVerifier = /* @__PURE__ */ once((): OidcVerifier | undefined => {
  const raw = process.env[ENV.oidc];
  if (raw === undefined || raw.trim() === '') return undefined;
  try {
    return createOidcVerifier(parseOidcSettings(raw, ENV.oidc));
  } catch (e) {
    if (e instanceof OidcSettingsError) throw new ConfigError(e.message);
    throw e;
  }
});
