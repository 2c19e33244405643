import type { FunctionName } from '../catalog';

/**
 * The HTTP route table: every route of the HTTP API, the function behind it and who
 * authenticates its caller. The one source of both: the CDK stack makes a route per entry and
 * records its auth with the route (lib/constructs/http-api.ts, http-route-auth.ts), the local
 * HTTP API serves the same entries (local/runtime.ts), and each function's handler map is typed
 * by the route keys of its entries, so the compiler refuses a route without a handler and a
 * handler without a route (lambdas/http/api.ts). Pure data: the stack reads this file without
 * pulling any handler code in.
 */

/** The HTTP methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/**
 * Who authenticates a route's caller (HTTP API routes carry no API Gateway authorizer; the
 * function does it):
 * - `public`: nobody; the route reads no data (health, the console's static page).
 * - `adminToken`: `Authorization: Bearer <HS256 JWT>` with the admin role, checked against the
 *   auth secret (401/403 otherwise).
 * - `wecomSignature`: WeCom's msg_signature over token, timestamp, nonce and body, checked
 *   against the WeCom token before anything is decrypted.
 */
export type HttpRouteAuth = 'public' | 'adminToken' | 'wecomSignature';

/** An HTTP API route: method, path template (API Gateway syntax) and the function behind it. */
export interface HttpRouteSpec {
  readonly method: HttpMethod;
  readonly path: string;
  readonly fn: FunctionName;
}

/** An entry of the route table: the route and who authenticates its caller. */
export interface HttpRoute extends HttpRouteSpec {
  readonly auth: HttpRouteAuth;
}

/** The route table (docs/protocol.md, "HTTP API"). */
export const HTTP_ROUTES = [
  { method: 'GET', path: '/healthz', fn: 'httpApi', auth: 'public' },
  { method: 'POST', path: '/users/{userId}/messages', fn: 'httpApi', auth: 'adminToken' },
  { method: 'POST', path: '/groups/{group}/messages', fn: 'httpApi', auth: 'adminToken' },
  { method: 'POST', path: '/broadcast', fn: 'httpApi', auth: 'adminToken' },
  { method: 'GET', path: '/users/{userId}/presence', fn: 'httpApi', auth: 'adminToken' },
  { method: 'GET', path: '/presence', fn: 'httpApi', auth: 'adminToken' },
  { method: 'GET', path: '/stats', fn: 'httpApi', auth: 'adminToken' },
  { method: 'GET', path: '/deliveries/{deliveryId}', fn: 'httpApi', auth: 'adminToken' },
  { method: 'GET', path: '/scheduled/{scheduledId}', fn: 'httpApi', auth: 'adminToken' },
  { method: 'DELETE', path: '/scheduled/{scheduledId}', fn: 'httpApi', auth: 'adminToken' },
  { method: 'POST', path: '/tasks', fn: 'httpApi', auth: 'adminToken' },
  { method: 'GET', path: '/tasks/{taskId}', fn: 'httpApi', auth: 'adminToken' },
  { method: 'POST', path: '/tasks/{taskId}/cancel', fn: 'httpApi', auth: 'adminToken' },
  { method: 'GET', path: '/tasks', fn: 'httpApi', auth: 'adminToken' },
  { method: 'GET', path: '/wecom/callback', fn: 'wecomCallback', auth: 'wecomSignature' },
  { method: 'POST', path: '/wecom/callback', fn: 'wecomCallback', auth: 'wecomSignature' },
  // The intelligent bot's JSON callback (its own token and EncodingAESKey, empty receive id).
  { method: 'GET', path: '/wecom/bot', fn: 'wecomBot', auth: 'wecomSignature' },
  { method: 'POST', path: '/wecom/bot', fn: 'wecomBot', auth: 'wecomSignature' },
  // The console (a static page; it signs in over the WebSocket and sends Bearer tokens itself).
  { method: 'GET', path: '/console', fn: 'console', auth: 'public' },
  { method: 'GET', path: '/console/{proxy+}', fn: 'console', auth: 'public' },
] as const satisfies readonly HttpRoute[];

/** The API Gateway route key of a route (`GET /healthz`). */
export type RouteKeyOf<R extends HttpRouteSpec> = R extends HttpRouteSpec
  ? `${R['method']} ${R['path']}`
  : never;

/** The route key of a route. */
export const routeKeyOf = <R extends HttpRouteSpec>(route: R): RouteKeyOf<R> =>
  `${route.method} ${route.path}` as RouteKeyOf<R>;

/** The entries of a table (the real one by default) whose routes a function serves. */
export type RoutesOf<
  F extends FunctionName,
  Table extends readonly HttpRoute[] = typeof HTTP_ROUTES,
> = Extract<Table[number], { readonly fn: F }>;

/** The route keys of a function's routes. */
export type FunctionRouteKey<
  F extends FunctionName,
  Table extends readonly HttpRoute[] = typeof HTTP_ROUTES,
> = RouteKeyOf<RoutesOf<F, Table>>;

/**
 * A function's handler map: exactly one handler per route of the table that the function
 * serves. A missing key (a route without a handler) and an extra key (a handler without a
 * route) are both type errors.
 */
export type RouteHandlers<
  F extends FunctionName,
  H,
  Table extends readonly HttpRoute[] = typeof HTTP_ROUTES,
> = { readonly [K in FunctionRouteKey<F, Table>]: H };

/** Route keys of the `httpApi` function. */
export type ApiRouteKey = FunctionRouteKey<'httpApi'>;

/** Route keys of the `wecomCallback` function. */
export type WecomRouteKey = FunctionRouteKey<'wecomCallback'>;

const BY_KEY: ReadonlyMap<string, HttpRoute> = new Map(
  HTTP_ROUTES.map((route) => [routeKeyOf(route), route]),
);

/** The table's entry for an API Gateway route key, if it has one. */
export function httpRouteOf(routeKey: string): HttpRoute | undefined {
  return BY_KEY.get(routeKey);
}
