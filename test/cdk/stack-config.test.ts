import { App, RemovalPolicy } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { ENV, FUNCTIONS, TASK_WORKERS } from '../../lambdas/catalog';
import { catalogEntries, workerId } from '../../lib/constructs/catalog-functions';
import { readStackConfig } from '../../lib/stack-config';
import { readChatSettings, readTaskSettings } from '../../lib/function-settings';
import {
  logicalIdOf,
  resourceById,
  resourcesOfType,
  synthTaskwire,
  type SynthesizedTaskwire,
} from './support/taskwire-template';

const nodeWith = (context: Record<string, unknown>) => new App({ context }).node;

const SERVERS = { main: { baseUrl: 'https://data.example.com', path: '/files/{dsNumber}' } };
const WEBHOOK = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=test';

describe('readStackConfig', () => {
  it('defaults to the production shape', () => {
    // Prepare
    const node = nodeWith({});
    // Act
    const config = readStackConfig(node);
    // Assess
    expect(config).toMatchObject({
      stageName: 'prod',
      dev: false,
      logLevel: 'INFO',
      removalPolicy: RemovalPolicy.RETAIN,
      manageApiGatewayAccount: true,
    });
  });

  it('reads -c strings and cdk.json values alike', () => {
    // Prepare
    const node = nodeWith({ stage: 'beta', dev: 'true', logLevel: 'debug', wsRateLimit: '50' });
    // Act
    const config = readStackConfig(node);
    // Assess
    expect(config).toMatchObject({
      stageName: 'beta',
      dev: true,
      logLevel: 'DEBUG',
      removalPolicy: RemovalPolicy.DESTROY,
      webSocketThrottle: { rateLimit: 50 },
    });
  });

  it.each([
    [{ stage: 'no/slash' }, /stage/],
    [{ logLevel: 'LOUD' }, /logLevel/],
    [{ dev: 'yes' }, /dev/],
    [{ httpBurstLimit: '-1' }, /httpBurstLimit/],
  ])('rejects %o naming the key', (context, message) => {
    // Prepare
    const node = nodeWith(context);
    // Act
    const act = () => readStackConfig(node);
    // Assess
    expect(act).toThrow(message);
  });
});

describe('readTaskSettings', () => {
  it('is undefined without download servers', () => {
    // Prepare / Act
    const settings = readTaskSettings(nodeWith({}));
    // Assess
    expect(settings).toBeUndefined();
  });

  it('turns context objects into the environment the functions read', () => {
    // Prepare
    const node = nodeWith({ downloadServers: SERVERS, defaultDownloadServer: 'main' });
    // Act
    const settings = readTaskSettings(node);
    // Assess
    expect(settings).toEqual({
      [ENV.downloadServers]: JSON.stringify(SERVERS),
      [ENV.defaultDownloadServer]: 'main',
    });
  });

  it('fails synth on settings the function would reject at cold start', () => {
    // Prepare
    const node = nodeWith({ downloadServers: SERVERS, defaultDownloadServer: 'other' });
    // Act
    const act = () => readTaskSettings(node);
    // Assess
    expect(act).toThrow(/DEFAULT_DOWNLOAD_SERVER/);
  });
});

describe('readChatSettings', () => {
  it('is empty without context', () => {
    // Prepare / Act
    const settings = readChatSettings(nodeWith({}));
    // Assess
    expect(settings).toEqual({});
  });

  it('passes the webhook and its allowed hosts through', () => {
    // Prepare
    const node = nodeWith({ wecomWebhookUrl: WEBHOOK, wecomWebhookHosts: 'qyapi.weixin.qq.com' });
    // Act
    const settings = readChatSettings(node);
    // Assess
    expect(settings).toEqual({
      [ENV.wecomWebhookUrl]: WEBHOOK,
      [ENV.wecomWebhookHosts]: 'qyapi.weixin.qq.com',
    });
  });

  it('refuses a webhook that is not https', () => {
    // Prepare
    const node = nodeWith({ wecomWebhookUrl: 'http://example.com/hook' });
    // Act
    const act = () => readChatSettings(node);
    // Assess
    expect(act).toThrow(/wecomWebhookUrl/);
  });
});

