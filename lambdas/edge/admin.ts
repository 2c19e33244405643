import type { OidcVerifier } from '../../src/auth/oidc';
import { bearerToken, hasRole, type Principal } from '../../src/auth/token';
import { verifyAnyToken } from '../../src/auth/verify';
import { forbidden, unauthorized } from '../../src/errors/app-error';
import { header, type HttpEvent } from './http-event';

/**
 * Checks `Authorization: Bearer <JWT>` (an HS256 token of the secret, or one of the OIDC issuer
 * when there is one) and the admin role.
 * @throws AppError `unauthorized` (401) without a valid token, `forbidden` (403) without admin.
 */
export async function requireAdmin(
  event: HttpEvent,
  secret: string,
  now?: Date,
  oidc?: OidcVerifier,
): Promise<Principal> {
  const token = bearerToken(header(event, 'authorization'));
  if (!token) throw unauthorized('send Authorization: Bearer <token with the admin role>');
  const principal = await verifyAnyToken(
    token,
    { secret: () => Promise.resolve(secret), oidc },
    now,
  );
  if (!hasRole(principal, 'admin')) throw forbidden('this route needs the admin role');
  return principal;
}
