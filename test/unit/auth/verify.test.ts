import { SignJWT, UnsecuredJWT } from 'jose';
import { createOidcVerifier } from '../../../src/auth/oidc';
import { parseOidcSettings } from '../../../src/auth/oidc-settings';
import { signToken } from '../../../src/auth/token';
import { type TokenTrust, verifyAnyToken } from '../../../src/auth/verify';
import { AppError } from '../../../src/errors/app-error';
import { startTestIssuer, type TestIssuer } from '../../support/oidc-issuer';

const SECRET = 'unit-secret-0123456789-0123456789-abcdef';
let issuer: TestIssuer;
let trust: TokenTrust;
let secretReads = 0;

beforeAll(async () => {
  issuer = await startTestIssuer();
  trust = {
    secret: () => {
      secretReads += 1;
      return Promise.resolve(SECRET);
    },
    oidc: createOidcVerifier(
      parseOidcSettings({ issuer: issuer.issuer, audience: issuer.audience }, 'test'),
    ),
  };
});
afterAll(() => issuer.close());
beforeEach(() => {
  secretReads = 0;
});

const refusal = (attempt: Promise<unknown>) =>
  attempt.then(
    () => 'accepted',
    (e: unknown) => (e instanceof AppError ? `${e.code}: ${e.message}` : String(e)),
  );

describe('verifyAnyToken', () => {
  it('verifies the deployment’s HS256 tokens beside the issuer’s', async () => {
    // Prepare
    const own = await signToken({ sub: 'svc', roles: ['worker'] }, SECRET);
    const issued = await issuer.token({ claims: { roles: ['admin'] } });
    // Act
    const fromSecret = await verifyAnyToken(own, trust);
    const fromIssuer = await verifyAnyToken(issued, trust);
    // Assess
    expect(fromSecret).toEqual({ userId: 'svc', roles: ['worker'], groups: [] });
    expect(fromIssuer).toEqual({ userId: 'oidc-user', roles: ['admin'], groups: [] });
  });

  it('fetches the secret only for HS256 tokens', async () => {
    // Prepare
    const issued = await issuer.token();
    // Act
    await verifyAnyToken(issued, trust);
    // Assess
    expect(secretReads).toBe(0);
  });

  it('checks an HS256 token "signed" with the issuer’s public key against the secret', async () => {
    // Prepare
    const forged = await new SignJWT({ iss: issuer.issuer, aud: issuer.audience, sub: 'x' })
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(issuer.publicKeyPem));
    // Act
    const answer = await refusal(verifyAnyToken(forged, trust));
    // Assess
    expect(answer).toBe('unauthorized: invalid token');
  });

  it.each([
    ['no token', async () => undefined, 'unauthorized: missing token'],
    ['an empty token', async () => '', 'unauthorized: missing token'],
    ['garbage', async () => 'garbage', 'unauthorized: invalid token'],
    [
      'alg none',
      async () =>
        new UnsecuredJWT({ iss: issuer.issuer, sub: 'x' }).setExpirationTime('5m').encode(),
      'unauthorized: algorithm not allowed',
    ],
  ])('refuses %s', async (_what, make, expected) => {
    // Prepare
    const token = await make();
    // Act
    const answer = await refusal(verifyAnyToken(token, trust));
    // Assess
    expect(answer).toBe(expected);
  });

  it('without an issuer sends every token down the HS256 path, as before', async () => {
    // Prepare
    const issued = await issuer.token();
    // Act
    const answer = await refusal(verifyAnyToken(issued, { secret: trust.secret }));
    // Assess
    expect(answer).toBe('unauthorized: invalid token');
  });
});
