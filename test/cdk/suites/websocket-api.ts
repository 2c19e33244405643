import { FUNCTIONS, WS_AUTHORIZER, WS_ROUTES, type FunctionName } from '../../../lambdas/catalog';
import { catalogEntries } from '../../../lib/constructs/catalog-functions';
import { TOKEN_IDENTITY_SOURCE } from '../../../lib/constructs/websocket-api';
import {
  actionsOf,
  logicalIdOf,
  resolved,
  resourceById,
  resourcesOf,
  resourcesOfType,
  statementsOf,
  TEST_ENV,
  type GetTaskwire,
  type TemplateResource,
} from '../support/taskwire-template';

// Set by the test file that registers the suite; read only inside tests.
let get: GetTaskwire = () => {
  throw new Error('suite used before its test file registered it');
};

const SYSTEM_ROUTES = new Set(['$connect', '$disconnect']);

function routeByKey(routeKey: string): [string, TemplateResource] {
  const matches = Object.entries(
    resourcesOfType(get().template, 'AWS::ApiGatewayV2::Route'),
  ).filter(([, route]) => route.Properties?.RouteKey === routeKey);
  expect(matches).toHaveLength(1);
  const [match] = matches;
  if (!match) throw new Error(`no route ${routeKey}`);
  return match;
}

/** The stage name the app was built with (context `stage`). */
function stageName(): string {
  return get().stack.config.stageName;
}

function apiRef(): unknown {
  return { Ref: logicalIdOf(get().stack.webSocket.api) };
}

function functionArn(name: FunctionName): unknown {
  const fn = get().stack.functions.byName[name].function;
  return resolved(fn, fn.functionArn);
}

