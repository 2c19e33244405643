import type { JWTVerifyGetKey } from 'jose';

/**
 * Port: finds the public key a token was signed with, from its protected header (`kid`,
 * `alg`). The cloud and local runtimes use {@link remoteKeyResolver}'s JWKS over HTTP; a test
 * may hand in a local key set. It rejects with jose's `JWKSNoMatchingKey` when no key fits
 * (a token to refuse) and with {@link IdentityProviderError} when the keys cannot be had (an
 * outage to report, not the caller's fault).
 */
export type KeyResolver = JWTVerifyGetKey;

/** The issuer's discovery document or key set could not be fetched or made no sense. */
export class IdentityProviderError extends Error {
  public constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdentityProviderError';
  }
}
