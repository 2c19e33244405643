import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { ENV, FUNCTIONS, TASK_WORKERS, type Need } from '../../lambdas/catalog';
import { catalogEntries, workerId } from '../../lib/constructs/catalog-functions';
import {
  logicalIdOf,
  resourceById,
  resourcesOfType,
  synthTaskwire,
  type SynthesizedTaskwire,
  type TemplateResource,
} from './support/taskwire-template';

/**
 * The stack's optional parts, each from its context: alarm notifications (an email topic, an
 * existing topic, or none), an OIDC issuer or the example Cognito pool, and a synth with
 * complete context that warns about nothing. Bundling is skipped (CDK's own switch): the
 * default stack's test bundles every function.
 */

const NO_BUNDLING = { [cxapi.BUNDLING_STACKS]: [] };
const TASK_SETTINGS = {
  downloadServers: { main: { baseUrl: 'https://data.example.com' } },
  defaultDownloadServer: 'main',
};
const OIDC = { issuer: 'https://id.example.com', audience: 'taskwire' };
const TOPIC_ARN = 'arn:aws:sns:eu-central-1:123456789012:on-call';
/** Socket workers and the intelligent bot, one value as cdk.json gives it, one as `-c` does. */
const ADDITIONS = {
  placement: { download: 'websocket', logic: 'auto' },
  placementTimeoutSeconds: '120',
  leaseSeconds: 45,
  wecomStreamWindowSeconds: 240,
  wecomStreamMarginSeconds: '20',
  wecomResponseHosts: 'qyapi.weixin.qq.com,bot-proxy.example.com',
};

const synth = (context: Record<string, unknown>, nag = false) =>
  synthTaskwire({ context: { ...NO_BUNDLING, ...context }, nag });

const alarmsOf = (built: SynthesizedTaskwire): TemplateResource[] =>
  Object.values(resourcesOfType(built.template, 'AWS::CloudWatch::Alarm'));

/** Every function of the stack by construct id, with its spec: catalog entries and workers. */
const ALL_SPECS = [
  ...catalogEntries(FUNCTIONS),
  ...Object.entries(TASK_WORKERS).map(([taskType, spec]) => [workerId(taskType), spec] as const),
];

// Built once each and shared: a synth costs seconds. `full` is the stack with complete context.
let full: SynthesizedTaskwire;
let bare: SynthesizedTaskwire;

beforeAll(() => {
  full = synth({ ...TASK_SETTINGS, ...ADDITIONS, alarmEmail: 'ops@example.com', oidc: OIDC }, true);
  bare = synth({});
});

function environmentOf(built: SynthesizedTaskwire, id: string): Record<string, unknown> {
  const fn = built.stack.functions.node.findChild(id).node.findChild('Function');
  const resource = resourceById(built.template, logicalIdOf(fn));
  return (resource.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
}

describe('alarm notifications', () => {
  it('with alarmEmail: a TLS-only topic subscribing the address is every alarm’s action', () => {
    // Prepare
    const built = full;
    // Act
    const topics = resourcesOfType(built.template, 'AWS::SNS::Topic');
    const [topicId] = Object.keys(topics);
    const subscriptions = Object.values(resourcesOfType(built.template, 'AWS::SNS::Subscription'));
    const policies = JSON.stringify(resourcesOfType(built.template, 'AWS::SNS::TopicPolicy'));
    const alarms = alarmsOf(built);
    // Assess
    expect(Object.keys(topics)).toHaveLength(1);
    expect(subscriptions.map((s) => s.Properties)).toEqual([
      expect.objectContaining({ Protocol: 'email', Endpoint: 'ops@example.com' }),
    ]);
    expect(policies).toContain('"aws:SecureTransport":"false"');
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties?.OKActions).toEqual([{ Ref: topicId }]);
    }
    expect(built.template.findOutputs('AlarmTopicArn').AlarmTopicArn?.Value).toEqual({
      Ref: topicId,
    });
    // …and the synth with the nag plugin passed: SNS3 is met, SNS2 acknowledged with a reason.
    expect(() => built.app.synth({ force: true })).not.toThrow();
  });

  it('with alarmTopicArn: every alarm notifies that topic and none is created', () => {
    // Prepare
    const built = synth({ alarmTopicArn: TOPIC_ARN });
    // Act
    const topics = resourcesOfType(built.template, 'AWS::SNS::Topic');
    const alarms = alarmsOf(built);
    // Assess
    expect(topics).toEqual({});
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties?.AlarmActions).toEqual([TOPIC_ARN]);
      expect(alarm.Properties?.OKActions).toEqual([TOPIC_ARN]);
    }
  });

  it('without either: no topic and alarms without actions', () => {
    // Prepare
    const built = bare;
    // Act
    const topics = resourcesOfType(built.template, 'AWS::SNS::Topic');
    const alarms = alarmsOf(built);
    // Assess
    expect(topics).toEqual({});
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties?.AlarmActions).toBeUndefined();
      expect(alarm.Properties?.OKActions).toBeUndefined();
    }
    expect(built.template.findOutputs('AlarmTopicArn')).toEqual({});
  });
});

