import { SignJWT, UnsecuredJWT } from 'jose';
import { createOidcVerifier, OIDC_CLOCK_TOLERANCE_SECONDS } from '../../../src/auth/oidc';
import { parseOidcSettings } from '../../../src/auth/oidc-settings';
import type { Principal } from '../../../src/auth/token';
import { AppError } from '../../../src/errors/app-error';
import { startTestIssuer, type TestIssuer } from '../../support/oidc-issuer';

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

const verifierFor = (extra: Record<string, unknown> = {}) =>
  createOidcVerifier(
    parseOidcSettings({ issuer: issuer.issuer, audience: issuer.audience, ...extra }, 'test'),
  );

/** Asserts a verification is refused as `unauthorized` with exactly this reason. */
async function expectRefused(attempt: Promise<Principal>, reason: string): Promise<void> {
  const error: unknown = await attempt.then(
    () => new Error('expected the token to be refused'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect({ code: (error as AppError).code, message: (error as AppError).message }).toEqual({
    code: 'unauthorized',
    message: reason,
  });
}

describe('createOidcVerifier', () => {
  it.each(['RS256', 'ES256'] as const)('accepts a good %s token', async (alg) => {
    // Prepare
    const token = await issuer.token({
      alg,
      claims: { roles: ['worker'], groups: ['ops'] },
    });
    // Act
    const principal = await verifierFor().verify(token);
    // Assess
    expect(principal).toEqual({ userId: 'oidc-user', roles: ['worker'], groups: ['ops'] });
  });

  it('treats a missing roles claim as client and missing groups as none', async () => {
    // Prepare
    const token = await issuer.token();
    // Act
    const principal = await verifierFor().verify(token);
    // Assess
    expect(principal).toEqual({ userId: 'oidc-user', roles: ['client'], groups: [] });
  });

  it('reads user, roles and groups from the configured claims', async () => {
    // Prepare
    const token = await issuer.token({
      claims: {
        email: 'ann@example.com',
        'cognito:groups': ['admin'],
        teams: ['ops', 'dev'],
        roles: ['worker'],
      },
    });
    const verifier = verifierFor({
      userClaim: 'email',
      rolesClaim: 'cognito:groups',
      groupsClaim: 'teams',
    });
    // Act
    const principal = await verifier.verify(token);
    // Assess
    expect(principal).toEqual({
      userId: 'ann@example.com',
      roles: ['admin'],
      groups: ['ops', 'dev'],
    });
  });

  it('accepts one of several audiences', async () => {
    // Prepare
    const token = await issuer.token({ claims: { aud: 'console' } });
    // Act
    const principal = await verifierFor({ audience: ['api', 'console'] }).verify(token);
    // Assess
    expect(principal.userId).toBe('oidc-user');
  });

  it('allows a small clock skew on exp', async () => {
    // Prepare: expired by less than the tolerance.
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.token({ claims: { exp: now - OIDC_CLOCK_TOLERANCE_SECONDS + 5 } });
    // Act
    const principal = await verifierFor().verify(token);
    // Assess
    expect(principal.userId).toBe('oidc-user');
  });

  const now = () => Math.floor(Date.now() / 1000);
  const badTokens: [string, () => Promise<string>, string][] = [
    [
      'a wrong issuer',
      () => issuer.token({ claims: { iss: 'https://evil.example.com' } }),
      'wrong issuer',
    ],
    ['no issuer', () => issuer.token({ claims: { iss: undefined } }), 'wrong issuer'],
    ['a wrong audience', () => issuer.token({ claims: { aud: 'someone-else' } }), 'wrong audience'],
    ['no audience', () => issuer.token({ claims: { aud: undefined } }), 'wrong audience'],
    ['an unknown kid', () => issuer.token({ kid: 'rotated-away' }), 'unknown signing key'],
    ['a key the JWKS does not hold', () => issuer.token({ foreignKey: true }), 'invalid token'],
    [
      'alg none',
      async () =>
        new UnsecuredJWT({
          iss: issuer.issuer,
          aud: issuer.audience,
          sub: 'x',
          exp: now() + 60,
        }).encode(),
      'algorithm not allowed',
    ],
    [
      'HS256 signed with the public key',
      () =>
        new SignJWT({ iss: issuer.issuer, aud: issuer.audience, sub: 'x', exp: now() + 60 })
          .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
          .sign(new TextEncoder().encode(issuer.publicKeyPem)),
      'algorithm not allowed',
    ],
    [
      'an expired token',
      () => issuer.token({ claims: { exp: now() - OIDC_CLOCK_TOLERANCE_SECONDS - 60 } }),
      'token expired',
    ],
    ['no exp', () => issuer.token({ claims: { exp: undefined } }), 'invalid token claims'],
    [
      'an unknown role',
      () => issuer.token({ claims: { roles: ['root'] } }),
      'invalid token claims',
    ],
    [
      'roles that are not a list',
      () => issuer.token({ claims: { roles: 'admin' } }),
      'invalid token claims',
    ],
    [
      'a user id outside the pattern',
      () => issuer.token({ claims: { sub: 'a#b' } }),
      'invalid token claims',
    ],
    [
      'a malformed group',
      () => issuer.token({ claims: { groups: ['a/b'] } }),
      'invalid token claims',
    ],
    ['garbage', () => Promise.resolve('not.a.jwt'), 'invalid token'],
  ];

  it.each(badTokens)('refuses %s', async (_what, make, reason) => {
    // Prepare
    const token = await make();
    // Act
    const attempt = verifierFor().verify(token);
    // Assess
    await expectRefused(attempt, reason);
  });
});
