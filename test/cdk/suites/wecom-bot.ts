import { ENV } from '../../../lambdas/catalog';
import {
  DEFAULT_STREAM_MARGIN_S,
  DEFAULT_STREAM_WINDOW_S,
} from '../../../lambdas/http/wecom-bot-config';
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

const bot = () => get().stack.functions.byName.wecomBot;

function environment(): Record<string, unknown> {
  const fn = resourceById(get().template, logicalIdOf(bot().function));
  const env = fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined;
  return env?.Variables ?? {};
}

/** Registers the intelligent bot tests: its secret, function, routes and output. */
export function describeWecomBot(getTaskwire: GetTaskwire): void {
  get = getTaskwire;

  describe('WeCom intelligent bot', () => {
    it('keeps the bot token and EncodingAESKey in a secret of their own, empty at first', () => {
      // Prepare
      const { secret } = get().stack.wecomBotSecret;
      // Act
      const resource = resourceById(get().template, logicalIdOf(secret));
      // Assess
      expect(resource.Type).toBe('AWS::SecretsManager::Secret');
      expect(resource.Properties).toMatchObject({
        Description: expect.stringContaining('intelligent bot'),
        SecretString: JSON.stringify({ token: '', encodingAesKey: '' }),
      });
      expect(logicalIdOf(secret)).not.toBe(logicalIdOf(get().stack.wecomSecret.secret));
    });

    it('lets wecomBot read that secret and no other', () => {
      // Prepare
      const { secret } = get().stack.wecomBotSecret;
      const policy = bot().role.node.findChild('DefaultPolicy');
      // Act
      const onSecrets = statementsOf(resourceById(get().template, logicalIdOf(policy))).filter(
        (s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
      );
      // Assess
      expect(onSecrets).toEqual([
        {
          Effect: 'Allow',
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Resource: resolved(secret, secret.secretArn),
        },
      ]);
      expect(environment()[ENV.wecomBotSecretArn]).toEqual(resolved(secret, secret.secretArn));
      expect(environment()[ENV.wecomSecretArn]).toBeUndefined();
    });

    it('tells wecomBot the default stream window and margin', () => {
      // Prepare / Act
      const env = environment();
      // Assess
      expect(env).toMatchObject({
        [ENV.wecomStreamWindowSeconds]: String(DEFAULT_STREAM_WINDOW_S),
        [ENV.wecomStreamMarginSeconds]: String(DEFAULT_STREAM_MARGIN_S),
      });
      expect([DEFAULT_STREAM_WINDOW_S, DEFAULT_STREAM_MARGIN_S]).toEqual([360, 30]);
      // No response hosts without context: the code's default (WeCom's) holds.
      expect(env[ENV.wecomResponseHosts]).toBeUndefined();
    });

    it('routes GET and POST /wecom/bot to wecomBot without an authorizer: WeCom signs them', () => {
      // Prepare
      const fn = bot().function;
      const routes = Object.values(resourcesOfType(get().template, 'AWS::ApiGatewayV2::Route'));
      // Act
      const botRoutes = routes.filter((r) =>
        ['GET /wecom/bot', 'POST /wecom/bot'].includes(String(r.Properties?.RouteKey)),
      );
      // Assess
      expect(HTTP_ROUTES.filter((r) => r.fn === 'wecomBot')).toEqual([
        { method: 'GET', path: '/wecom/bot', fn: 'wecomBot', auth: 'wecomSignature' },
        { method: 'POST', path: '/wecom/bot', fn: 'wecomBot', auth: 'wecomSignature' },
      ]);
      expect(botRoutes).toHaveLength(2);
      for (const route of botRoutes) {
        expect(route.Properties?.AuthorizationType).toBe('NONE');
        expect(route.Properties?.AuthorizerId).toBeUndefined();
        const target = route.Properties?.Target as {
          'Fn::Join': [string, [string, { Ref: string }]];
        };
        const integration = resourceById(get().template, target['Fn::Join'][1][1].Ref);
        expect(integration.Properties?.IntegrationUri).toEqual(resolved(fn, fn.functionArn));
      }
    });

    it('outputs the bot secret ARN and names the callback URL beside the XML one', () => {
      // Prepare
      const { secret } = get().stack.wecomBotSecret;
      // Act
      const outputs = get().template.findOutputs('*');
      // Assess: like the XML callback, the bot's URL is {HttpApiUrl}/wecom/bot, not an output.
      expect(outputs.WecomBotSecretArn?.Value).toEqual(resolved(secret, secret.secretArn));
      expect(outputs.HttpApiUrl?.Description).toContain('{HttpApiUrl}/wecom/bot');
      expect(outputs.HttpApiUrl?.Description).toContain('{HttpApiUrl}/wecom/callback');
    });
  });
}
