import { API_GATEWAY_MAX_AGE_SECONDS } from '../../src/connections/lifetime';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ENV, type Need } from '../../lambdas/catalog';
import type { SettingsEnvironment } from '../function-settings';
import { acknowledgeWildcardResources } from '../nag';
import { placementEnvironment } from '../placement-context';
import type { StreamHistory } from '../stack-config';
import {
  botStreamEnvironment,
  responseHostsEnvironment,
  type WecomBotContext,
} from '../wecom-bot-context';
import type { PlacementSettings } from '../../src/tasks/socket/placement';
import type { ArtifactsBucket } from './artifacts-bucket';
import type { SchemaTable } from './schema-table';
import type { TaskQueues } from './task-queues';
import type { TaskwireFunction } from './taskwire-function';
import type { WorkQueue } from './work-queue';

/**
 * How a catalog `need` becomes grants and the environment variables that name the resources.
 * The table below is the only place that maps needs to permissions: a function gets exactly the
 * needs its catalog entry lists, nothing by default.
 */

export type { Need };

/** Something the `push` need grants access to: the management API of one WebSocket stage. */
export interface ConnectionsManagement {
  /** `https://{apiId}.execute-api.{region}.{urlSuffix}/{stage}`: what the SDK client targets. */
  readonly managementEndpoint: string;
  /** Allows POST/GET/DELETE on `@connections/*` of this API's stage only. */
  grantManageConnections(fn: TaskwireFunction): void;
}

/** The stack resources needs are granted on. A new resource kind goes here. */
export interface NeedResources {
  readonly connectionsTable: SchemaTable;
  readonly tasksTable: SchemaTable;
  readonly idempotencyTable: SchemaTable;
  readonly messagesTable: SchemaTable;
  /** The stream log (src/streams/schema.ts): every pushed frame, so clients can resume. */
  readonly streamsTable: SchemaTable;
  readonly taskQueues: TaskQueues;
  readonly fanoutQueue: WorkQueue;
  readonly artifacts: ArtifactsBucket;
  readonly authSecret: secretsmanager.ISecret;
  readonly wecomSecret: secretsmanager.ISecret;
  /** The intelligent bot's token and EncodingAESKey (JSON {"token","encodingAesKey"}). */
  readonly wecomBotSecret: secretsmanager.ISecret;
  readonly downloadCredentials: secretsmanager.ISecret;
  readonly connections: ConnectionsManagement;
  /** Task settings from context; undefined when none are configured. */
  readonly taskSettings: SettingsEnvironment | undefined;
  /** Chat settings from context (possibly empty: both are optional). */
  readonly chatSettings: SettingsEnvironment;
  /** The trusted OIDC issuer (`TASKWIRE_OIDC`), or empty for HS256 only. */
  readonly identitySettings: SettingsEnvironment;
  /** How long and how many frames a stream keeps (context `historySeconds`/`historySize`). */
  readonly history: StreamHistory;
  /** The WebSocket URL clients connect to (the stack output WebSocketUrl). */
  readonly webSocketUrl: string;
  /** Socket-worker placement and leases (context `placement`, …). */
  readonly placement: PlacementSettings;
  /** The intelligent bot's stream timing and response_url hosts (context `wecomStream…`, …). */
  readonly wecomBot: WecomBotContext;
}

/**
 * API Gateway closes every WebSocket connection after 2 hours, whatever the traffic: a fixed
 * quota that cannot be raised, so it is a constant rather than context.
 */
export const WS_MAX_AGE_SECONDS = API_GATEWAY_MAX_AGE_SECONDS;

/** Grants one need to one function. */
export type NeedBinding = (fn: TaskwireFunction, resources: NeedResources) => void;

/**
 * One line per need. The mapped type makes a need missing from this table (or a key that is not
 * a need) a compile error, so a need added to the catalog's `Need` union without saying here
 * what it grants does not type-check.
 */
