import { bearerToken, hasRole, type Principal, verifyToken } from '../../src/auth/token';
import { forbidden, unauthorized } from '../../src/errors/app-error';
import { header, type HttpEvent } from './http-event';

/**
 * Checks `Authorization: Bearer <JWT>` and the admin role.
 * @throws AppError `unauthorized` (401) without a valid token, `forbidden` (403) without admin.
 */
export async function requireAdmin(
  event: HttpEvent,
  secret: string,
  now?: Date,
): Promise<Principal> {
  const token = bearerToken(header(event, 'authorization'));
  if (!token) throw unauthorized('send Authorization: Bearer <token with the admin role>');
  const principal = await verifyToken(token, secret, now);
  if (!hasRole(principal, 'admin')) throw forbidden('this route needs the admin role');
  return principal;
}
