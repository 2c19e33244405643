import { HTTP_ROUTES } from '../../../lambdas/http/routes';
import {
  logicalIdOf,
  resolved,
  resourceById,
  resourcesOfType,
  type GetTaskwire,
} from '../support/taskwire-template';

// Set by the test file that registers the suite; read only inside tests.
let get: GetTaskwire = () => {
  throw new Error('suite used before its test file registered it');
};

function apiRef(): unknown {
  return { Ref: logicalIdOf(get().stack.http.api) };
}

function httpRoutes() {
  const api = JSON.stringify(apiRef());
  return Object.entries(resourcesOfType(get().template, 'AWS::ApiGatewayV2::Route')).filter(
    ([, route]) => JSON.stringify(route.Properties?.ApiId) === api,
  );
}

/** Registers the HTTP API tests (routes, stage, output). */
export function describeHttpApi(getTaskwire: GetTaskwire): void {
  get = getTaskwire;

  describe('HTTP API', () => {
    it.each(HTTP_ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
      'routes %s to its function with payload format 2.0',
      (routeKey, spec) => {
        // Prepare
        const fn = get().stack.functions.byName[spec.fn].function;
        const matches = httpRoutes().filter(([, route]) => route.Properties?.RouteKey === routeKey);
        // Act
        const [, route] = matches[0] ?? [];
        const target = route?.Properties?.Target as {
          'Fn::Join': [string, [string, { Ref: string }]];
        };
        const integration = resourceById(get().template, target['Fn::Join'][1][1].Ref);
        // Assess
        expect(matches).toHaveLength(1);
        expect(integration.Properties).toMatchObject({
          ApiId: apiRef(),
          IntegrationType: 'AWS_PROXY',
          PayloadFormatVersion: '2.0',
          IntegrationUri: resolved(fn, fn.functionArn),
        });
      },
    );

    it('has exactly the routes of HTTP_ROUTES, none with an API Gateway authorizer', () => {
      // Prepare
      const expected = HTTP_ROUTES.map((route) => `${route.method} ${route.path}`).sort();
      // Act
      const routes = httpRoutes().map(([, route]) => route.Properties);
      // Assess
      expect(routes.map((route) => route?.RouteKey).sort()).toEqual(expected);
      // Authentication happens in the functions (see http-route-auth.ts).
      for (const route of routes) expect(route?.AuthorizationType).toBe('NONE');
    });

    it('serves a throttled, access-logged, auto-deployed $default stage and no CORS', () => {
      // Prepare
      const stageId = logicalIdOf(get().stack.http.stage);
      // Act
      const stage = resourceById(get().template, stageId);
      const api = resourceById(get().template, logicalIdOf(get().stack.http.api));
      // Assess
      expect(stage.Properties).toMatchObject({
        ApiId: apiRef(),
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: {
          ThrottlingBurstLimit: expect.any(Number),
          ThrottlingRateLimit: expect.any(Number),
        },
        AccessLogSettings: {
          DestinationArn: { 'Fn::GetAtt': [logicalIdOf(get().stack.http.accessLogGroup), 'Arn'] },
          Format: expect.stringContaining('$context.requestId'),
        },
      });
      expect(api.Properties?.ProtocolType).toBe('HTTP');
      expect(api.Properties?.CorsConfiguration).toBeUndefined();
    });

    it('outputs HttpApiUrl as the API endpoint, without a trailing slash', () => {
      // Prepare / Act
      const outputs = get().template.findOutputs('HttpApiUrl');
      // Assess
      expect(outputs.HttpApiUrl?.Value).toEqual({
        'Fn::GetAtt': [logicalIdOf(get().stack.http.api), 'ApiEndpoint'],
      });
    });
  });
}
