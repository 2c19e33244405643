/**
 * The route table is checked by the compiler: `npx tsc --noEmit` fails when a function's handler
 * map misses a route of the table or has a handler for a route the table does not list. The
 * `@ts-expect-error` lines below are that proof: were any of them not an error, tsc would
 * report the directive as unused. Jest runs the runtime half (the real maps match the table).
 */
import {
  type ApiPorts,
  type ApiRouteHandlers,
  createApiRoutes,
  type RouteHandler,
} from '../../lambdas/http/api';
import {
  HTTP_ROUTES,
  type HttpRoute,
  type RouteHandlers,
  routeKeyOf,
} from '../../lambdas/http/routes';

const run: RouteHandler = async () => ({ statusCode: 200, headers: {}, body: '' });

/** Every route of the httpApi function, each with a handler: compiles. */
const complete: ApiRouteHandlers = {
  'GET /healthz': run,
  'POST /users/{userId}/messages': run,
  'POST /groups/{group}/messages': run,
  'POST /broadcast': run,
  'GET /users/{userId}/presence': run,
  'GET /presence': run,
  'GET /stats': run,
  'GET /deliveries/{deliveryId}': run,
  'GET /scheduled/{scheduledId}': run,
  'DELETE /scheduled/{scheduledId}': run,
  'POST /tasks': run,
  'GET /tasks/{taskId}': run,
  'POST /tasks/{taskId}/cancel': run,
  'GET /tasks': run,
};

/** Type-level cases only: compiled by tsc, never called. */
export function compileTimeCases(): unknown[] {
  const { 'GET /stats': _stats, ...withoutStats } = complete;

  // @ts-expect-error a route of the table without a handler
  const missing: ApiRouteHandlers = withoutStats;

  const extra: ApiRouteHandlers = {
    ...complete,
    // @ts-expect-error a handler without a route in the table
    'GET /nowhere': run,
  };

  const otherFunction: ApiRouteHandlers = {
    ...complete,
    // @ts-expect-error a route of another function (wecomCallback) is no httpApi handler
    'POST /wecom/callback': run,
  };

  // A throwaway table: adding an entry makes every map of its function incomplete.
  const _table = [
    { method: 'GET', path: '/a', fn: 'httpApi', auth: 'public' },
    { method: 'POST', path: '/b', fn: 'httpApi', auth: 'adminToken' },
  ] as const satisfies readonly HttpRoute[];
  // @ts-expect-error POST /b, added to the table, has no handler
  const stale: RouteHandlers<'httpApi', RouteHandler, typeof _table> = { 'GET /a': run };

  const noAuth = [
    // @ts-expect-error a table entry must say who authenticates the route
    { method: 'GET', path: '/c', fn: 'httpApi' },
  ] as const satisfies readonly HttpRoute[];

  const badAuth = [
    // @ts-expect-error only public, adminToken and wecomSignature exist
    { method: 'GET', path: '/d', fn: 'httpApi', auth: 'none' },
  ] as const satisfies readonly HttpRoute[];

  const noFunction = [
    // @ts-expect-error the function must be one of the catalog's
    { method: 'GET', path: '/e', fn: 'nobody', auth: 'public' },
  ] as const satisfies readonly HttpRoute[];

  return [missing, extra, otherFunction, stale, noAuth, badAuth, noFunction];
}

describe('the HTTP route table', () => {
  it('lists every route once', () => {
    // Prepare
    const keys = HTTP_ROUTES.map(routeKeyOf);
    // Act
    const unique = new Set(keys);
    // Assess
    expect(unique.size).toBe(keys.length);
  });

  it("gives the httpApi function's handler map exactly the table's httpApi routes", () => {
    // Prepare
    const fromTable = HTTP_ROUTES.filter((r) => r.fn === 'httpApi').map(routeKeyOf);
    // Act: building the map touches no port
    const fromMap = Object.keys(createApiRoutes({} as ApiPorts));
    // Assess
    expect(fromMap.sort()).toEqual([...fromTable].sort());
  });
});
