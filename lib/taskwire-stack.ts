import * as path from 'node:path';
import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  ENV,
  FUNCTIONS,
  type FunctionSpec,
  TASK_WORKERS,
  WS_AUTHORIZER,
  WS_ROUTES,
  type FunctionName,
} from '../lambdas/catalog';
import { HTTP_ROUTES } from '../lambdas/http/routes';
import { CONNECTIONS_TABLE } from '../src/connections/schema';
import { DEFAULT_SWEEP_CHECKS_PER_SECOND } from '../src/connections/sweep';
import { MESSAGES_TABLE } from '../src/deliveries/schema';
import { STREAMS_TABLE } from '../src/streams/schema';
import { TASKS_TABLE } from '../src/tasks/schema';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { AlarmNotifications } from './constructs/alarm-notifications';
import { ApiGatewayAccount } from './constructs/api-gateway-account';
import { ArtifactsBucket } from './constructs/artifacts-bucket';
import { AuthSecret } from './constructs/auth-secret';
import { CatalogFunctions } from './constructs/catalog-functions';
import { CognitoIssuer } from './constructs/cognito-issuer';
import { TaskwireHttpApi } from './constructs/http-api';
import { noWorkerAlarm } from './constructs/no-worker-alarm';
import { OperatorSecret } from './constructs/operator-secret';
import { SchemaTable, type TableSchema } from './constructs/schema-table';
import { TaskQueues } from './constructs/task-queues';
import { TaskwireWebSocketApi } from './constructs/websocket-api';
import { WorkQueue } from './constructs/work-queue';
import { readChatSettings, readTaskSettings } from './function-settings';
import { readStackConfig, type StackConfig } from './stack-config';

/**
 * Powertools Idempotency's default table layout (partition key `id`, TTL on `expiration`), the
 * same as local/tables.ts creates.
 */
export const IDEMPOTENCY_TABLE: TableSchema = { partitionKey: 'id', ttlAttribute: 'expiration' };

/** The catalog function that consumes every task dead-letter queue. */
export const DEAD_LETTER_CONSUMER: FunctionName = 'deadLetter';

/** Queues a catalog function can consume (`consumes`), besides the task queues. */
export type ConsumableQueue = NonNullable<FunctionSpec['consumes']>;

/** Properties of {@link TaskwireStack}. */
export interface TaskwireStackProps extends StackProps {
  /** Project root the catalog's entries are relative to (default: the folder above lib/). */
  readonly projectRoot?: string;
  /** The stage, instead of context `stage` (see stack-config.ts). */
  readonly stage?: string;
}

/**
 * The whole of Taskwire in one stack, driven by lambdas/catalog.ts: the tables (from the shared
 * schemas), the task queues and artifact bucket, the secrets, one function per catalog entry and
 * task worker with exactly its needs, the queues' consumers, and the WebSocket and HTTP APIs with
 * the catalog's routes.
 */
export class TaskwireStack extends Stack {
  public readonly config: StackConfig;
  public readonly connections: SchemaTable;
  public readonly tasks: SchemaTable;
  public readonly idempotency: SchemaTable;
  public readonly messages: SchemaTable;
  /** The stream log: every pushed frame, kept `historySeconds` / `historySize` for resumes. */
  public readonly streams: SchemaTable;
  public readonly taskQueues: TaskQueues;
  public readonly fanoutQueue: WorkQueue;
  public readonly artifacts: ArtifactsBucket;
  public readonly authSecret: AuthSecret;
  public readonly wecomSecret: OperatorSecret;
  public readonly wecomBotSecret: OperatorSecret;
  public readonly downloadCredentials: OperatorSecret;
  public readonly functions: CatalogFunctions;
  public readonly webSocket: TaskwireWebSocketApi;
  public readonly http: TaskwireHttpApi;
  /** The example Cognito issuer (context `cognito=true`). */
  public readonly cognito: CognitoIssuer | undefined;
  /** Tasks failed with `no_worker` (no free socket worker within the placement timeout). */
  public readonly noWorkerAlarm: cloudwatch.Alarm;
  /** Where alarms notify (context `alarmEmail` / `alarmTopicArn`). */
  public readonly alarmNotifications: AlarmNotifications | undefined;

