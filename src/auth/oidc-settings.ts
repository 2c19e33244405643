import * as z from '../validation/zod';
import type { ClaimNames } from './claims';

/**
 * How a deployment trusts an OpenID Connect issuer (docs/protocol.md: Identity providers). Read
 * from `TASKWIRE_OIDC` locally and in the functions, from context `oidc` in the stack.
 */
export interface OidcSettings extends ClaimNames {
  /** The issuer exactly as its tokens' `iss` claim spells it. */
  readonly issuer: string;
  /** The `aud` a token must carry (one of them, when a list). */
  readonly audience: string | readonly string[];
  /** The issuer's JWKS; discovered from `{issuer}/.well-known/openid-configuration` when unset. */
  readonly jwksUrl?: string;
}

/** Thrown when OIDC settings are malformed; the message names the field. */
export class OidcSettingsError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'OidcSettingsError';
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * True for an https URL, or an http one on this machine (a local issuer, as the tests run):
 * keys fetched over plain http from elsewhere could be swapped on the way.
 */
export function isTrustedKeyUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  } catch {
    return false;
  }
}

const URL_RULE = 'an https:// URL (http:// only on localhost / 127.0.0.1)';
const trustedUrl = z.string().check(z.refine(isTrustedKeyUrl, URL_RULE));
const claimName = z.string().check(z.minLength(1), z.maxLength(256));

const settingsSchema = z.strictObject({
  issuer: trustedUrl,
  audience: z.union([
    z.string().check(z.minLength(1)),
    z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  ]),
  jwksUrl: z.optional(trustedUrl),
  rolesClaim: z._default(claimName, 'roles'),
  groupsClaim: z._default(claimName, 'groups'),
  userClaim: z._default(claimName, 'sub'),
});

/**
 * Checks OIDC settings (an object, or its JSON text) and fills in the claim defaults: roles from
 * `roles`, groups from `groups`, the user from `sub`. Unknown keys are refused, so a typo such
 * as `roleClaim` fails at start instead of silently granting `client` to everyone.
 * @param where names the source in the error (`TASKWIRE_OIDC`, `context oidc`).
 * @throws OidcSettingsError naming the field that is wrong.
 */
export function parseOidcSettings(raw: unknown, where: string): OidcSettings {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      throw new OidcSettingsError(`${where} is not JSON: {"issuer","audience",...}`);
    }
  }
  const parsed = settingsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw new OidcSettingsError(`${where}: unknown key ${issue.keys.join(', ')}`);
    }
    const field = issue?.path.length ? issue.path.join('.') : '(the object)';
    throw new OidcSettingsError(`${where}: ${field}: ${issue?.message ?? 'invalid'}`);
  }
  const { jwksUrl, ...rest } = parsed.data;
  return { ...rest, ...(jwksUrl === undefined ? {} : { jwksUrl }) };
}
