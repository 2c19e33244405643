import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { ENV, FUNCTIONS } from '../../../lambdas/catalog';
import { HTTP_ROUTES } from '../../../lambdas/http/routes';
import {
  actionsOf,
  logicalIdOf,
  resolved,
  resourceById,
  resourcesOfType,
  statementsOf,
  type GetTaskwire,
} from '../support/taskwire-template';

// Set by the test file that registers the suite; read only inside tests.
let get: GetTaskwire = () => {
  throw new Error('suite used before its test file registered it');
};

const consoleFn = () => get().stack.functions.byName.console;

/** Registers the console tests: its public routes, its small function, its output. */
export function describeConsole(getTaskwire: GetTaskwire): void {
  get = getTaskwire;

  describe('console', () => {
    it('is served by the console function on two public routes of the HTTP API', () => {
      // Prepare / Act
      const routes = HTTP_ROUTES.filter((r) => r.fn === 'console').map((r) => ({ ...r }));
      const keys = Object.values(resourcesOfType(get().template, 'AWS::ApiGatewayV2::Route')).map(
        (r) => r.Properties?.RouteKey,
      );
      // Assess
      expect(routes).toEqual([
        { method: 'GET', path: '/console', fn: 'console', auth: 'public' },
        { method: 'GET', path: '/console/{proxy+}', fn: 'console', auth: 'public' },
      ]);
      expect(keys).toEqual(expect.arrayContaining(['GET /console', 'GET /console/{proxy+}']));
    });

    it('tells the function the WebSocket URL and nothing else of the stack', () => {
      // Prepare
      const fn = consoleFn();
      // Act
      const variables = (
        resourceById(get().template, logicalIdOf(fn.function)).Properties?.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
      // Assess
      expect(FUNCTIONS.console.needs).toEqual(['webSocketUrl']);
      expect(variables[ENV.webSocketUrl]).toEqual(resolved(fn, get().stack.webSocket.url));
      expect(Object.keys(variables).sort()).toEqual(
        [
          'NODE_OPTIONS',
          'POWERTOOLS_LOG_LEVEL',
          'POWERTOOLS_SERVICE_NAME',
          ENV.webSocketUrl,
        ].sort(),
      );
    });

    it('grants it nothing but its logs and X-Ray', () => {
      // Prepare
      const policy = consoleFn().role.node.findChild('DefaultPolicy');
      // Act
      const actions = statementsOf(resourceById(get().template, logicalIdOf(policy))).flatMap(
        actionsOf,
      );
      // Assess
      for (const action of actions) expect(action).toMatch(/^(logs|xray):/);
      // No managed policies either: the role is the function's own, empty but for the above.
      const role = resourceById(get().template, logicalIdOf(consoleFn().role));
      expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    });

    it('bundles no AWS SDK: a small function', () => {
      // Prepare
      const asset = consoleFn().function.node.findChild('Code');
      if (!(asset instanceof Asset)) throw new Error('no code asset for the console');
      // Act
      const bundle = readFileSync(
        path.join(path.resolve(get().app.outdir, asset.assetPath), 'index.js'),
        'utf8',
      );
      // Assess
      expect(bundle).not.toMatch(/@aws-sdk|DynamoDB|SecretsManager/);
      expect(bundle.length).toBeLessThan(200_000);
    });

    it('outputs ConsoleUrl as {HttpApiUrl}/console/', () => {
      // Prepare / Act
      const outputs = get().template.findOutputs('ConsoleUrl');
      // Assess
      expect(outputs.ConsoleUrl?.Value).toEqual({
        'Fn::Join': [
          '',
          [{ 'Fn::GetAtt': [logicalIdOf(get().stack.http.api), 'ApiEndpoint'] }, '/console/'],
        ],
      });
    });
  });
}
