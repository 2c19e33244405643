import { createServer } from 'node:http';
import { IdentityProviderError } from '../../../src/auth/keys';
import { createOidcVerifier } from '../../../src/auth/oidc';
import { parseOidcSettings } from '../../../src/auth/oidc-settings';
import { closeServer, listen } from '../../../local/net';
import { startTestIssuer, type TestIssuer } from '../../support/oidc-issuer';

const issuers: TestIssuer[] = [];
afterAll(() => Promise.all(issuers.map((i) => i.close())));

const started = async (options?: Parameters<typeof startTestIssuer>[0]) => {
  const issuer = await startTestIssuer(options);
  issuers.push(issuer);
  return issuer;
};
const settingsOf = (issuer: TestIssuer, extra: Record<string, unknown> = {}) =>
  parseOidcSettings({ issuer: issuer.issuer, audience: issuer.audience, ...extra }, 'test');

describe('the issuer keys', () => {
  it('discovers the JWKS once and keeps it across verifiers, as across invocations', async () => {
    // Prepare
    const issuer = await started();
    const token = await issuer.token();
    // Act: a cold start builds a verifier; later ones (other containers' code paths) share keys.
    for (let i = 0; i < 3; i += 1) await createOidcVerifier(settingsOf(issuer)).verify(token);
    // Assess
    expect(Object.fromEntries(issuer.hits)).toEqual({
      '/.well-known/openid-configuration': 1,
      '/jwks.json': 1,
    });
  });

  it('uses a configured JWKS URL without discovery', async () => {
    // Prepare
    const issuer = await started();
    const verifier = createOidcVerifier(settingsOf(issuer, { jwksUrl: issuer.jwksUrl }));
    // Act
    await verifier.verify(await issuer.token({ alg: 'ES256' }));
    // Assess
    expect(Object.fromEntries(issuer.hits)).toEqual({ '/jwks.json': 1 });
  });

  it('refuses a discovery document that names another issuer', async () => {
    // Prepare
    const issuer = await started({ documentIssuer: 'https://someone-else.example.com' });
    const verifier = createOidcVerifier(settingsOf(issuer));
    // Act
    const attempt = verifier.verify(await issuer.token());
    // Assess
    await expect(attempt).rejects.toThrow(IdentityProviderError);
    await expect(attempt).rejects.toThrow(/names issuer https:\/\/someone-else.example.com/);
    expect(issuer.hits.get('/jwks.json')).toBeUndefined();
  });

  it('reports an unreachable issuer as an outage, not as a bad token, and asks again', async () => {
    // Prepare: a port that was free a moment ago.
    const server = createServer();
    const port = await listen(server, '127.0.0.1');
    await closeServer(server);
    const settings = parseOidcSettings(
      { issuer: `http://127.0.0.1:${port}`, audience: 'a' },
      'test',
    );
    const verifier = createOidcVerifier(settings);
    const issuer = await started();
    const token = await issuer.token({ claims: { iss: settings.issuer } });
    // Act
    const first = verifier.verify(token);
    const second = verifier.verify(token);
    // Assess: each attempt is its own discovery (a failure is not cached).
    await expect(first).rejects.toThrow(IdentityProviderError);
    await expect(second).rejects.toThrow(/OIDC discovery http:\/\/127\.0\.0\.1:\d+\/\.well-known/);
  });

  it('reports a key set that cannot be fetched as an outage', async () => {
    // Prepare
    const issuer = await started();
    const verifier = createOidcVerifier(
      settingsOf(issuer, { jwksUrl: `${issuer.issuer}/no-such-keys` }),
    );
    // Act
    const attempt = verifier.verify(await issuer.token());
    // Assess
    await expect(attempt).rejects.toThrow(IdentityProviderError);
  });
});