describe('identity providers', () => {
  const verifiers = ALL_SPECS.filter(([, spec]) => spec.needs.includes('authSecret'));
  const others = ALL_SPECS.filter(([, spec]) => !spec.needs.includes('authSecret'));
  let withCognito: SynthesizedTaskwire;

  beforeAll(() => {
    withCognito = synth({ cognito: 'true' }, true);
  });

  it('verifies tokens in the authorizer and the HTTP API, at least', () => {
    // Prepare / Act
    const ids = verifiers.map(([id]) => id);
    // Assess
    expect(ids).toEqual(expect.arrayContaining(['wsAuthorizer', 'httpApi']));
  });

  it.each(verifiers)('gives %s the issuer from context oidc as TASKWIRE_OIDC', (id) => {
    // Prepare / Act
    const environment = environmentOf(full, id);
    // Assess
    expect(JSON.parse(String(environment[ENV.oidc]))).toEqual({
      ...OIDC,
      rolesClaim: 'roles',
      groupsClaim: 'groups',
      userClaim: 'sub',
    });
  });

  it.each(others)('keeps TASKWIRE_OIDC from %s, which verifies no token', (id) => {
    // Prepare / Act
    const environment = environmentOf(full, id);
    // Assess
    expect(environment[ENV.oidc]).toBeUndefined();
  });

  it('without oidc gives no function TASKWIRE_OIDC', () => {
    // Prepare / Act
    const values = ALL_SPECS.map(([id]) => environmentOf(bare, id)[ENV.oidc]);
    // Assess
    expect(values.every((v) => v === undefined)).toBe(true);
  });

  it('with cognito=true: a user pool with a group per role, trusted through cognito:groups', () => {
    // Prepare
    const { template, stack } = withCognito;
    const poolId = logicalIdOf(stack.cognito?.userPool ?? stack);
    const clientId = logicalIdOf(stack.cognito?.client ?? stack);
    // Act
    const groups = Object.values(resourcesOfType(template, 'AWS::Cognito::UserPoolGroup'));
    const pool = resourceById(template, poolId);
    const environment = JSON.stringify(environmentOf(withCognito, 'wsAuthorizer')[ENV.oidc]);
    // Assess
    expect(groups.map((g) => g.Properties?.GroupName).sort()).toEqual([
      'admin',
      'client',
      'worker',
    ]);
    expect(pool.Properties).toMatchObject({
      MfaConfiguration: 'ON',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    });
    expect(environment).toContain('\\"rolesClaim\\":\\"cognito:groups\\"');
    expect(environment).toContain(poolId);
    expect(environment).toContain(clientId);
    expect(Object.keys(template.findOutputs('*'))).toEqual(
      expect.arrayContaining(['UserPoolId', 'UserPoolClientId']),
    );
  });

  it('with cognito=true synthesizes with no unacknowledged nag finding', () => {
    // Prepare / Act
    const act = () => withCognito.app.synth({ force: true });
    // Assess
    expect(act).not.toThrow();
  });
});

describe('socket workers and the intelligent bot from context', () => {
  const withNeed = (need: Need) => ALL_SPECS.filter(([, spec]) => spec.needs.includes(need));
  const withoutNeed = (need: Need) => ALL_SPECS.filter(([, spec]) => !spec.needs.includes(need));

  it.each(withNeed('placement'))('gives %s the placement, its timeout and the lease', (id) => {
    // Prepare / Act
    const environment = environmentOf(full, id);
    // Assess
    expect(environment).toMatchObject({
      [ENV.placementTimeoutSeconds]: '120',
      [ENV.leaseSeconds]: '45',
    });
    expect(JSON.parse(String(environment[ENV.placement]))).toEqual(ADDITIONS.placement);
  });

  it.each(withNeed('wecomBotSecret'))('gives %s the stream window and margin', (id) => {
    // Prepare / Act
    const environment = environmentOf(full, id);
    // Assess
    expect(environment).toMatchObject({
      [ENV.wecomStreamWindowSeconds]: '240',
      [ENV.wecomStreamMarginSeconds]: '20',
    });
  });

  it.each(withoutNeed('wecomBotSecret'))('keeps the stream timing from %s', (id) => {
    // Prepare / Act
    const environment = environmentOf(full, id);
    // Assess
    expect(environment[ENV.wecomStreamWindowSeconds]).toBeUndefined();
    expect(environment[ENV.wecomStreamMarginSeconds]).toBeUndefined();
  });

  it.each(withNeed('chatWebhook'))(
    'gives %s, which tells tasks’ ends, the response hosts',
    (id) => {
      // Prepare / Act
      const environment = environmentOf(full, id);
      // Assess
      expect(environment[ENV.wecomResponseHosts]).toBe('qyapi.weixin.qq.com,bot-proxy.example.com');
    },
  );

  it.each(withoutNeed('chatWebhook'))('keeps the response hosts from %s', (id) => {
    // Prepare / Act
    const environment = environmentOf(full, id);
    // Assess
    expect(environment[ENV.wecomResponseHosts]).toBeUndefined();
  });
});

describe('cdk synth with complete context', () => {
  it('warns about nothing (task settings, alarm email, OIDC, socket workers, bot; nag on)', () => {
    // Prepare
    full.app.synth({ force: true });
    // Act
    const warnings = Annotations.fromStack(full.stack).findWarning('*', Match.anyValue());
    // Assess
    expect(warnings).toEqual([]);
  });

  it('does warn when the task settings are missing, so the check above can fail', () => {
    // Prepare / Act
    const warnings = Annotations.fromStack(bare.stack).findWarning('*', Match.anyValue());
    // Assess
    expect(warnings.map((w) => String(w.entry.data))).toEqual([
      expect.stringMatching(/downloadServers\/defaultDownloadServer is not set/),
    ]);
  });

  it('warns once about the deprecated dev flag', () => {
    // Prepare
    const built = synth({ ...TASK_SETTINGS, dev: 'true' });
    // Act
    const warnings = Annotations.fromStack(built.stack).findWarning('*', Match.anyValue());
    // Assess
    expect(warnings.map((w) => String(w.entry.data))).toEqual([
      expect.stringMatching(/context dev is deprecated/),
    ]);
    expect(built.stack.stackName).toBe('Taskwire-dev');
  });
});
