import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { unauthorized } from '../errors/app-error';
import { type Principal, principalFromClaims, type Role, TASKWIRE_CLAIMS } from './claims';

export { type Principal, ROLES, type Role } from './claims';

const ALGORITHM = 'HS256';
/** A signing secret shorter than this is refused at start: HS256 is only as strong as its key. */
export const MIN_SECRET_LENGTH = 32;

const keyOf = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/**
 * Verifies an HS256 token and returns its principal.
 * @throws AppError `unauthorized` when the token is missing, malformed, wrongly signed, expired
 *   or has claims outside the contract (docs/protocol.md: sub and exp required).
 */
export async function verifyToken(
  token: string | undefined,
  secret: string,
  now: Date = new Date(),
): Promise<Principal> {
  if (!token) throw unauthorized('missing token');
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keyOf(secret), {
      algorithms: [ALGORITHM],
      currentDate: now,
      requiredClaims: ['sub', 'exp'],
    }));
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) throw unauthorized('token expired');
    throw unauthorized('invalid token');
  }
  return principalFromClaims(payload, TASKWIRE_CLAIMS);
}

/** What to put in a new token. */
export interface TokenRequest {
  readonly sub: string;
  readonly roles?: readonly Role[];
  readonly groups?: readonly string[];
  /** Lifetime in seconds (default one hour). */
  readonly ttlSeconds?: number;
}

/** Signs an HS256 token (used by `npm run token`, tests and benchmarks). */
export async function signToken(
  request: TokenRequest,
  secret: string,
  now: Date = new Date(),
): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({
    roles: [...(request.roles ?? ['client'])],
    groups: [...(request.groups ?? [])],
  })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(request.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (request.ttlSeconds ?? 3600))
    .sign(keyOf(secret));
}

/** True when the principal holds the role. */
export const hasRole = (p: Pick<Principal, 'roles'>, role: Role): boolean => p.roles.includes(role);

/** True when the principal's token allows joining the group. */
export const mayJoin = (p: Pick<Principal, 'groups'>, group: string): boolean =>
  p.groups.includes('*') || p.groups.includes(group);

/** Reads `Authorization: Bearer <token>`; undefined when absent or not a bearer header. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}
