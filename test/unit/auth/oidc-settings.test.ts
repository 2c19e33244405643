import { OidcSettingsError, parseOidcSettings } from '../../../src/auth/oidc-settings';

describe('parseOidcSettings', () => {
  it('fills in the claim defaults', () => {
    // Prepare / Act
    const settings = parseOidcSettings(
      '{"issuer":"https://id.example.com","audience":"taskwire"}',
      'TASKWIRE_OIDC',
    );
    // Assess
    expect(settings).toEqual({
      issuer: 'https://id.example.com',
      audience: 'taskwire',
      rolesClaim: 'roles',
      groupsClaim: 'groups',
      userClaim: 'sub',
    });
  });

  it('keeps a JWKS URL, a list of audiences and claim names as given', () => {
    // Prepare
    const raw = {
      issuer: 'http://127.0.0.1:9000',
      audience: ['a', 'b'],
      jwksUrl: 'http://localhost:9000/keys',
      rolesClaim: 'cognito:groups',
      groupsClaim: 'teams',
      userClaim: 'email',
    };
    // Act
    const settings = parseOidcSettings(raw, 'context oidc');
    // Assess
    expect(settings).toEqual(raw);
  });

  it.each([
    ['not JSON', '{issuer', /TASKWIRE_OIDC is not JSON/],
    ['no issuer', { audience: 'a' }, /TASKWIRE_OIDC: issuer:/],
    ['no audience', { issuer: 'https://id.example.com' }, /TASKWIRE_OIDC: audience:/],
    ['an empty audience list', { issuer: 'https://id.example.com', audience: [] }, /audience/],
    [
      'an http issuer elsewhere',
      { issuer: 'http://id.example.com', audience: 'a' },
      /issuer: an https:\/\/ URL/,
    ],
    [
      'a JWKS URL that is no URL',
      { issuer: 'https://id.example.com', audience: 'a', jwksUrl: 'keys' },
      /jwksUrl/,
    ],
    [
      'an empty claim name',
      { issuer: 'https://id.example.com', audience: 'a', rolesClaim: '' },
      /rolesClaim/,
    ],
    [
      'a misspelt key',
      { issuer: 'https://id.example.com', audience: 'a', roleClaim: 'r' },
      /roleClaim/,
    ],
    ['an array', [], /TASKWIRE_OIDC/],
  ])('refuses %s, naming the field', (_what, raw, message) => {
    // Prepare / Act
    const act = () => parseOidcSettings(raw, 'TASKWIRE_OIDC');
    // Assess
    expect(act).toThrow(OidcSettingsError);
    expect(act).toThrow(message);
  });
});