export const NEED_BINDINGS: { readonly [N in Need]: NeedBinding } = {
  'connections:read': (fn, r) => grantTable(fn, r.connectionsTable, ENV.connectionsTable, 'read'),
  'connections:write': (fn, r) =>
    grantTable(fn, r.connectionsTable, ENV.connectionsTable, 'readWrite'),
  'tasks:read': (fn, r) => grantTable(fn, r.tasksTable, ENV.tasksTable, 'read'),
  'tasks:write': (fn, r) => grantTable(fn, r.tasksTable, ENV.tasksTable, 'readWrite'),
  idempotency: (fn, r) => grantTable(fn, r.idempotencyTable, ENV.idempotencyTable, 'readWrite'),
  messages: (fn, r) => grantTable(fn, r.messagesTable, ENV.messagesTable, 'readWrite'),
  // Whoever pushes appends the frame to its stream (and trims it to the retention).
  streams: (fn, r) => {
    grantTable(fn, r.streamsTable, ENV.streamsTable, 'readWrite');
    fn.addEnvironment(ENV.historySeconds, String(r.history.seconds));
    fn.addEnvironment(ENV.historySize, String(r.history.size));
  },
  // $connect schedules a `session.expiring` notice, a scheduled message, before the cap.
  sessionNotices: (fn, r) => {
    grantTable(fn, r.messagesTable, ENV.messagesTable, 'readWrite');
    fn.addEnvironment(ENV.wsMaxAgeSeconds, String(WS_MAX_AGE_SECONDS));
  },
  'queues:send': (fn, r) => {
    r.taskQueues.grantSendMessages(fn);
    fn.addEnvironment(ENV.taskQueues, r.taskQueues.urlsJson());
  },
  fanoutQueue: (fn, r) => {
    r.fanoutQueue.grantSendMessages(fn);
    fn.addEnvironment(ENV.fanoutQueueUrl, r.fanoutQueue.queue.queueUrl);
  },
  push: (fn, r) => {
    r.connections.grantManageConnections(fn);
    fn.addEnvironment(ENV.managementEndpoint, r.connections.managementEndpoint);
  },
  artifacts: (fn, r) => {
    r.artifacts.grantPutAndGet(fn);
    fn.addEnvironment(ENV.artifactsBucket, r.artifacts.bucket.bucketName);
  },
  // Whoever verifies tokens with the secret also trusts the OIDC issuer, when there is one.
  authSecret: (fn, r) => {
    grantSecret(fn, r.authSecret, ENV.authSecretArn);
    addSettings(fn, r.identitySettings);
  },
  wecomSecret: (fn, r) => grantSecret(fn, r.wecomSecret, ENV.wecomSecretArn),
  // The bot's secret, and the stream window it answers refreshes by (context settings).
  wecomBotSecret: (fn, r) => {
    grantSecret(fn, r.wecomBotSecret, ENV.wecomBotSecretArn);
    addSettings(fn, botStreamEnvironment(r.wecomBot));
  },
  downloadCredentials: (fn, r) =>
    grantSecret(fn, r.downloadCredentials, ENV.downloadCredentialsArn),
  // Without task settings the stack warns once (see TaskwireStack); nothing to add here.
  taskConfig: (fn, r) => addSettings(fn, r.taskSettings ?? {}),
  // Whoever tells a task's end in the chat may post a bot task's result to its response_url.
  chatWebhook: (fn, r) => {
    addSettings(fn, r.chatSettings);
    addSettings(fn, responseHostsEnvironment(r.wecomBot));
  },
  // Settings, no grant: where each task type runs, and socket workers' leases.
  placement: (fn, r) => addSettings(fn, placementEnvironment(r.placement)),
  // A setting, no grant: the console's config.json tells the page where to connect.
  webSocketUrl: (fn, r) => fn.addEnvironment(ENV.webSocketUrl, r.webSocketUrl),
};

/** Applies every need of a function (each once, in catalog order). */
export function applyNeeds(
  fn: TaskwireFunction,
  needs: readonly Need[],
  resources: NeedResources,
): void {
  for (const need of new Set(needs)) {
    // The type already rules out unknown needs; this guards the paths that skip type-checking
    // (tsx in `cdk synth`, ts-jest without diagnostics) with a message instead of a TypeError.
    const bind: NeedBinding | undefined = NEED_BINDINGS[need];
    if (!bind) {
      throw new Error(
        `function ${fn.node.id}: need "${String(need)}" has no binding in lib/constructs/needs.ts`,
      );
    }
    bind(fn, resources);
  }
}

function grantTable(
  fn: TaskwireFunction,
  schemaTable: SchemaTable,
  envName: string,
  access: 'read' | 'readWrite',
): void {
  const { table } = schemaTable;
  if (access === 'read') table.grantReadData(fn);
  else table.grantReadWriteData(fn);
  fn.addEnvironment(envName, table.tableName);
  // Table grants cover the table's GSIs as `<tableArn>/index/*` when it has any.
  if (!schemaTable.hasIndexes) return;
  acknowledgeWildcardResources(
    fn,
    [`${table.tableArn}/index/*`],
    'Queries run on the GSIs declared in the table schema (fan-out by user, group, clientType, ' +
      'shard; stats by status; due messages by minute); the wildcard covers only the indexes ' +
      'of this one table.',
  );
}

function grantSecret(fn: TaskwireFunction, secret: secretsmanager.ISecret, envName: string): void {
  secret.grantRead(fn);
  // The ARN, never the value: functions fetch and cache it, so the template holds no secret.
  fn.addEnvironment(envName, secret.secretArn);
}

function addSettings(fn: TaskwireFunction, settings: SettingsEnvironment): void {
  for (const [name, value] of Object.entries(settings)) fn.addEnvironment(name, value);
}
