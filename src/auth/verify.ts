import { decodeProtectedHeader } from 'jose';
import { unauthorized } from '../errors/app-error';
import type { Principal } from './claims';
import type { OidcVerifier } from './oidc';
import { verifyToken } from './token';

/** What a deployment trusts: its own HS256 secret, and optionally one OIDC issuer. */
export interface TokenTrust {
  /** The HS256 signing secret (fetched only for HS256 tokens). */
  readonly secret: () => Promise<string>;
  readonly oidc?: OidcVerifier | undefined;
}

/**
 * Verifies a token from either source and returns its principal. The header's `alg` only picks
 * the path; each path then enforces its own algorithms, so the choice grants nothing: an HS256
 * token (even one "signed" with the issuer's public key) is checked against the secret, any
 * other `alg` (including `none`) goes to the issuer, which accepts RS256/ES256 only. Without an
 * issuer every token takes the HS256 path, exactly as before identity providers existed.
 * @throws AppError `unauthorized` for a missing or refused token.
 */
export async function verifyAnyToken(
  token: string | undefined,
  trust: TokenTrust,
  now?: Date,
): Promise<Principal> {
  if (!token) throw unauthorized('missing token');
  if (!trust.oidc) return verifyToken(token, await trust.secret(), now);
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw unauthorized('invalid token');
  }
  if (alg === 'HS256') return verifyToken(token, await trust.secret(), now);
  return trust.oidc.verify(token, now);
}