  public constructor(scope: Construct, id: string, props: TaskwireStackProps = {}) {
    super(scope, id, props);
    const config = readStackConfig(this.node, props.stage ? { stage: props.stage } : {});
    this.config = config;
    for (const message of config.deprecations) {
      Annotations.of(this).addWarningV2('taskwire:deprecatedContext', message);
    }
    const { removalPolicy } = config;
    const projectRoot = props.projectRoot ?? path.resolve(__dirname, '..');

    // Data: tables from the schemas the local runtime shares, queues, files, secrets.
    this.connections = new SchemaTable(this, 'Connections', {
      schema: CONNECTIONS_TABLE,
      removalPolicy,
    });
    this.tasks = new SchemaTable(this, 'Tasks', { schema: TASKS_TABLE, removalPolicy });
    this.idempotency = new SchemaTable(this, 'Idempotency', {
      schema: IDEMPOTENCY_TABLE,
      removalPolicy,
    });
    this.messages = new SchemaTable(this, 'Messages', { schema: MESSAGES_TABLE, removalPolicy });
    this.streams = new SchemaTable(this, 'Streams', { schema: STREAMS_TABLE, removalPolicy });
    this.fanoutQueue = new WorkQueue(this, 'FanoutQueue', {
      consumerTimeoutSeconds: longestConsumerTimeout('fanout'),
      removalPolicy,
    });
    this.taskQueues = new TaskQueues(this, 'TaskQueues', {
      workers: TASK_WORKERS,
      deadLetterConsumerTimeoutSeconds: FUNCTIONS[DEAD_LETTER_CONSUMER].timeoutSeconds,
      removalPolicy,
    });
    this.artifacts = new ArtifactsBucket(this, 'Artifacts', { removalPolicy });
    this.authSecret = new AuthSecret(this, 'AuthSecret', { removalPolicy });
    this.wecomSecret = new OperatorSecret(this, 'WecomSecret', {
      description: 'Taskwire WeCom callback settings, JSON {"token","encodingAesKey","corpId"}',
      placeholder: { token: '', encodingAesKey: '', corpId: '' },
      rotationReason:
        'The WeCom token and EncodingAESKey are issued in the WeCom admin console and must ' +
        'change there and here together; a rotation Lambda cannot change the WeCom side.',
      removalPolicy,
    });
    this.wecomBotSecret = new OperatorSecret(this, 'WecomBotSecret', {
      description:
        'Taskwire WeCom intelligent bot callback settings, JSON {"token","encodingAesKey"}',
      placeholder: { token: '', encodingAesKey: '' },
      rotationReason:
        'The intelligent bot token and EncodingAESKey are issued in the WeCom admin console and ' +
        'must change there and here together; a rotation Lambda cannot change the WeCom side.',
      removalPolicy,
    });
    this.downloadCredentials = new OperatorSecret(this, 'DownloadCredentials', {
      description:
        'Taskwire download server credentials, JSON {"<server>":{"username","password"}}',
      placeholder: {},
      rotationReason:
        'Download server accounts belong to the servers’ owners, who change the passwords; an ' +
        'operator then updates this secret. There is no API a rotation Lambda could call.',
      removalPolicy,
    });

    // Compute: every catalog function and task worker, then the APIs and queues in front.
    this.functions = new CatalogFunctions(this, 'Functions', {
      functions: FUNCTIONS,
      workers: TASK_WORKERS,
      projectRoot,
      logLevel: config.logLevel,
      removalPolicy,
    });

    // The sweep's share of the account's @connections quota (it checks only stale records).
    this.functions.byName.connectionSweeper.addEnvironment(
      ENV.sweepChecksPerSecond,
      String(DEFAULT_SWEEP_CHECKS_PER_SECOND),
    );

    const account = config.manageApiGatewayAccount
      ? new ApiGatewayAccount(this, 'ApiGatewayAccount')
      : undefined;
    this.webSocket = new TaskwireWebSocketApi(this, 'WebSocket', {
      functions: this.functions.byName,
      routes: WS_ROUTES,
      authorizer: WS_AUTHORIZER,
      stageName: config.stageName,
      throttle: config.webSocketThrottle,
      removalPolicy,
      ...(account ? { loggingPrerequisite: account.account } : {}),
    });

    this.http = new TaskwireHttpApi(this, 'Http', {
      functions: this.functions.byName,
      routes: HTTP_ROUTES,
      throttle: config.httpThrottle,
      removalPolicy,
    });

    // Queue consumers: each task type's worker, the task DLQs' consumer, and `consumes`.
    for (const [taskType, worker] of Object.entries(TASK_WORKERS)) {
      this.taskQueues.of(taskType).subscribe(this.functions.worker(taskType), worker.batchSize);
    }
    this.taskQueues.subscribeDeadLetters(this.functions.byName[DEAD_LETTER_CONSUMER]);
    // A mapped type: a new `consumes` value in the catalog fails to compile until it is here.
    const consumable: { readonly [Q in ConsumableQueue]: WorkQueue } = { fanout: this.fanoutQueue };
    for (const fn of this.functions.all()) {
      if (fn.spec.consumes) {
        consumable[fn.spec.consumes].subscribe(fn, fn.spec.batchSize, fn.spec.maxConcurrency);
      }
    }

    const taskSettings = readTaskSettings(this.node);
    if (!taskSettings) this.warnTaskSettingsMissing();

    // Identity: the OIDC issuer the token verifiers trust beside the HS256 secret, if any.
    this.cognito = config.cognito
      ? new CognitoIssuer(this, 'Cognito', { removalPolicy })
      : undefined;
    const oidcJson = this.cognito?.settingsJson ?? (config.oidc && JSON.stringify(config.oidc));

    // Grants last: `push` needs the WebSocket API, which needs the functions first.
    this.functions.grantNeeds({
      connectionsTable: this.connections,
      tasksTable: this.tasks,
      idempotencyTable: this.idempotency,
      messagesTable: this.messages,
      streamsTable: this.streams,
      taskQueues: this.taskQueues,
      fanoutQueue: this.fanoutQueue,
      artifacts: this.artifacts,
      authSecret: this.authSecret.secret,
      wecomSecret: this.wecomSecret.secret,
      wecomBotSecret: this.wecomBotSecret.secret,
      downloadCredentials: this.downloadCredentials.secret,
      connections: this.webSocket,
      taskSettings,
      chatSettings: readChatSettings(this.node),
      identitySettings: oidcJson ? { [ENV.oidc]: oidcJson } : {},
      history: config.history,
      webSocketUrl: this.webSocket.url,
      placement: config.placement,
      wecomBot: config.wecomBot,
    });
    this.noWorkerAlarm = noWorkerAlarm(this);

    // Last, so the aspect reaches every alarm above (it also catches later ones).
    this.alarmNotifications =
      config.alarms.kind === 'none'
        ? undefined
        : new AlarmNotifications(this, 'AlarmNotifications', { target: config.alarms });

    this.addOutputs();
  }