/** Registers the WebSocket API tests (routes, authorizer, replies, stage, ManageConnections). */
export function describeWebSocketApi(getTaskwire: GetTaskwire): void {
  get = getTaskwire;

  describe('WebSocket API', () => {
    it('selects routes on the frame action', () => {
      // Prepare / Act: the app is synthesized in beforeAll.
      // Assess
      get().template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'WEBSOCKET',
        RouteSelectionExpression: '$request.body.action',
      });
    });

    it.each(Object.entries(WS_ROUTES))(
      'integrates route %s with function %s',
      (routeKey, fnName) => {
        // Prepare
        const [, route] = routeByKey(routeKey);
        const target = route.Properties?.Target as {
          'Fn::Join': [string, [string, { Ref: string }]];
        };
        // Act
        const integrationId = target['Fn::Join'][1][1].Ref;
        const integration = resourceById(get().template, integrationId);
        // Assess
        expect(route.Properties?.ApiId).toEqual(apiRef());
        expect(integration.Type).toBe('AWS::ApiGatewayV2::Integration');
        expect(integration.Properties?.IntegrationType).toBe('AWS_PROXY');
        expect(JSON.stringify(integration.Properties?.IntegrationUri)).toContain(
          JSON.stringify(functionArn(fnName)),
        );
      },
    );

    it('has exactly the routes of WS_ROUTES', () => {
      // Prepare
      const wsApi = apiRef();
      // Act
      const keys = Object.values(resourcesOfType(get().template, 'AWS::ApiGatewayV2::Route'))
        .filter((route) => JSON.stringify(route.Properties?.ApiId) === JSON.stringify(wsApi))
        .map((route) => route.Properties?.RouteKey);
      // Assess
      expect(keys.sort()).toEqual(Object.keys(WS_ROUTES).sort());
    });

    it('authorizes $connect with the REQUEST authorizer reading ?token=', () => {
      // Prepare
      const authorizers = resourcesOfType(get().template, 'AWS::ApiGatewayV2::Authorizer');
      // Act
      const [connectId, connect] = routeByKey('$connect');
      // Assess
      expect(Object.keys(authorizers)).toHaveLength(1);
      const [authorizerId, authorizer] = Object.entries(authorizers)[0] ?? [];
      expect(authorizer?.Properties).toMatchObject({
        AuthorizerType: 'REQUEST',
        IdentitySource: [TOKEN_IDENTITY_SOURCE],
        ApiId: apiRef(),
      });
      expect(JSON.stringify(authorizer?.Properties?.AuthorizerUri)).toContain(
        JSON.stringify(functionArn(WS_AUTHORIZER)),
      );
      expect(connectId).toBeDefined();
      expect(connect.Properties).toMatchObject({
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
      });
    });

    it('leaves every route other than $connect without an authorizer', () => {
      // Prepare
      const others = Object.keys(WS_ROUTES).filter((key) => key !== '$connect');
      // Act
      const routes = others.map((key) => routeByKey(key)[1]);
      // Assess
      expect(routes.length).toBeGreaterThan(0);
      for (const route of routes) {
        expect(route.Properties?.AuthorizationType).toBe('NONE');
        expect(route.Properties?.AuthorizerId).toBeUndefined();
      }
    });

    it('returns the function result as the reply on message routes only', () => {
      // Prepare
      const responses = Object.values(
        resourcesOfType(get().template, 'AWS::ApiGatewayV2::RouteResponse'),
      );
      // Act
      const respondedRouteIds = new Set(
        responses.map((response) => (response.Properties?.RouteId as { Ref: string }).Ref),
      );
      // Assess
      for (const routeKey of Object.keys(WS_ROUTES)) {
        const [routeId, route] = routeByKey(routeKey);
        if (SYSTEM_ROUTES.has(routeKey)) {
          expect(respondedRouteIds.has(routeId)).toBe(false);
          expect(route.Properties?.RouteResponseSelectionExpression).toBeUndefined();
        } else {
          expect(respondedRouteIds.has(routeId)).toBe(true);
          expect(route.Properties?.RouteResponseSelectionExpression).toBe('$default');
        }
      }
      for (const response of responses) {
        expect(response.Properties?.RouteResponseKey).toBe('$default');
      }
    });

    it('deploys one throttled, access-logged, auto-deployed stage named by context', () => {
      // Prepare
      const stageId = logicalIdOf(get().stack.webSocket.stage);
      const logGroupId = logicalIdOf(get().stack.webSocket.accessLogGroup);
      // Act
      const stage = resourceById(get().template, stageId);
      // Assess
      expect(stage.Properties).toMatchObject({
        ApiId: apiRef(),
        StageName: stageName(),
        AutoDeploy: true,
        DefaultRouteSettings: {
          ThrottlingBurstLimit: expect.any(Number),
          ThrottlingRateLimit: expect.any(Number),
        },
        AccessLogSettings: {
          DestinationArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
          Format: expect.stringContaining('$context.requestId'),
        },
      });
      // WebSocket access logging needs the account's CloudWatch role first.
      const account = get().stack.node.findChild('ApiGatewayAccount');
      expect(stage.DependsOn).toContain(logicalIdOf(account.node.findChild('Account')));
    });

    it('never logs the query string that carries the token', () => {
      // Prepare
      const stage = resourceById(get().template, logicalIdOf(get().stack.webSocket.stage));
      // Act
      const format = (stage.Properties?.AccessLogSettings as { Format: string }).Format;
      // Assess
      expect(format).not.toMatch(/querystring|token/i);
    });

    describe('ManageConnections grant', () => {
      const pushers = catalogEntries(FUNCTIONS)
        .filter(([, spec]) => spec.needs.includes('push'))
        .map(([name]) => name);
      const others = catalogEntries(FUNCTIONS)
        .filter(([, spec]) => !spec.needs.includes('push'))
        .map(([name]) => name);

      function manageStatements(name: FunctionName) {
        const policy = get().stack.functions.byName[name].role.node.findChild('DefaultPolicy');
        return statementsOf(resourceById(get().template, logicalIdOf(policy))).filter((statement) =>
          actionsOf(statement).some((action) => action.startsWith('execute-api:')),
        );
      }

      it.each(pushers)('scopes %s to this API id, stage and @connections verbs', (name) => {
        // Prepare
        const expected = ['POST', 'GET', 'DELETE'].map((method) => ({
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              `:execute-api:${TEST_ENV.region}:${TEST_ENV.account}:`,
              apiRef(),
              `/${stageName()}/${method}/@connections/*`,
            ],
          ],
        }));
        // Act
        const statements = manageStatements(name);
        // Assess
        expect(statements).toHaveLength(1);
        const [statement] = statements;
        expect(statement && actionsOf(statement)).toEqual(['execute-api:ManageConnections']);
        expect(statement && resourcesOf(statement)).toEqual(expect.arrayContaining(expected));
        expect(statement && resourcesOf(statement)).toHaveLength(expected.length);
      });

      it.each(pushers)('points %s at this stage through WS_MANAGEMENT_ENDPOINT', (name) => {
        // Prepare
        const fnId = logicalIdOf(get().stack.functions.byName[name].function);
        // Act
        const fn = resourceById(get().template, fnId);
        // Assess
        expect(fn.Properties?.Environment).toMatchObject({
          Variables: {
            WS_MANAGEMENT_ENDPOINT: {
              'Fn::Join': [
                '',
                [
                  'https://',
                  apiRef(),
                  `.execute-api.${TEST_ENV.region}.`,
                  { Ref: 'AWS::URLSuffix' },
                  `/${stageName()}`,
                ],
              ],
            },
          },
        });
      });

      it('is given to no function without the push need', () => {
        // Prepare / Act
        const granted = others.filter((name) => manageStatements(name).length > 0);
        // Assess
        expect(granted).toEqual([]);
      });

      it('never allows execute-api on every resource', () => {
        // Prepare
        const policies = Object.values(resourcesOfType(get().template, 'AWS::IAM::Policy'));
        // Act
        const wildcard = policies
          .flatMap(statementsOf)
          .filter((statement) =>
            actionsOf(statement).some((action) => action.startsWith('execute-api:')),
          )
          .filter((statement) => resourcesOf(statement).some((resource) => resource === '*'));
        // Assess
        expect(wildcard).toEqual([]);
      });
    });

    it('outputs WebSocketUrl as wss://{apiId}.execute-api.{region}.{suffix}/{stage}', () => {
      // Prepare / Act
      const output = get().template.findOutputs('WebSocketUrl');
      // Assess
      expect(output.WebSocketUrl?.Value).toEqual({
        'Fn::Join': [
          '',
          [
            'wss://',
            apiRef(),
            `.execute-api.${TEST_ENV.region}.`,
            { Ref: 'AWS::URLSuffix' },
            `/${stageName()}`,
          ],
        ],
      });
    });
  });
}
