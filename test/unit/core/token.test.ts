import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import {
  bearerToken,
  hasRole,
  mayJoin,
  signToken,
  verifyToken,
  type Principal,
} from '../../../src/auth/token';
import { AppError } from '../../../src/errors/app-error';
import { httpStatusOf } from '../../../lambdas/http/error-response';

const SECRET = 'unit-secret-0123456789-0123456789-abcdef';
const OTHER_SECRET = 'other-secret-0123456789-0123456789-abcdef';
const NOW = new Date('2024-06-01T12:00:00.000Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const key = (secret: string) => new TextEncoder().encode(secret);

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs an arbitrary claim set (no defaults), so tests control exactly what is in the token. */
async function rawToken(
  claims: JWTPayload & Record<string, unknown>,
  options: { alg?: string; secret?: string } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .sign(key(options.secret ?? SECRET));
}

/** Asserts a verifyToken call fails with `unauthorized` and the given message. */
async function expectUnauthorized(attempt: Promise<Principal>, message: string | RegExp) {
  const error: unknown = await attempt.then(
    () => {
      throw new Error('expected verifyToken to reject');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.code).toBe('unauthorized');
  expect(httpStatusOf(appError)).toBe(401);
  if (typeof message === 'string') expect(appError.message).toBe(message);
  else expect(appError.message).toMatch(message);
}

describe('verifyToken', () => {
  it('accepts a valid token and defaults roles to client and groups to none', async () => {
    // Prepare
    const token = await rawToken({ sub: 'alice', exp: NOW_S + 60 });

    // Act
    const principal = await verifyToken(token, SECRET, NOW);

    // Assess
    expect(principal).toEqual({ userId: 'alice', roles: ['client'], groups: [] });
  });

  it('returns the roles and groups the token carries and ignores unknown claims', async () => {
    // Prepare
    const token = await rawToken({
      sub: 'ops@example.com',
      exp: NOW_S + 60,
      roles: ['worker', 'admin'],
      groups: ['ops', 'dev.team'],
      tenant: 'acme',
    });

    // Act
    const principal = await verifyToken(token, SECRET, NOW);

    // Assess
    expect(principal).toEqual({
      userId: 'ops@example.com',
      roles: ['worker', 'admin'],
      groups: ['ops', 'dev.team'],
    });
  });

  it('accepts the wildcard group "*"', async () => {
    // Prepare
    const token = await rawToken({ sub: 'root', exp: NOW_S + 60, groups: ['*'] });

    // Act
    const principal = await verifyToken(token, SECRET, NOW);

    // Assess
    expect(principal.groups).toEqual(['*']);
  });

  it('round-trips a token made by signToken', async () => {
    // Prepare
    const token = await signToken(
      { sub: 'bob', roles: ['admin'], groups: ['ops'], ttlSeconds: 120 },
      SECRET,
      NOW,
    );

    // Act
    const principal = await verifyToken(token, SECRET, new Date(NOW.getTime() + 119_000));

    // Assess
    expect(principal).toEqual({ userId: 'bob', roles: ['admin'], groups: ['ops'] });
  });

  it.each([
    ['undefined', undefined],
    ['an empty string', ''],
  ])('rejects a missing token (%s) with "missing token"', async (_what, token) => {
    // Prepare / Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'missing token');
  });

  it.each([
    ['plain text', 'not-a-jwt'],
    ['two segments', 'abc.def'],
    ['three garbage segments', 'a.b.c'],
    ['empty segments', '..'],
    ['a header that is not JSON', `${Buffer.from('nope').toString('base64url')}.e30.c2ln`],
    ['whitespace', '   '],
  ])('rejects a malformed token (%s) with "invalid token"', async (_what, token) => {
    // Prepare / Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'invalid token');
  });

  it('rejects a token signed with another secret', async () => {
    // Prepare
    const token = await rawToken({ sub: 'alice', exp: NOW_S + 60 }, { secret: OTHER_SECRET });

    // Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'invalid token');
  });

  it('rejects a token whose payload was changed after signing', async () => {
    // Prepare
    const genuine = await rawToken({ sub: 'alice', exp: NOW_S + 60 });
    const [header, , signature] = genuine.split('.');
    const forged = `${header}.${b64url({ sub: 'alice', exp: NOW_S + 60, roles: ['admin'] })}.${signature}`;

    // Act
    const attempt = verifyToken(forged, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'invalid token');
  });

  it('rejects an expired token, judged against the injected time', async () => {
    // Prepare
    const token = await rawToken({ sub: 'alice', exp: NOW_S + 60 });
    const later = new Date(NOW.getTime() + 61_000);

    // Act
    const valid = await verifyToken(token, SECRET, NOW);
    const attempt = verifyToken(token, SECRET, later);

    // Assess
    expect(valid.userId).toBe('alice');
    await expectUnauthorized(attempt, 'token expired');
  });

  it('treats a token as expired at the second of exp', async () => {
    // Prepare
    const token = await rawToken({ sub: 'alice', exp: NOW_S });

    // Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'token expired');
  });

  it('rejects an unsigned token (alg "none")', async () => {
    // Prepare
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'root', exp: NOW_S + 60, roles: ['admin'] })}.`;

    // Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'invalid token');
  });

  it('rejects a genuine RS256 token', async () => {
    // Prepare
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ sub: 'alice', exp: NOW_S + 60 })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(privateKey);

    // Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'invalid token');
  });

  it('rejects an RS256 header over an HMAC signature made with the secret (alg confusion)', async () => {
    // Prepare
    const hs = await rawToken({ sub: 'alice', exp: NOW_S + 60 });
    const [, payload, signature] = hs.split('.');
    const token = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${payload}.${signature}`;

    // Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'invalid token');
  });

  it('rejects HS512 even when signed with the right secret', async () => {
    // Prepare
    const token = await rawToken({ sub: 'alice', exp: NOW_S + 60 }, { alg: 'HS512' });

    // Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'invalid token');
  });

  it('rejects a token without sub', async () => {
    // Prepare
    const token = await rawToken({ exp: NOW_S + 60 });

    // Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'invalid token');
  });

  it('rejects a token without exp', async () => {
    // Prepare
    const token = await rawToken({ sub: 'alice' });

    // Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'invalid token');
  });

  it.each<[string, Record<string, unknown>]>([
    ['an unknown role', { roles: ['superuser'] }],
    ['roles as a string', { roles: 'admin' }],
    ['a non-string role', { roles: [1] }],
    ['a mixed list with an unknown role', { roles: ['client', 'root'] }],
    ['roles as null', { roles: null }],
    ['groups as a string', { groups: 'ops' }],
    ['a group with a key separator', { groups: ['a#b'] }],
    ['an empty group name', { groups: [''] }],
  ])('rejects %s with "invalid token claims"', async (_what, extra) => {
    // Prepare
    const token = await rawToken({ sub: 'alice', exp: NOW_S + 60, ...extra });

    // Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'invalid token claims');
  });

  it.each([
    ['a "#" key separator', 'a#b'],
    ['a path separator', 'a/b'],
    ['a space', 'a b'],
    ['a non-ASCII letter', 'jörg'],
    ['an empty string', ''],
    ['129 characters', 'x'.repeat(129)],
  ])('rejects a sub with %s with "invalid token claims"', async (_what, sub) => {
    // Prepare
    const token = await rawToken({ sub, exp: NOW_S + 60 });

    // Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'invalid token claims');
  });

  it('accepts a sub of exactly 128 allowed characters', async () => {
    // Prepare
    const sub = `a.b_c-d@e:${'x'.repeat(118)}`;
    const token = await rawToken({ sub, exp: NOW_S + 60 });

    // Act
    const principal = await verifyToken(token, SECRET, NOW);

    // Assess
    expect(principal.userId).toBe(sub);
  });

  it('rejects a non-string sub', async () => {
    // Prepare
    const token = await rawToken({ sub: 42 as unknown as string, exp: NOW_S + 60 });

    // Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'invalid token claims');
  });

  it('rejects a non-numeric exp', async () => {
    // Prepare
    const token = await rawToken({
      sub: 'alice',
      exp: String(NOW_S + 60) as unknown as number,
    });

    // Act
    const attempt = verifyToken(token, SECRET, NOW);

    // Assess
    await expectUnauthorized(attempt, 'invalid token');
  });
});

