import { createRemoteJWKSet, errors as joseErrors, type RemoteJWKSet } from 'jose';
import * as z from '../validation/zod';
import { IdentityProviderError, type KeyResolver } from './keys';
import { isTrustedKeyUrl, type OidcSettings } from './oidc-settings';

/** How long a discovery or JWKS request may take before the token is given up on. */
export const KEY_FETCH_TIMEOUT_MS = 5000;

// Module scope on purpose: a Lambda container keeps these between invocations, so the issuer is
// asked for its keys once per container and again only for a `kid` it has not seen (jose
// refetches then, at most every 30 s, and re-reads its set after 10 minutes).
const keySets = new Map<string, RemoteJWKSet>();
const discovered = new Map<string, Promise<URL>>();

const discoverySchema = z.object({ issuer: z.string(), jwks_uri: z.string() });

/** The JWKS URL of an issuer's discovery document (OpenID Connect Discovery 1.0, section 4). */
async function discoverJwksUrl(issuer: string): Promise<URL> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(KEY_FETCH_TIMEOUT_MS),
    });
  } catch (e) {
    throw new IdentityProviderError(`OIDC discovery ${url} failed`, { cause: e });
  }
  if (!response.ok) {
    throw new IdentityProviderError(`OIDC discovery ${url} answered ${response.status}`);
  }
  const body: unknown = await response.json().catch(() => undefined);
  const document = discoverySchema.safeParse(body);
  if (!document.success) {
    throw new IdentityProviderError(`OIDC discovery ${url} has no issuer and jwks_uri`);
  }
  // Section 4.3: the document is only the issuer's own when it names exactly that issuer.
  if (document.data.issuer !== issuer) {
    throw new IdentityProviderError(
      `OIDC discovery ${url} names issuer ${document.data.issuer}, not ${issuer}`,
    );
  }
  if (!isTrustedKeyUrl(document.data.jwks_uri)) {
    throw new IdentityProviderError(`OIDC discovery ${url}: jwks_uri is not https`);
  }
  return new URL(document.data.jwks_uri);
}

/** The issuer's JWKS URL: the configured one, or the discovered one (cached; retried on failure). */
function jwksUrlOf(settings: OidcSettings): Promise<URL> {
  if (settings.jwksUrl) return Promise.resolve(new URL(settings.jwksUrl));
  let pending = discovered.get(settings.issuer);
  if (!pending) {
    pending = discoverJwksUrl(settings.issuer);
    discovered.set(settings.issuer, pending);
    // A failed discovery is not kept: the next token asks again.
    pending.catch(() => discovered.delete(settings.issuer));
  }
  return pending;
}

function keySetOf(url: URL): RemoteJWKSet {
  let set = keySets.get(url.href);
  if (!set) {
    set = createRemoteJWKSet(url, { timeoutDuration: KEY_FETCH_TIMEOUT_MS });
    keySets.set(url.href, set);
  }
  return set;
}

/**
 * The issuer's keys through jose's remote key set, shared by every verifier of this process for
 * the same JWKS URL. A token whose `kid` (or `alg`) matches no key rejects with jose's
 * `JWKSNoMatchingKey`; an unreachable or malformed key set with {@link IdentityProviderError}.
 */
export function remoteKeyResolver(settings: OidcSettings): KeyResolver {
  return async (header, token) => {
    const set = keySetOf(await jwksUrlOf(settings));
    try {
      return await set(header, token);
    } catch (e) {
      if (e instanceof joseErrors.JWKSNoMatchingKey) throw e;
      if (e instanceof joseErrors.JWKSMultipleMatchingKeys) throw e;
      throw new IdentityProviderError(`the JWKS of ${settings.issuer} could not be read`, {
        cause: e,
      });
    }
  };
}
