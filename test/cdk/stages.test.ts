import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildStack, type TaskwireStack } from '../../lib/taskwire-stack';
import { cdkJsonContext, TEST_ENV, type TemplateResource } from './support/taskwire-template';

/**
 * Two stages of Taskwire in one app, as two `cdk deploy -c stage=…` put them in one account:
 * distinct stacks, nothing with a fixed physical name that the second would collide on, and
 * each stage's own removal policy. Bundling is skipped (the default stack's test bundles).
 */

/**
 * Properties that give a resource an account-wide physical name; set, they collide across
 * stages. (An inline policy's name is scoped to its role, so it is not here.)
 */
const NAME_PROPERTIES: Readonly<Record<string, string>> = {
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::Scheduler::Schedule': 'Name',
  'AWS::Events::Rule': 'Name',
};

const STATEFUL = [
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::SecretsManager::Secret',
  'AWS::Logs::LogGroup',
  'AWS::SQS::Queue',
];

let dev: TaskwireStack;
let prod: TaskwireStack;
let app: App;

beforeAll(() => {
  app = new App({
    context: { ...cdkJsonContext(), [cxapi.BUNDLING_STACKS]: [], alarmEmail: 'ops@example.com' },
  });
  dev = buildStack(app, { stage: 'dev', env: TEST_ENV });
  prod = buildStack(app, { stage: 'prod', env: TEST_ENV });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
});

const resources = (stack: TaskwireStack): [string, TemplateResource][] => {
  const json: { Resources?: Record<string, TemplateResource> } = Template.fromStack(stack).toJSON();
  return Object.entries(json.Resources ?? {});
};

describe('two stages in one account', () => {
  it('synthesize side by side, nag-clean, as Taskwire-dev and Taskwire-prod', () => {
    // Prepare / Act
    const assembly = app.synth({ force: true });
    // Assess
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      'Taskwire-dev',
      'Taskwire-prod',
    ]);
    expect(dev.stackName).toBe('Taskwire-dev');
    expect(prod.stackName).toBe('Taskwire-prod');
  });

  it('give no resource a fixed physical name the other stage would collide on', () => {
    // Prepare
    const named = (stack: TaskwireStack) =>
      resources(stack).flatMap(([id, resource]) => {
        const property = NAME_PROPERTIES[resource.Type];
        const value = property ? resource.Properties?.[property] : undefined;
        return value === undefined ? [] : [`${id}.${property}=${JSON.stringify(value)}`];
      });
    // Act
    const devNames = named(dev);
    const prodNames = named(prod);
    // Assess: names CloudFormation generates from the stack name are not in the template.
    expect(devNames).toEqual([]);
    expect(prodNames).toEqual([]);
  });

  it('name their APIs and WebSocket stages after the stage', () => {
    // Prepare
    const apiNames = (stack: TaskwireStack) =>
      resources(stack)
        .filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api')
        .map(([, r]) => r.Properties?.Name)
        .sort();
    // Act / Assess
    expect(apiNames(dev)).toEqual(['Taskwire-dev-http', 'Taskwire-dev-ws']);
    expect(apiNames(prod)).toEqual(['Taskwire-prod-http', 'Taskwire-prod-ws']);
    expect(dev.config.stageName).toBe('dev');
    expect(prod.config.stageName).toBe('prod');
  });

  it.each([
    ['dev', 'destroyed', 'Delete'],
    ['prod', 'retained', 'Retain'],
  ])(
    '%s: its tables, buckets, secrets, log groups and queues are %s with it',
    (stage, _how, policy) => {
      // Prepare
      const stack = stage === 'prod' ? prod : dev;
      const stateful = resources(stack).filter(([, r]) => STATEFUL.includes(r.Type));
      // Act
      const policies = new Set(stateful.map(([, r]) => r.DeletionPolicy));
      const types = new Set(stateful.map(([, r]) => r.Type));
      // Assess
      expect(types).toEqual(new Set(STATEFUL));
      expect(policies).toEqual(new Set([policy]));
    },
  );
});
