import { App, RemovalPolicy } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { ENV, FUNCTIONS, TASK_WORKERS } from '../../lambdas/catalog';
import { catalogEntries, workerId } from '../../lib/constructs/catalog-functions';
import { readStackConfig } from '../../lib/stack-config';
import { DEFAULT_HISTORY_SECONDS, DEFAULT_HISTORY_SIZE } from '../../src/streams/schema';
import { readChatSettings, readTaskSettings } from '../../lib/function-settings';
import {
  logicalIdOf,
  resolved,
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
      history: { seconds: DEFAULT_HISTORY_SECONDS, size: DEFAULT_HISTORY_SIZE },
    });
  });

  it.each([
    [
      { historySeconds: '3600', historySize: '250' },
      { seconds: 3600, size: 250 },
    ],
    [
      { historySeconds: 60, historySize: 1 },
      { seconds: 60, size: 1 },
    ],
    [
      { historySeconds: 2_592_000, historySize: 10_000 },
      { seconds: 2_592_000, size: 10_000 },
    ],
    [
      { historySeconds: '', historySize: null },
      { seconds: 86_400, size: 1000 },
    ],
  ])('reads the stream history from %o', (context, history) => {
    // Prepare
    const node = nodeWith(context);
    // Act
    const config = readStackConfig(node);
    // Assess
    expect(config.history).toEqual(history);
  });

  it.each([
    ['historySeconds', 0, 'context historySeconds=0 must be a whole number from 60 to 2592000'],
    ['historySeconds', '-1', 'context historySeconds="-1" must be a whole number from 60 to'],
    ['historySeconds', 1.5, 'context historySeconds=1.5 must be a whole number from 60 to'],
    ['historySeconds', 'abc', 'context historySeconds="abc" must be a whole number from 60'],
    ['historySeconds', 59, 'context historySeconds=59 must be a whole number from 60 to'],
    ['historySeconds', 2_592_001, 'context historySeconds=2592001 must be a whole number'],
    ['historySize', 0, 'context historySize=0 must be a whole number from 1 to 10000'],
    ['historySize', -1, 'context historySize=-1 must be a whole number from 1 to 10000'],
    ['historySize', '1.5', 'context historySize="1.5" must be a whole number from 1 to 10000'],
    ['historySize', 'abc', 'context historySize="abc" must be a whole number from 1 to 10000'],
    ['historySize', 20000, 'context historySize=20000 must be a whole number from 1 to 10000'],
    ['historySize', '1e3', 'context historySize="1e3" must be a whole number from 1 to 10000'],
    ['historySize', true, 'context historySize=true must be a whole number from 1 to 10000'],
  ])('rejects %s=%p naming the key and the allowed range', (key, value, message) => {
    // Prepare
    const node = nodeWith({ [key]: value });
    // Act
    const act = () => readStackConfig(node);
    // Assess
    expect(act).toThrow(message);
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

describe('readStackConfig: socket workers', () => {
  it('defaults to every task type in Lambda, a 300 s wait and a 30 s lease', () => {
    // Prepare
    const node = nodeWith({});
    // Act
    const { placement } = readStackConfig(node);
    // Assess
    expect(placement).toEqual({ placement: {}, placementTimeoutSeconds: 300, leaseSeconds: 30 });
  });

  it.each([
    [
      { download: 'websocket', logic: 'auto' },
      { download: 'websocket', logic: 'auto' },
    ],
    ['{"download":"auto"}', { download: 'auto' }],
    ['', {}],
    [null, {}],
  ])('reads placement %p (cdk.json object or -c JSON text)', (value, expected) => {
    // Prepare
    const node = nodeWith({ placement: value, placementTimeoutSeconds: '60', leaseSeconds: 15 });
    // Act
    const { placement } = readStackConfig(node);
    // Assess
    expect(placement).toEqual({
      placement: expected,
      placementTimeoutSeconds: 60,
      leaseSeconds: 15,
    });
  });

  it.each([
    ['{"download":', 'context placement is not valid JSON'],
    ['["download"]', 'context placement must be a JSON object of task type → lambda | websocket'],
    ['"auto"', 'context placement must be a JSON object'],
    [{ gpu: 'auto' }, 'context placement: unknown task type "gpu" (known: '],
    [{ download: 'fargate' }, 'context placement.download="fargate" must be one of lambda, '],
    [{ download: true }, 'context placement.download=true must be one of lambda, websocket, auto'],
  ])('refuses placement %p with a clear error', (value, message) => {
    // Prepare
    const node = nodeWith({ placement: value });
    // Act
    const act = () => readStackConfig(node);
    // Assess
    expect(act).toThrow(message);
  });

  it.each([
    [
      'placementTimeoutSeconds',
      0,
      'context placementTimeoutSeconds=0 must be a whole number from 1 to 1800',
    ],
    // Past 30 minutes the reaper would fail a waiting task as stuck before its timeout.
    ['placementTimeoutSeconds', '1801', 'context placementTimeoutSeconds="1801" must be a whole'],
    [
      'placementTimeoutSeconds',
      '5m',
      'context placementTimeoutSeconds="5m" must be a whole number',
    ],
    ['leaseSeconds', 0, 'context leaseSeconds=0 must be a whole number from 1 to 900'],
    ['leaseSeconds', 901, 'context leaseSeconds=901 must be a whole number from 1 to 900'],
    ['leaseSeconds', 2.5, 'context leaseSeconds=2.5 must be a whole number from 1 to 900'],
  ])('refuses %s=%p naming the key and the range', (key, value, message) => {
    // Prepare
    const node = nodeWith({ [key]: value });
    // Act
    const act = () => readStackConfig(node);
    // Assess
    expect(act).toThrow(message);
  });

  it('fails the synth itself on an unknown task type, before anything is built', () => {
    // Prepare
    const context = { [cxapi.BUNDLING_STACKS]: [], placement: '{"dowload":"websocket"}' };
    // Act
    const act = () => synthTaskwire({ context });
    // Assess
    expect(act).toThrow('context placement: unknown task type "dowload" (known: download, logic)');
  });
});

describe('readStackConfig: the intelligent bot', () => {
  it("defaults to WeCom's 6-minute stream window, a 30 s margin and WeCom's hosts", () => {
    // Prepare
    const node = nodeWith({});
    // Act
    const { wecomBot } = readStackConfig(node);
    // Assess
    expect(wecomBot).toEqual({
      streamWindowSeconds: 360,
      streamMarginSeconds: 30,
      responseHosts: undefined,
    });
  });

  it.each([
    [{ wecomStreamWindowSeconds: '120' }, 120, 30],
    [{ wecomStreamWindowSeconds: 60 }, 60, 15],
    [{ wecomStreamWindowSeconds: 300, wecomStreamMarginSeconds: '75' }, 300, 75],
    [{ wecomStreamMarginSeconds: 1 }, 360, 1],
  ])('reads the stream timing from %o', (context, window, margin) => {
    // Prepare
    const node = nodeWith(context);
    // Act
    const { wecomBot } = readStackConfig(node);
    // Assess
    expect([wecomBot.streamWindowSeconds, wecomBot.streamMarginSeconds]).toEqual([window, margin]);
  });

  it.each([
    [
      { wecomStreamWindowSeconds: 361 },
      'context wecomStreamWindowSeconds=361 must be a whole number from 10 to 360',
    ],
    [
      { wecomStreamWindowSeconds: '9' },
      'context wecomStreamWindowSeconds="9" must be a whole number from 10',
    ],
    [
      { wecomStreamMarginSeconds: 0 },
      'context wecomStreamMarginSeconds=0 must be a whole number from 1 to 90',
    ],
    [
      { wecomStreamWindowSeconds: 100, wecomStreamMarginSeconds: 30 },
      'context wecomStreamMarginSeconds=30 must be a whole number from 1 to 25',
    ],
  ])('refuses %o naming the key and the range', (context, message) => {
    // Prepare
    const node = nodeWith(context);
    // Act
    const act = () => readStackConfig(node);
    // Assess
    expect(act).toThrow(message);
  });

  it.each([
    ['qyapi.weixin.qq.com', ['qyapi.weixin.qq.com']],
    [
      ' QYAPI.weixin.qq.com , proxy.example.com:8443,',
      ['qyapi.weixin.qq.com', 'proxy.example.com:8443'],
    ],
    [
      ['a.example.com', 'b.example.com'],
      ['a.example.com', 'b.example.com'],
    ],
    [',', undefined],
  ])('reads response_url hosts %p', (value, hosts) => {
    // Prepare
    const node = nodeWith({ wecomResponseHosts: value });
    // Act
    const { wecomBot } = readStackConfig(node);
    // Assess
    expect(wecomBot.responseHosts).toEqual(hosts);
  });

  it.each([
    ['https://qyapi.weixin.qq.com', '"https://qyapi.weixin.qq.com" is not a host'],
    ['qyapi.weixin.qq.com/cgi-bin', '"qyapi.weixin.qq.com/cgi-bin" is not a host'],
    ['*.weixin.qq.com', '"*.weixin.qq.com" is not a host'],
    ['a.example.com b.example.com', '"a.example.com b.example.com" is not a host'],
    [[42], '42 is not a host'],
    [42, 'context wecomResponseHosts must be a comma-separated list of hosts'],
  ])('refuses response_url hosts %p', (value, message) => {
    // Prepare
    const node = nodeWith({ wecomResponseHosts: value });
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
        // One as cdk.json gives it, one as `-c historySize=250` does.
        historySeconds: 3600,
        historySize: '250',
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

  it.each(ALL_SPECS.filter(([, spec]) => spec.needs.includes('streams')))(
    'gives %s the stream history from context',
    (id) => {
      // Prepare / Act
      const environment = environmentOf(id);
      // Assess
      expect(environment).toMatchObject({
        [ENV.historySeconds]: '3600',
        [ENV.historySize]: '250',
      });
      expect(environment[ENV.streamsTable]).toEqual(
        resolved(built.stack.streams, built.stack.streams.table.tableName),
      );
    },
  );

  it.each(ALL_SPECS.filter(([, spec]) => !spec.needs.includes('streams')))(
    'keeps the stream history from %s',
    (id) => {
      // Prepare / Act
      const environment = environmentOf(id);
      // Assess
      expect(environment[ENV.historySeconds]).toBeUndefined();
      expect(environment[ENV.historySize]).toBeUndefined();
      expect(environment[ENV.streamsTable]).toBeUndefined();
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
