import { App, RemovalPolicy } from 'aws-cdk-lib';
import { readStackConfig } from '../../lib/stack-config';

const nodeWith = (context: Record<string, unknown>) => new App({ context }).node;

describe('readStackConfig: stages', () => {
  it('names the stack after the stage, prod by default', () => {
    // Prepare / Act
    const bare = readStackConfig(nodeWith({}));
    const beta = readStackConfig(nodeWith({ stage: 'beta' }));
    // Assess
    expect([bare.stackName, bare.stageName]).toEqual(['Taskwire-prod', 'prod']);
    expect([beta.stackName, beta.stageName]).toEqual(['Taskwire-beta', 'beta']);
  });

  it.each([
    [{}, RemovalPolicy.RETAIN],
    [{ stage: 'prod' }, RemovalPolicy.RETAIN],
    [{ stage: 'dev' }, RemovalPolicy.DESTROY],
    [{ stage: 'staging', retain: 'true' }, RemovalPolicy.RETAIN],
    [{ stage: 'prod', retain: false }, RemovalPolicy.DESTROY],
  ])('with %o keeps or destroys data: %s', (context, policy) => {
    // Prepare / Act
    const config = readStackConfig(nodeWith(context));
    // Assess
    expect(config.removalPolicy).toBe(policy);
    expect(config.dev).toBe(policy === RemovalPolicy.DESTROY);
  });

  it('takes the stage from the caller over context', () => {
    // Prepare / Act
    const config = readStackConfig(nodeWith({ stage: 'beta' }), { stage: 'gamma' });
    // Assess
    expect(config.stackName).toBe('Taskwire-gamma');
  });

  it('still honours the deprecated dev flag, with a warning', () => {
    // Prepare / Act
    const alone = readStackConfig(nodeWith({ dev: 'true' }));
    const off = readStackConfig(nodeWith({ stage: 'beta', dev: false }));
    // Assess
    expect(alone).toMatchObject({ stageName: 'dev', removalPolicy: RemovalPolicy.DESTROY });
    expect(alone.deprecations).toEqual([expect.stringMatching(/context dev is deprecated/)]);
    expect(off.removalPolicy).toBe(RemovalPolicy.RETAIN);
    expect(readStackConfig(nodeWith({ stage: 'beta' })).deprecations).toEqual([]);
  });

  it.each([
    [{ stage: 'has_underscore' }, /context stage="has_underscore" is not a valid stage name/],
    [{ stage: '-dash' }, /stage/],
    [{ stage: 'x'.repeat(33) }, /stage/],
    [{ retain: 'maybe' }, /context retain must be true or false/],
    [{ dev: true, retain: true }, /dev=true contradicts retain=true/],
  ])('refuses %o naming the key', (context, message) => {
    // Prepare / Act
    const act = () => readStackConfig(nodeWith(context));
    // Assess
    expect(act).toThrow(message);
  });
});

describe('readStackConfig: alarms', () => {
  it.each([
    [{}, { kind: 'none' }],
    [{ alarmEmail: 'ops@example.com' }, { kind: 'email', email: 'ops@example.com' }],
    [
      { alarmTopicArn: 'arn:aws:sns:eu-central-1:123456789012:pager' },
      { kind: 'topic', topicArn: 'arn:aws:sns:eu-central-1:123456789012:pager' },
    ],
  ])('reads %o', (context, alarms) => {
    // Prepare / Act
    const config = readStackConfig(nodeWith(context));
    // Assess
    expect(config.alarms).toEqual(alarms);
  });

  it.each([
    [{ alarmEmail: 'not-an-address' }, /context alarmEmail="not-an-address" is not an email/],
    [{ alarmTopicArn: 'pager' }, /context alarmTopicArn="pager" is not an SNS topic ARN/],
    [
      { alarmEmail: 'ops@example.com', alarmTopicArn: 'arn:aws:sns:eu-central-1:123456789012:p' },
      /alarmEmail and alarmTopicArn are alternatives/,
    ],
  ])('refuses %o', (context, message) => {
    // Prepare / Act
    const act = () => readStackConfig(nodeWith(context));
    // Assess
    expect(act).toThrow(message);
  });
});

describe('readStackConfig: identity', () => {
  const OIDC = { issuer: 'https://id.example.com', audience: 'taskwire' };

  it('reads oidc as a cdk.json object or -c JSON text, with the claim defaults', () => {
    // Prepare / Act
    const fromObject = readStackConfig(nodeWith({ oidc: OIDC }));
    const fromText = readStackConfig(nodeWith({ oidc: JSON.stringify(OIDC) }));
    // Assess
    const expected = { ...OIDC, rolesClaim: 'roles', groupsClaim: 'groups', userClaim: 'sub' };
    expect(fromObject.oidc).toEqual(expected);
    expect(fromText.oidc).toEqual(expected);
    expect(readStackConfig(nodeWith({})).oidc).toBeUndefined();
  });

  it.each([
    [{ oidc: '{' }, /context oidc is not JSON/],
    [{ oidc: { issuer: 'http://id.example.com', audience: 'a' } }, /context oidc: issuer/],
    [{ oidc: OIDC, cognito: 'true' }, /cognito=true and oidc both name an issuer/],
    [{ cognito: 'yes' }, /context cognito must be true or false/],
  ])('refuses %o', (context, message) => {
    // Prepare / Act
    const act = () => readStackConfig(nodeWith(context));
    // Assess
    expect(act).toThrow(message);
  });
});