/** Every function of the stack by construct id, with its spec: catalog entries and workers. */
const ALL_SPECS = [
  ...catalogEntries(FUNCTIONS),
  ...Object.entries(TASK_WORKERS).map(([taskType, spec]) => [workerId(taskType), spec] as const),
];

describe('a dev stack on stage beta, with settings and an externally managed account role', () => {
  let built: SynthesizedTaskwire;

  beforeAll(() => {
    built = synthTaskwire({
      context: {
        // Bundles are tested with the default stack; skipping them here saves a full esbuild
        // round (CDK's own switch, the one `cdk synth --exclusively` uses).
        [cxapi.BUNDLING_STACKS]: [],
        stage: 'beta',
        dev: true,
        manageApiGatewayAccount: false,
        downloadServers: SERVERS,
        defaultDownloadServer: 'main',
        wecomWebhookUrl: WEBHOOK,
      },
    });
  });

  function environmentOf(id: string): Record<string, unknown> {
    const fn = built.stack.functions.node.findChild(id).node.findChild('Function');
    const resource = resourceById(built.template, logicalIdOf(fn));
    return (resource.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
  }

  it('destroys its tables, logs, queues, buckets and secrets with the stack', () => {
    // Prepare
    const stateful = [
      'AWS::DynamoDB::Table',
      'AWS::Logs::LogGroup',
      'AWS::SQS::Queue',
      'AWS::S3::Bucket',
      'AWS::SecretsManager::Secret',
    ];
    // Act
    const policies = stateful.flatMap((type) =>
      Object.values(resourcesOfType(built.template, type)).map(
        (resource) => resource.DeletionPolicy,
      ),
    );
    // Assess
    expect(policies.length).toBeGreaterThan(0);
    expect(new Set(policies)).toEqual(new Set(['Delete']));
  });

  it('leaves the account-wide API Gateway logging role alone', () => {
    // Prepare / Act
    const accounts = resourcesOfType(built.template, 'AWS::ApiGateway::Account');
    // Assess
    expect(accounts).toEqual({});
  });

  it('names the WebSocket stage, its URL and the ManageConnections grants after the context', () => {
    // Prepare
    const stage = resourceById(built.template, logicalIdOf(built.stack.webSocket.stage));
    // Act
    const url = JSON.stringify(built.template.findOutputs('WebSocketUrl').WebSocketUrl?.Value);
    const policies = JSON.stringify(resourcesOfType(built.template, 'AWS::IAM::Policy'));
    // Assess
    expect(stage.Properties?.StageName).toBe('beta');
    expect(url).toMatch(/"\/beta"\]\]\}$/);
    expect(policies).toContain('/beta/POST/@connections/*');
    expect(policies).not.toContain('/prod/');
  });

  it.each(ALL_SPECS.filter(([, spec]) => spec.needs.includes('taskConfig')))(
    'gives %s the task settings',
    (id) => {
      // Prepare / Act
      const environment = environmentOf(id);
      // Assess
      expect(environment).toMatchObject({
        [ENV.downloadServers]: JSON.stringify(SERVERS),
        [ENV.defaultDownloadServer]: 'main',
      });
    },
  );

  it.each(ALL_SPECS.filter(([, spec]) => spec.needs.includes('chatWebhook')))(
    'gives %s the default webhook',
    (id) => {
      // Prepare / Act
      const environment = environmentOf(id);
      // Assess
      expect(environment[ENV.wecomWebhookUrl]).toBe(WEBHOOK);
    },
  );

  it.each(ALL_SPECS.filter(([, spec]) => !spec.needs.includes('chatWebhook')))(
    'keeps the webhook from %s',
    (id) => {
      // Prepare / Act
      const environment = environmentOf(id);
      // Assess
      expect(environment[ENV.wecomWebhookUrl]).toBeUndefined();
    },
  );
});