  /** Synth works without task settings (offline, fresh checkout), but a deploy should not. */
  private warnTaskSettingsMissing(): void {
    const affected = this.functions
      .all()
      .filter((fn) => fn.spec.needs.includes('taskConfig'))
      .map((fn) => fn.node.id);
    if (affected.length === 0) return;
    Annotations.of(this).addWarningV2(
      'taskwire:taskSettingsMissing',
      'context downloadServers/defaultDownloadServer is not set, so these functions will answer ' +
        `with a configuration error until it is: ${affected.join(', ')}`,
    );
  }

  private addOutputs(): void {
    const outputs: Record<string, { value: string; description: string }> = {
      WebSocketUrl: {
        value: this.webSocket.url,
        description: 'WebSocket endpoint: connect with ?token=<JWT>',
      },
      HttpApiUrl: {
        value: this.http.url,
        description:
          'HTTP API base URL (WeCom callbacks: {HttpApiUrl}/wecom/callback, {HttpApiUrl}/wecom/bot)',
      },
      ConsoleUrl: {
        value: `${this.http.url}/console/`,
        description: 'The console (live page): sign in with a token; same origin as the HTTP API',
      },
      AuthSecretArn: {
        value: this.authSecret.secret.secretArn,
        description: 'Secrets Manager secret holding the HS256 token signing key',
      },
      WecomSecretArn: {
        value: this.wecomSecret.secret.secretArn,
        description: 'Put the WeCom settings here: JSON {"token","encodingAesKey","corpId"}',
      },
      WecomBotSecretArn: {
        value: this.wecomBotSecret.secret.secretArn,
        description: 'Put the intelligent bot settings here: JSON {"token","encodingAesKey"}',
      },
      DownloadCredentialsSecretArn: {
        value: this.downloadCredentials.secret.secretArn,
        description:
          'Put download server credentials here: JSON {"<server>":{"username","password"}}',
      },
      ConnectionsTableName: {
        value: this.connections.table.tableName,
        description: 'DynamoDB table of live connections and group memberships',
      },
      TasksTableName: { value: this.tasks.table.tableName, description: 'DynamoDB table of tasks' },
      ArtifactsBucketName: {
        value: this.artifacts.bucket.bucketName,
        description: 'S3 bucket of downloaded files and task results',
      },
    };
    if (this.cognito) {
      outputs.UserPoolId = {
        value: this.cognito.userPool.userPoolId,
        description: 'Cognito user pool: add users to the client, worker or admin group',
      };
      outputs.UserPoolClientId = {
        value: this.cognito.client.userPoolClientId,
        description: 'Cognito app client: sign in with SRP, send the ID token as the JWT',
      };
    }
    if (this.alarmNotifications) {
      outputs.AlarmTopicArn = {
        value: this.alarmNotifications.topic.topicArn,
        description: 'SNS topic every alarm notifies',
      };
    }
    for (const [id, output] of Object.entries(outputs)) new CfnOutput(this, id, output);
  }
}

/**
 * The longest timeout among the catalog functions that consume a queue: the queue's visibility
 * timeout is sized for it. 30 s (Lambda's default timeout) when nothing consumes it yet.
 */
function longestConsumerTimeout(queue: ConsumableQueue): number {
  const timeouts = Object.values<FunctionSpec>(FUNCTIONS)
    .filter((spec) => spec.consumes === queue)
    .map((spec) => spec.timeoutSeconds);
  return Math.max(30, ...timeouts);
}

/**
 * Adds the Taskwire stack of a stage to an app: `Taskwire-<stage>`, the stage from `props.stage`
 * or context `stage` (default `prod`). bin/ and the tests both build it this way.
 */
export function buildStack(scope: Construct, props: TaskwireStackProps = {}): TaskwireStack {
  const { stageName, stackName } = readStackConfig(
    scope.node,
    props.stage ? { stage: props.stage } : {},
  );
  return new TaskwireStack(scope, stackName, {
    description: `Taskwire (${stageName}): serverless WebSocket task dispatch and push`,
    ...props,
  });
}
