import type { FunctionSpec } from '../../lambdas/catalog';
import {
  type HttpRoute,
  type HttpRouteAuth,
  httpRouteOf,
  type HttpRouteSpec,
  routeKeyOf,
} from '../../lambdas/http/routes';

/**
 * Who authenticates an HTTP route, per docs/protocol.md: HTTP API routes carry no API Gateway
 * authorizer, so this is the reason recorded with each route's nag APIG4 acknowledgement, and
 * the place that refuses a route whose function could not possibly check the caller. The auth
 * itself is the route table's (lambdas/http/routes.ts), the same entry the function's handler
 * reads.
 */

export type { HttpRouteAuth } from '../../lambdas/http/routes';

/**
 * A route's auth: a table entry's own, or else that of the table's entry for its route key.
 * @throws Error when the table has no such route: a route nobody declared has no auth either
 */
export function httpRouteAuth(route: HttpRouteSpec | HttpRoute): HttpRouteAuth {
  if ('auth' in route) return route.auth;
  const entry = httpRouteOf(routeKeyOf(route));
  if (!entry) {
    throw new Error(
      `HTTP route ${routeKeyOf(route)} is not in the route table (lambdas/http/routes.ts)`,
    );
  }
  return entry.auth;
}

/**
 * The APIG4 reason for a route. Throws when the route's function lacks the secret it needs to
 * check the caller (`authSecret` for admin routes, `wecomSecret` for WeCom callbacks): the route
 * would be open, so the acknowledgement would be a lie.
 */
export function httpRouteAuthReason(route: HttpRouteSpec | HttpRoute, fn: FunctionSpec): string {
  const name = routeKeyOf(route);
  switch (httpRouteAuth(route)) {
    case 'public':
      return fn.entry === 'lambdas/http/console.ts'
        ? `${name} is public by contract: the console's static page, which reads no data; the ` +
            'page then signs in with a token over the WebSocket and in Authorization headers.'
        : `${name} is public by contract: a liveness probe that reads no data.`;
    case 'wecomSignature':
      if (!fn.needs.includes('wecomSecret') && !fn.needs.includes('wecomBotSecret')) {
        throw new Error(
          `HTTP route ${name} is a WeCom callback, but its function lacks the 'wecomSecret' (or 'wecomBotSecret') need ` +
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
