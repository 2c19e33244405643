import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { FunctionSpec } from '../../lambdas/catalog';
import { acknowledge } from '../nag';
import type { PowertoolsLogLevel } from '../stack-config';

/** Properties of {@link TaskwireFunction}. */
export interface TaskwireFunctionProps {
  /** The function's catalog entry (lambdas/catalog.ts): entry, description, timeout, memory. */
  readonly spec: FunctionSpec;
  /** Absolute path of the project root; catalog entries are relative to it. */
  readonly projectRoot: string;
  /** POWERTOOLS_LOG_LEVEL. */
  readonly logLevel: PowertoolsLogLevel;
  /** What happens to the function's log group when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/** Log retention of every function: long enough to investigate an incident, cheap enough. */
export const FUNCTION_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

/**
 * The one way Taskwire builds a Lambda function (after the Powertools examples): Node.js 22 on
 * arm64, esbuild-bundled with the AWS SDK inside, X-Ray active, Powertools settings, its own
 * log group and role, and the EventBridge schedule its catalog entry may ask for. The role
 * starts empty apart from writing to that log group; everything else is granted from the
 * function's catalog `needs` (see needs.ts), so the role holds what the catalog asks for and
 * nothing more.
 */
/** The SDK's default credential chain, replaced in Lambda bundles by an env-only provider. */
export const SDK_CREDENTIAL_CHAIN = '@aws-sdk/credential-provider-node';
/** The env-only stand-in (lambdas/runtime/lambda-credentials.ts), as an absolute path. */
export const LAMBDA_CREDENTIALS_MODULE = path.resolve(
  __dirname,
  '../../lambdas/runtime/lambda-credentials.ts',
);

export class TaskwireFunction extends Construct implements iam.IGrantable {
  /** The Lambda function. */
  public readonly function: NodejsFunction;
  /** The execution role; grants land in its default policy. */
  public readonly role: iam.Role;
  /** The function's log group (retention one month). */
  public readonly logGroup: logs.LogGroup;
  /** The catalog entry the function was built from. */
  public readonly spec: FunctionSpec;
  public readonly grantPrincipal: iam.IPrincipal;

  public constructor(scope: Construct, id: string, props: TaskwireFunctionProps) {
    super(scope, id);
    this.spec = props.spec;
    const entry = resolveEntry(props.projectRoot, props.spec.entry, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: FUNCTION_LOG_RETENTION,
      removalPolicy: props.removalPolicy,
    });

    // An explicit role instead of the default one: the default attaches the AWS managed
    // AWSLambdaBasicExecutionRole (logs:* on every log group, nag IAM4); this one may only write
    // to its own log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the Taskwire ${id} function`,
    });
    this.logGroup.grantWrite(this.role);
    this.grantPrincipal = this.role;

    this.function = new NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      description: props.spec.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.spec.memoryMb,
      timeout: Duration.seconds(props.spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      // SDK v3 keeps connections alive by itself; the v2 variable would only add noise.
      awsSdkConnectionReuse: false,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'taskwire',
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        // Stack traces point into the TypeScript sources instead of the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        // Bundle the SDK instead of using the runtime's copy: the version is the one we tested,
        // and tree-shaking keeps only the clients a handler imports, so cold starts stay small.
        bundleAwsSDK: true,
        externalModules: [],
        minify: true,
        sourceMap: true,
        // The map only needs line mappings for stack traces; the sources would double the size.
        sourcesContent: false,
        target: 'node22',
        format: OutputFormat.CJS,
        // Prefer the packages' ES module builds (SDK v3, Powertools): esbuild tree-shakes those.
        mainFields: ['module', 'main'],
        // Warnings and errors only: the per-bundle size summary drowns synth and test output.
        logLevel: LogLevel.WARNING,
        // Lambda passes the role's credentials in environment variables; the SDK's default
        // provider chain (SSO, INI, IMDS, STS…) is dead weight there (~115 KB minified).
        esbuildArgs: { [`--alias:${SDK_CREDENTIAL_CHAIN}`]: LAMBDA_CREDENTIALS_MODULE },
      },
    });

    if (props.spec.schedule) this.addSchedule(id, props.spec.schedule);

    acknowledge(
      this,
      'AwsSolutions-L1',
      'Node.js 22 is the runtime the design fixes and the code is tested on; moving to a ' +
        'newer Node.js runtime is a deliberate, tested upgrade, not one a lint rule should force.',
    );
    acknowledge(
      this,
      'AwsSolutions-IAM5[Resource::*]',
      'Added by Lambda active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not ' +
        'support resource-level permissions, so X-Ray requires Resource "*".',
    );
  }

  /** Invokes the function on the catalog's schedule (an EventBridge rule). */
  private addSchedule(id: string, expression: string): void {
    // Fail synth on a typo rather than at deploy time with EventBridge's terser message.
    if (!/^(rate|cron)\(.+\)$/.test(expression)) {
      throw new Error(`function ${id}: schedule "${expression}" is not a rate(...) or cron(...)`);
    }
    new events.Rule(this, 'Schedule', {
      description: `Invokes the Taskwire ${id} function: ${expression}`,
      schedule: events.Schedule.expression(expression),
      targets: [new targets.LambdaFunction(this.function)],
    });
  }

  /** Adds an environment variable to the function. */
  public addEnvironment(key: string, value: string): void {
    this.function.addEnvironment(key, value);
  }

  /** Adds a statement to the function's execution role. */
  public addToRolePolicy(statement: iam.PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }
}

/**
 * Resolves a catalog entry to an absolute path, failing with the catalog's words when the
 * handler file does not exist yet (NodejsFunction's message names neither function nor catalog).
 */
export function resolveEntry(projectRoot: string, entry: string, functionName: string): string {
  const absolute = path.resolve(projectRoot, entry);
  if (!existsSync(absolute)) {
    throw new Error(
      `function ${functionName}: handler file ${entry} (lambdas/catalog.ts) does not exist`,
    );
  }
  return absolute;
}
