import { createServer, type Server } from 'node:http';
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { closeServer, listen } from '../../local/net';

/** What a test token may change from the issuer's good defaults. */
export interface IssuerTokenOptions {
  /** Claims on top of (or, when `undefined`, removing) iss, aud, sub, exp. */
  readonly claims?: Record<string, unknown>;
  readonly alg?: 'RS256' | 'ES256';
  /** The `kid` of the header (default: the key's own). */
  readonly kid?: string;
  /** Sign with a key the JWKS does not publish (but the `kid` of a published one). */
  readonly foreignKey?: boolean;
}

/** A local OpenID Connect issuer: keys made here, JWKS and discovery on 127.0.0.1. */
export interface TestIssuer {
  /** `http://127.0.0.1:<port>`: the `iss` of its tokens. */
  readonly issuer: string;
  readonly jwksUrl: string;
  /** The audience its tokens carry by default. */
  readonly audience: string;
  /** Requests per path, to see what was fetched and how often. */
  readonly hits: Map<string, number>;
  /** A signed token with good defaults (expires in five minutes). */
  token(options?: IssuerTokenOptions): Promise<string>;
  /** The RS256 public key as PEM, which an alg-confusion attack would use as an HS256 secret. */
  readonly publicKeyPem: string;
  close(): Promise<void>;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

async function signingKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, privateKey, publicKey, jwk };
}

/**
 * Starts an issuer serving `/.well-known/openid-configuration` and `/jwks.json` with one RS256
 * and one ES256 key. `documentIssuer` lets a test serve a discovery document naming another
 * issuer.
 */
export async function startTestIssuer(
  options: { audience?: string; documentIssuer?: string } = {},
): Promise<TestIssuer> {
  const keys = {
    RS256: await signingKey('RS256', 'rsa-1'),
    ES256: await signingKey('ES256', 'ec-1'),
  };
  const foreign = {
    RS256: await signingKey('RS256', 'rsa-1'),
    ES256: await signingKey('ES256', 'ec-1'),
  };
  const hits = new Map<string, number>();
  let issuer = '';
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/.well-known/openid-configuration') {
      return json({
        issuer: options.documentIssuer ?? issuer,
        jwks_uri: `${issuer}/jwks.json`,
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      });
    }
    if (path === '/jwks.json') return json({ keys: [keys.RS256.jwk, keys.ES256.jwk] });
    res.writeHead(404).end();
  });
  const port = await listen(server, '127.0.0.1');
  issuer = `http://127.0.0.1:${port}`;
  const audience = options.audience ?? 'taskwire-test';
  const publicKeyPem = await exportSPKI(keys.RS256.publicKey);
  return {
    issuer,
    jwksUrl: `${issuer}/jwks.json`,
    audience,
    hits,
    publicKeyPem,
    async token(t = {}) {
      const alg = t.alg ?? 'RS256';
      const key = (t.foreignKey ? foreign : keys)[alg];
      const now = Math.floor(Date.now() / 1000);
      const claims: Record<string, unknown> = {
        iss: issuer,
        aud: audience,
        sub: 'oidc-user',
        iat: now,
        exp: now + 300,
        ...t.claims,
      };
      for (const [name, value] of Object.entries(claims)) {
        if (value === undefined) delete claims[name];
      }
      return new SignJWT(claims as JWTPayload)
        .setProtectedHeader({ alg, kid: t.kid ?? key.kid, typ: 'JWT' })
        .sign(key.privateKey);
    },
    close: () => closeServer(server),
  };
}