describe('mayJoin and hasRole', () => {
  it.each([
    [['*'], 'anything', true],
    [['*'], 'ops', true],
    [['ops'], 'ops', true],
    [['ops'], 'dev', false],
    [['ops'], 'OPS', false],
    [[], 'ops', false],
  ])('groups %j may join %s: %s', (groups, group, expected) => {
    // Prepare
    const principal = { groups };

    // Act
    const allowed = mayJoin(principal, group);

    // Assess
    expect(allowed).toBe(expected);
  });

  it('checks roles exactly', () => {
    // Prepare
    const worker = { roles: ['client', 'worker'] as const };

    // Act / Assess
    expect(hasRole(worker, 'worker')).toBe(true);
    expect(hasRole(worker, 'admin')).toBe(false);
  });
});

describe('bearerToken', () => {
  it.each<[string, string | undefined, string | undefined]>([
    ['a bearer header', 'Bearer abc.def.ghi', 'abc.def.ghi'],
    ['lower-case scheme', 'bearer abc', 'abc'],
    ['upper-case scheme', 'BEARER abc', 'abc'],
    ['extra spaces', 'Bearer    abc  ', 'abc'],
    ['a tab separator', 'Bearer\tabc', 'abc'],
    ['no header', undefined, undefined],
    ['an empty header', '', undefined],
    ['the scheme alone', 'Bearer', undefined],
    ['the scheme and a space', 'Bearer ', undefined],
    ['another scheme', 'Basic dXNlcjpwYXNz', undefined],
    ['two tokens', 'Bearer abc def', undefined],
    ['no separator', 'Bearerabc', undefined],
    ['a leading space', ' Bearer abc', undefined],
  ])('reads %s', (_what, header, expected) => {
    // Prepare / Act
    const token = bearerToken(header);

    // Assess
    expect(token).toBe(expected);
  });
});
