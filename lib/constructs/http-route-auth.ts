import type { FunctionSpec, HttpRouteSpec } from '../../lambdas/catalog';

/**
 * Who authenticates an HTTP route, per PROTOCOL.md: HTTP API routes carry no API Gateway
 * authorizer, so this is the reason recorded with each route's nag APIG4 acknowledgement, and
 * the place that refuses a route whose function could not possibly check the caller.
 */

/** How an HTTP route authenticates its caller. */
export type HttpRouteAuth = 'public' | 'wecomSignature' | 'adminToken';

/** Classifies a route by the contract: health is public, WeCom signs, everything else is admin. */
export function httpRouteAuth(route: HttpRouteSpec): HttpRouteAuth {
  if (route.path === '/healthz') return 'public';
  if (route.path === '/wecom' || route.path.startsWith('/wecom/')) return 'wecomSignature';
  return 'adminToken';
}

/**
 * The APIG4 reason for a route. Throws when the route's function lacks the secret it needs to
 * check the caller (`authSecret` for admin routes, `wecomSecret` for WeCom callbacks): the route
 * would be open, so the acknowledgement would be a lie.
 */
export function httpRouteAuthReason(route: HttpRouteSpec, fn: FunctionSpec): string {
  const name = `${route.method} ${route.path}`;
  switch (httpRouteAuth(route)) {
    case 'public':
      return `${name} is public by contract: a liveness probe that reads no data.`;
    case 'wecomSignature':
      if (!fn.needs.includes('wecomSecret')) {
        throw new Error(
          `HTTP route ${name} is a WeCom callback, but its function lacks the 'wecomSecret' need ` +
            'and so cannot verify the signature (lambdas/catalog.ts)',
        );
      }
      return (
        `${name} is called by WeCom, which cannot present our credentials; the function ` +
        'verifies msg_signature (sha1 over token, timestamp, nonce and body) and decrypts with ' +
        'the EncodingAESKey before anything is accepted.'
      );
    case 'adminToken':
      if (!fn.needs.includes('authSecret')) {
        throw new Error(
          `HTTP route ${name} is an admin route, but its function lacks the 'authSecret' need ` +
            'and so cannot verify the admin Bearer token (lambdas/catalog.ts)',
        );
      }
      return (
        `${name} is an admin route: the function verifies "Authorization: Bearer <HS256 JWT>" ` +
        'against the Secrets Manager auth secret and requires the admin role (401/403 otherwise).'
      );
  }
}
