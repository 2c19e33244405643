import { errors as joseErrors, jwtVerify } from 'jose';
import { unauthorized } from '../errors/app-error';
import { type Principal, principalFromClaims } from './claims';
import { IdentityProviderError, type KeyResolver } from './keys';
import type { OidcSettings } from './oidc-settings';
import { remoteKeyResolver } from './remote-keys';

/** Signature algorithms an issuer's tokens may use: asymmetric only, never `none` or HS*. */
export const OIDC_ALGORITHMS = ['RS256', 'ES256'] as const;
/** Clock skew allowed between the issuer and us on `exp` and `nbf`. */
export const OIDC_CLOCK_TOLERANCE_SECONDS = 30;

/** Verifies the tokens of one OpenID Connect issuer. */
export interface OidcVerifier {
  /** The trusted issuer (for logs). */
  readonly issuer: string;
  /**
   * Verifies an RS256/ES256 token against the issuer's keys and returns its principal.
   * @throws AppError `unauthorized` for a token to refuse (wrong issuer or audience, unknown
   *   key, algorithm not allowed, expired, bad claims); IdentityProviderError when the issuer's
   *   keys cannot be fetched.
   */
  verify(token: string, now?: Date): Promise<Principal>;
}

/** Why jose refused a token, as the caller's log reads it. */
function refusal(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'token expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'iss') return 'wrong issuer';
    if (e.claim === 'aud') return 'wrong audience';
    return 'invalid token claims';
  }
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (e instanceof joseErrors.JWKSNoMatchingKey) return 'unknown signing key';
  return 'invalid token';
}

/**
 * A verifier for the issuer of `settings`: `iss` must equal the issuer, `aud` hold the audience,
 * `exp` be present and not past (with {@link OIDC_CLOCK_TOLERANCE_SECONDS}); user, roles and
 * groups come from the configured claims under the rules of HS256 tokens (claims.ts).
 * @param keys the key resolver port (default: the issuer's JWKS over HTTP, cached per process).
 */
export function createOidcVerifier(
  settings: OidcSettings,
  keys: KeyResolver = remoteKeyResolver(settings),
): OidcVerifier {
  const audience =
    typeof settings.audience === 'string' ? settings.audience : [...settings.audience];
  return {
    issuer: settings.issuer,
    async verify(token, now = new Date()) {
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          algorithms: [...OIDC_ALGORITHMS],
          issuer: settings.issuer,
          audience,
          clockTolerance: OIDC_CLOCK_TOLERANCE_SECONDS,
          currentDate: now,
          requiredClaims: ['exp'],
        }));
      } catch (e) {
        if (e instanceof IdentityProviderError) throw e;
        throw unauthorized(refusal(e));
      }
      return principalFromClaims(payload, settings);
    },
  };
}
