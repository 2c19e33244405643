import { readHistorySettings, type HistorySettings } from '../lambdas/config/stream-config';
import { API_GATEWAY_IDLE_SECONDS, API_GATEWAY_MAX_AGE_SECONDS } from '../src/connections/lifetime';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { POSTER_CLIENT_SETTINGS } from '../src/adapters/api-gateway/connection-poster';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  FUNCTIONS,
  type FunctionName,
  TASK_WORKERS,
  WS_AUTHORIZER,
  WS_ROUTES,
} from '../lambdas/catalog';
import { HTTP_ROUTES } from '../lambdas/http/routes';
import { createApiHandler } from '../lambdas/http/api';
import { createConsoleHandler } from '../lambdas/http/console';
import { createWecomCallbackHandler } from '../lambdas/http/wecom-callback';
import { createWecomBotHandler } from '../lambdas/http/wecom-bot';
import {
  botKeysOf,
  readResponseHosts,
  readStreamTiming,
  type StreamTiming,
  type WecomBotSettings,
} from '../lambdas/http/wecom-bot-config';
import { DynamoBotStore } from '../src/adapters/dynamodb/wecom-bot-store';
import { WECOM_RESPONSE_HOSTS } from '../src/wecom/bot/delivery';
import { buildChatNotifier } from '../lambdas/composition/chat';
import {
  buildFanoutPorts,
  buildFanoutQueue,
  buildSchedulePorts,
} from '../lambdas/composition/deliveries';
import {
  buildConnectionStore,
  buildStreamLog,
  buildDocumentClient,
  buildMessageStore,
  buildTaskStore,
} from '../lambdas/composition/dynamo';
import { buildIdempotencyStore } from '../lambdas/composition/idempotency';
import { buildPusher, buildTaskUpdates } from '../lambdas/composition/push';
import { buildSubmitPorts, buildTaskQueue } from '../lambdas/composition/tasks';
import { buildReaperPorts, buildWorkerPorts } from '../lambdas/composition/workers';
import { resolveServers } from '../lambdas/config/download-servers';
import type { DownloadServer } from '../lambdas/config/task-config';
import { wecomKeysOf, type WecomSettings } from '../lambdas/config/wecom-config';
import { createDeadLetterHandler } from '../lambdas/workers/dead-letter';
import { createTaskWorkerHandler } from '../lambdas/workers/task-worker';
import { createAuthorizerHandler } from '../lambdas/ws/authorizer';
import { createConnectHandler } from '../lambdas/ws/connect';
import { createDisconnectHandler } from '../lambdas/ws/disconnect';
import { createMessageHandler } from '../lambdas/ws/message';
import { LocalArtifactStore } from '../src/adapters/local-files/artifact-store';
import { createOidcVerifier } from '../src/auth/oidc';
import type { OidcSettings } from '../src/auth/oidc-settings';
import { MIN_SECRET_LENGTH } from '../src/auth/token';
import { DynamoConnectionStore } from '../src/adapters/dynamodb/connection-store';
import { type Clock, systemClock } from '../src/ports/clock';
import { type Log, silentLog } from '../src/ports/log';
import { Pusher } from '../src/push/pusher';
import { DynamoTaskStore } from '../src/adapters/dynamodb/task-store';
import { queueNameOf, TASK_QUEUE_SETTINGS } from '../src/tasks/queues';
import { createTaskRegistry, TASK_REGISTRY } from '../src/tasks/registry';
import type { TaskTypeSpec } from '../src/tasks/types/task-type';
import { artifactRoute } from './artifact-route';
import { localClientConfig } from './clients';
import { localLambdaContext } from './lambda-context';
import { type Emulator, type QueueUrls, startDynalite, startSqs } from './emulators';
import { type HttpApi, startHttpApi } from './http-api';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalHandler } from './lambda-types';
import { SAMPLE_CREDENTIALS, startSampleServer } from './sample-server';
import { type SqsBatchHandler, startQueuePoller } from './sqs-poller';
import { createLocalTables, LOCAL_TABLES } from './tables';
import { type ChatPost, startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';
import { DEV_WECOM, DEV_WECOM_BOT } from './wecom-dev';
import { every } from './timer';
import { DynamoMessageStore } from '../src/adapters/dynamodb/message-store';
import type { SweepReport } from '../src/connections/sweep';
import { STALE_AFTER_SECONDS } from '../src/connections/schema';
import { createFanoutHandler } from '../lambdas/workers/fanout';
import { createSchedulerHandler } from '../lambdas/workers/scheduler';
import { createConnectionSweeperHandler } from '../lambdas/workers/connection-sweeper';
import { createTaskReaperHandler } from '../lambdas/workers/task-reaper';
import { readPlacementSettings } from '../lambdas/config/placement-config';
import { buildWorkerStore } from '../lambdas/composition/dynamo';
import { buildSocketWorkerPorts, workerCancelNotice } from '../lambdas/composition/socket-workers';
import type { PlacementSettings } from '../src/tasks/socket/placement';
import {
  offerQueuedTask,
  type SocketWorkerPorts,
  sweepLapsedLease,
  sweepLeases,
} from '../src/tasks/socket/socket-workers';
import type { ReapReport } from '../src/tasks/reaper';

/** The local fan-out queue's name. */
export const FANOUT_QUEUE = 'taskwire-fanout';
import { startWsGateway, type WsGateway } from './ws-gateway';
import { type GatewayMode, gatewayModeFromEnv, startWsGatewayProcess } from './ws-gateway-process';
import {
  type FunctionEnvironmentMode,
  type FunctionEnvironmentStart,
  functionEnvironments,
  functionModeFromEnv,
} from './function-environment';

/** Options of {@link startLocalRuntime}; every port defaults to 0 (a free one). */
export interface LocalRuntimeOptions {
  readonly host?: string;
  readonly wsPort?: number;
  readonly httpPort?: number;
  /** HS256 signing secret for tokens (at least 32 characters). */
  readonly authSecret: string;
  /** An OIDC issuer whose tokens are trusted beside the secret's (env TASKWIRE_OIDC). */
  readonly oidc?: OidcSettings;
  readonly log?: Log;
  readonly clock?: Clock;
  /** Keep dynalite's data and the artifacts in this folder instead of memory and a temp dir. */
  readonly dataPath?: string;
  /**
   * Use an already-running DynamoDB endpoint instead of starting dynalite in this process (its
   * tables are still created here; stop() leaves the emulator running). The bench uses it to
   * measure the gateway alone.
   */
  readonly dynamoEndpoint?: string;
  /**
   * Where the WebSocket gateway runs (default env `TASKWIRE_WS_GATEWAY`, else `inline`):
   * `process` gives it a process of its own, as API Gateway is a service of its own (`npm start`
   * and the bench); `inline` keeps it in this process (quicker to start: the tests).
   */
  readonly gateway?: GatewayMode;
  /**
   * Called if the gateway process ends without stop() (it crashed or was killed): every
   * WebSocket connection is gone and no new one can open. Default: the error is logged.
   * `npm start` stops with it.
   */
  readonly onGatewayExit?: (error: Error) => void;
  /**
   * Where the execution environments of the push-heavy functions, the fan-out and the
   * connection sweeper, run (default env `TASKWIRE_FUNCTION_ENVIRONMENTS`, else `inline`):
   * `process` gives each one a process of its own, as Lambda gives each its own CPU (`npm start`
   * and the bench); `inline` runs them in this process (quicker to start, and a test clock
   * reaches them: the tests).
   */
  readonly functionEnvironments?: FunctionEnvironmentMode;
  /** Posts in flight per push (default 50, as in the cloud). */
  readonly pushConcurrency?: number;
  /**
   * The `@connections` quota of the local gateway in POSTs per second (429 above it, as API
   * Gateway; default env `TASKWIRE_WS_POST_RPS`, else none).
   */
  readonly postRateLimit?: number;
  /** WeCom callback settings (default: the dev settings of local/wecom-dev.ts). */
  readonly wecom?: WecomSettings;
  /** The intelligent bot's settings (default: local/wecom-dev.ts's DEV_WECOM_BOT). */
  readonly wecomBot?: WecomBotSettings;
  /**
   * WeCom's stream window and the margin before its end, seconds (default env
   * TASKWIRE_WECOM_STREAM_WINDOW_S / _MARGIN_S, else 360 and 30); tests shorten them.
   */
  readonly wecomStream?: { readonly windowSeconds?: number; readonly marginSeconds?: number };
  /**
   * Hosts a bot's response_url may be posted to (default env TASKWIRE_WECOM_RESPONSE_HOSTS,
   * else WeCom's); the runtime's own response_url receiver is always allowed.
   */
  readonly responseHosts?: readonly string[];
  /** Called with each post the local response_url receiver gets (npm start prints them). */
  readonly onBotResponse?: (post: ChatPost) => void;
  /** Download servers (default: `local`, the sample server this runtime starts). */
  readonly servers?: Readonly<Record<string, DownloadServer>>;
  readonly defaultServer?: string;
  /** Basic-auth credentials per server (default: the sample server's). */
  readonly serverCredentials?: Readonly<Record<string, { username: string; password: string }>>;
  /** Visibility timeout of the local task queues (default 30 s). */
  readonly queueVisibilitySeconds?: number;
  /** Run the queue pollers (default true). Tests of ingress alone switch them off. */
  readonly workers?: boolean;
  /** Called with each message the local chat webhook receives. */
  readonly onChatMessage?: (post: ChatPost) => void;
  /** `fetch` for task downloads and chat webhooks (default the global one). */
  readonly fetch?: typeof fetch;
  /** Audiences larger than this go through the fan-out queue (default 2000). */
  readonly inlineFanoutLimit?: number;
  /** How often the scheduled-message sweep runs (default 200 ms: sends land within a second). */
  readonly scheduleSweepMs?: number;
  /**
   * Long-poll wait of the queue pollers (default 0: short polls with a 100 ms pause when
   * empty). local-aws-sqs holds a long poll to its end even when a message arrives, so any
   * wait becomes a latency floor per queue hop; Lambda's pollers have no such floor.
   */
  readonly pollWaitSeconds?: number;
  /** How often dropped connections are swept (default 60 s; 0 = only on demand). */
  readonly connectionSweepMs?: number;
  /** GetConnection calls per second a sweep may make (default as the stack's; 0 = no limit). */
  readonly sweepChecksPerSecond?: number;
  /** The task types to run (default TASK_TYPES): a queue, DLQ and poller each, as the stack. */
  readonly taskTypes?: readonly TaskTypeSpec[];
  /** The task reaper and its deadlines (docs/local.md: Restarts and the reaper). */
  readonly reaper?: LocalReaperOptions;
  /**
   * Socket workers: placement per task type, placement timeout and lease (default env
   * TASKWIRE_PLACEMENT / TASKWIRE_PLACEMENT_TIMEOUT_S / TASKWIRE_LEASE_SECONDS, else every type
   * `lambda`, 300 s, 30 s). Leases are swept every half lease when a type is not `lambda`.
   */
  readonly placement?: Partial<PlacementSettings>;
  /** Stream retention (default env TASKWIRE_HISTORY_SECONDS / _SIZE, else a day and 1,000). */
  readonly history?: Partial<HistorySettings>;
  /**
   * Keep the stream log (default true). Off, frames go out without `stream`/`seq` and nothing
   * resumes: only the bench's "log off" comparison switches it off.
   */
  readonly streamLog?: boolean;
  /**
   * The gateway's connection cap and idle limit in seconds (default env TASKWIRE_WS_MAX_AGE_S /
   * TASKWIRE_WS_IDLE_S, else API Gateway's 7200 and 600); `session.expiring` moves with the cap.
   */
  readonly wsMaxAgeSeconds?: number;
  readonly wsIdleSeconds?: number;
  /**
   * A token the console's `config.json` pre-fills the sign-in field with (`npm start` passes
   * the dev token it prints). Local only: the cloud's config.json never carries a token.
   */
  readonly consoleToken?: string;
}

/** Options of the local task reaper. */
export interface LocalReaperOptions {
  /** How often it runs (default 60 s, as the stack's schedule; 0 = only at start). */
  readonly intervalMs?: number;
  /** How long a task may stay queued (default src/tasks/reaper.ts's). */
  readonly queuedDeadlineMs?: number;
  /** How long a task may stay running (default: the worker's budget plus a visibility timeout). */
  readonly runningDeadlineMs?: number;
  /** Re-queues before a stuck task is failed (default src/tasks/reaper.ts's). */
  readonly maxReaps?: number;
}

/** A running local Taskwire. */
export interface LocalRuntime {
  readonly wsUrl: string;
  readonly httpUrl: string;
  /** The console page: `{httpUrl}/console/`. */
  readonly consoleUrl: string;
  readonly managementEndpoint: string;
  readonly dynamoEndpoint: string;
  readonly store: DynamoConnectionStore;
  readonly pusher: Pusher;
  readonly management: ApiGatewayManagementApiClient;
  readonly gateway: WsGateway;
  /** The gateway process's id when the gateway runs in a process of its own. */
  readonly gatewayPid: number | undefined;
  /**
   * The process ids of the fan-out's and the sweeper's execution environments running now
   * (none when they run inline, or before a first invocation started one).
   */
  functionPids(): { fanout: number[]; connectionSweeper: number[] };
  readonly tasks: DynamoTaskStore;
  readonly sqs: SQSClient;
  /** Queue name → URL (`taskwire-<type>` and `taskwire-<type>-dlq`). */
  readonly queueUrls: QueueUrls;
  readonly sampleServerUrl: string;
  /** Bytes the sample server has sent per dataset (tests: a cancelled download stops reading). */
  readonly sampleBytesServed: (dsNumber: string) => number;
  readonly wecom: WecomSettings;
  /** The local stand-in for the WeCom group robot, and what it received. */
  readonly chat: WebhookReceiver;
  /** The intelligent bot's settings in force. */
  readonly wecomBot: WecomBotSettings;
  /** The bot's stream window and margin in force. */
  readonly wecomStream: StreamTiming;
  /**
   * The local stand-in for the bot messages' `response_url` (WeCom's
   * `https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=…`), and what it got.
   */
  readonly botResponses: WebhookReceiver;
  /** A response_url on the local receiver for one message. */
  readonly responseUrlFor: (code: string) => string;
  readonly messages: DynamoMessageStore;
  /** Stream retention in force (undefined with the stream log off). */
  readonly history: HistorySettings | undefined;
  /** The gateway's connection cap and idle limit in force, seconds. */
  readonly lifetime: { readonly maxAgeSeconds: number; readonly idleSeconds: number };
  /**
   * Runs the dropped-connection sweep now (it also runs on its interval, over stale records
   * only). On demand it checks every record by default (`staleOnly: false`): a test or a
   * developer who just dropped a socket wants it found before its last-seen deadline.
   */
  sweepConnections(options?: { readonly staleOnly?: boolean }): Promise<SweepReport>;
  /** Runs the task reaper now (it also runs at start and on its interval). */
  reapTasks(): Promise<ReapReport>;
  /** The folder the local artifact store keeps files in (a socket worker may share it). */
  readonly artifactsRoot: string;
  /** Socket-worker placement and leases in force. */
  readonly placement: PlacementSettings;
  stop(): Promise<void>;
}

type Closer = { close(): Promise<void> };

/** A positive whole number of seconds from the option, else the env setting, else the default. */
function seconds(option: number | undefined, envName: string, fallback: number): number {
  const raw = option ?? process.env[envName];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${envName}=${String(raw)}: a whole number of seconds, at least 1`);
  }
  return value;
}

/** The gateway's cap and idle limit (TASKWIRE_WS_MAX_AGE_S / TASKWIRE_WS_IDLE_S). */
function readLifetime(options: LocalRuntimeOptions) {
  return {
    maxAgeSeconds: seconds(
      options.wsMaxAgeSeconds,
      'TASKWIRE_WS_MAX_AGE_S',
      API_GATEWAY_MAX_AGE_SECONDS,
    ),
    idleSeconds: seconds(options.wsIdleSeconds, 'TASKWIRE_WS_IDLE_S', API_GATEWAY_IDLE_SECONDS),
  };
}

/**
 * Starts the whole product in this process: dynalite, local-aws-sqs with a poller per queue,
 * the WebSocket gateway with its `@connections` endpoint, the HTTP API, a sample download
 * server and a chat webhook receiver, wired to the handlers of lambdas/ through their factories
 * with clients pointed at the emulators. Nothing here reaches AWS.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  if (options.authSecret.length < MIN_SECRET_LENGTH) {
    throw new Error(`TASKWIRE_AUTH_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? silentLog;
  const clock = options.clock ?? systemClock;
  const doFetch = options.fetch ?? fetch;
  const types = options.taskTypes ? createTaskRegistry(options.taskTypes) : TASK_REGISTRY;
  const started: Closer[] = [];
  const stop = async () => {
    for (const s of started.splice(0).reverse()) await s.close();
  };
  const keep = <T extends Closer>(c: T): T => {
    started.push(c);
    return c;
  };
  try {
    const dynamo: Pick<Emulator, 'endpoint'> =
      options.dynamoEndpoint !== undefined
        ? { endpoint: options.dynamoEndpoint }
        : keep(
            await startDynalite({
              host,
              ...(options.dataPath ? { path: join(options.dataPath, 'dynamodb') } : {}),
            }),
          );
    const ddb = new DynamoDBClient(localClientConfig(dynamo.endpoint));
    keep({ close: async () => ddb.destroy() });
    // HTTP and WebSocket invocations still running when their servers close (a request mid-way,
    // a $disconnect) finish before the tables go: dynalite throws on a request after its close.
    const invocations = new Set<Promise<unknown>>();
    keep({
      close: async () => {
        const bound = Date.now() + 10_000;
        while (invocations.size > 0 && Date.now() < bound) {
          await Promise.race([
            Promise.allSettled([...invocations]),
            new Promise((r) => setTimeout(r, 100)),
          ]);
        }
      },
    });
    // The idempotency records of the last run are its in-progress marks of invocations that are
    // gone with it: they start empty, so tasks running at a kill can run again at once.
    // On a data folder, indexes a kill left out of step with their items are repaired first.
    await createLocalTables(ddb, {
      fresh: [LOCAL_TABLES.idempotency],
      repair: options.dataPath !== undefined,
      log,
    });
    // The same builders as the cloud's (lambdas/composition/), given the emulators' clients.
    const tables = { doc: buildDocumentClient(ddb), clock };
    const store = buildConnectionStore(tables, LOCAL_TABLES.connections);
    const tasks = buildTaskStore(tables, LOCAL_TABLES.tasks, options.reaper);
    const history = { ...readHistorySettings(process.env), ...options.history };
    const streams =
      options.streamLog === false
        ? undefined
        : buildStreamLog(tables, LOCAL_TABLES.streams, history);
    const lifetime = readLifetime(options);

    const gatewayOptions = {
      host,
      port: options.wsPort ?? 0,
      log,
      maxDurationMs: lifetime.maxAgeSeconds * 1000,
      idleTimeoutMs: lifetime.idleSeconds * 1000,
      ...(options.postRateLimit !== undefined ? { postRateLimit: options.postRateLimit } : {}),
    };
    const gatewayMode = options.gateway ?? gatewayModeFromEnv('inline');
    const functionMode = options.functionEnvironments ?? functionModeFromEnv('inline');
    if (functionMode === 'process' && options.clock) {
      // Another process cannot read this one's clock.
      throw new Error('functionEnvironments "process" runs on the system clock: give no clock');
    }
    const gatewayProcess =
      gatewayMode === 'process'
        ? await startWsGatewayProcess({
            ...gatewayOptions,
            ...(options.onGatewayExit ? { onExit: options.onGatewayExit } : {}),
          })
        : undefined;
    const gateway: WsGateway = keep(gatewayProcess ?? (await startWsGateway(gatewayOptions)));
    const management = new ApiGatewayManagementApiClient({
      // Signed with the key pair the gateway's @connections accepts (random per runtime).
      ...localClientConfig(gateway.managementEndpoint, gateway.credentials),
      ...POSTER_CLIENT_SETTINGS,
    });
    keep({ close: async () => management.destroy() });
    const pusher = buildPusher(
      { client: management, store, log },
      { concurrency: options.pushConcurrency },
    );
    const secret = () => Promise.resolve(options.authSecret);
    const oidc = options.oidc ? createOidcVerifier(options.oidc) : undefined;
    const updates = buildTaskUpdates({ pusher, store, clock, ...(streams ? { streams } : {}) });

    const samples = keep(await startSampleServer({ host }));
    const servers = options.servers ?? {
      local: { baseUrl: samples.url, path: '/datasets/{dsNumber}' },
    };
    const defaultServer = options.defaultServer ?? Object.keys(servers)[0] ?? 'local';
    // What reading arguments and chat commands needs (the cloud: argsContextOf, commandOptionsOf).
    const argsContext = { servers: Object.keys(servers), defaultServer };
    const credentials = options.serverCredentials ?? { local: { ...SAMPLE_CREDENTIALS } };

    const sqsEmulator = keep(
      await startSqs({
        host,
        queues: [
          ...types.names.map((t) => ({
            name: queueNameOf(t),
            visibilityTimeoutSeconds: options.queueVisibilitySeconds ?? 30,
            maxReceiveCount: TASK_QUEUE_SETTINGS.maxReceiveCount,
          })),
          {
            name: FANOUT_QUEUE,
            visibilityTimeoutSeconds: options.queueVisibilitySeconds ?? 30,
            maxReceiveCount: TASK_QUEUE_SETTINGS.maxReceiveCount,
          },
        ],
      }),
    );
    const sqs = new SQSClient(localClientConfig(sqsEmulator.endpoint));
    keep({ close: async () => sqs.destroy() });
    const queue = buildTaskQueue(
      sqs,
      Object.fromEntries(types.names.map((t) => [t, sqsEmulator.urls[queueNameOf(t)] ?? ''])),
    );
    const placement: PlacementSettings = {
      ...readPlacementSettings(process.env, types.names),
      ...options.placement,
    };
    const workerStore = buildWorkerStore(tables, LOCAL_TABLES.connections);
    // Built below from the submit ports (chaining); submit reaches them through this.
    const late: { socketWorkers?: SocketWorkerPorts } = {};
    const submit = buildSubmitPorts(
      {
        tasks,
        queue,
        updates,
        clock,
        log,
        types,
        tellWorker: workerCancelNotice(() => ({
          workers: workerStore,
          poster: pusher,
          clock,
          log,
        })),
        placeNow: (task) =>
          late.socketWorkers ? offerQueuedTask(late.socketWorkers, task) : Promise.resolve(false),
      },
      { args: argsContext },
    );

    const chat = keep(
      await startWebhookReceiver({
        host,
        ...(options.onChatMessage ? { onMessage: options.onChatMessage } : {}),
      }),
    );
    const botResponses = keep(
      await startWebhookReceiver({
        host,
        ...(options.onBotResponse ? { onMessage: options.onBotResponse } : {}),
      }),
    );
    const responseOrigin = new URL(botResponses.url);
    const responseUrlFor = (code: string) =>
      `${responseOrigin.origin}/cgi-bin/aibot/response?response_code=${encodeURIComponent(code)}`;
    const responseHosts = [
      ...(options.responseHosts ?? readResponseHosts(process.env) ?? WECOM_RESPONSE_HOSTS),
      responseOrigin.host,
    ];
    const http: HttpApi = keep(await startHttpApi({ host, port: options.httpPort ?? 0, log }));
    const artifactsRoot = options.dataPath
      ? join(options.dataPath, 'artifacts')
      : await mkdtemp(join(tmpdir(), 'taskwire-artifacts-'));
    if (!options.dataPath)
      keep({ close: () => rm(artifactsRoot, { recursive: true, force: true }) });
    const linkSecret = randomBytes(32);
    const artifacts = new LocalArtifactStore({
      root: artifactsRoot,
      baseUrl: http.url,
      secret: linkSecret,
      clock,
    });

    const chatNotifier = buildChatNotifier(
      { fetch: doFetch, doc: tables.doc, clock, log },
      { tasksTable: LOCAL_TABLES.tasks, defaultWebhookUrl: chat.url, responseHosts },
    );
    const worker = buildWorkerPorts({
      submit,
      updates,
      artifacts,
      servers: async () => resolveServers(servers, credentials),
      chat: chatNotifier,
      queue,
      fetch: doFetch,
      clock,
      log,
    });
    const workerPorts = buildSocketWorkerPorts({
      tasks,
      workers: workerStore,
      queue,
      updates,
      submit,
      chat: chatNotifier,
      poster: pusher,
      artifacts,
      clock,
      log,
      settings: placement,
    });
    late.socketWorkers = workerPorts;
    const socketPorts = (l: Log) => ({ ...workerPorts, log: l });
    const messages = buildMessageStore(tables, LOCAL_TABLES.messages);
    const fanoutQueue = buildFanoutQueue(sqs, sqsEmulator.urls[FANOUT_QUEUE] ?? '');
    const fanoutPorts = buildFanoutPorts(
      {
        store,
        pusher,
        messages,
        fanout: fanoutQueue,
        artifacts,
        clock,
        log,
        ...(streams ? { streams } : {}),
      },
      { inlineLimit: options.inlineFanoutLimit },
    );
    const schedulePorts = buildSchedulePorts({ messages, fanout: fanoutQueue, clock });
    // One per execution environment, as each Lambda container has its own (a persistence layer
    // is configured by the first handler that uses it).
    const newIdempotencyStore = () => buildIdempotencyStore(ddb, LOCAL_TABLES.idempotency);
    const idempotencyStore = newIdempotencyStore();
    const sweepPorts = {
      store,
      isGone: (id: string) => pusher.isGone(id),
      log,
      ...(options.sweepChecksPerSecond !== undefined
        ? { checksPerSecond: options.sweepChecksPerSecond }
        : {}),
    };
    const sweeper = createConnectionSweeperHandler(sweepPorts);
    // Every record's deadline falls within the stale window from now, so this one checks all.
    const fullSweeper = createConnectionSweeperHandler(sweepPorts, {
      withinSeconds: STALE_AFTER_SECONDS,
    });
    const scheduler = createSchedulerHandler({
      schedule: schedulePorts,
      log,
      // Locally the sweep runs so often that it queues messages only once they are due.
      horizonMs: 0,
      recovery: { store: messages, everyMs: 10_000 },
    });
    const reaperPorts = buildReaperPorts({
      tasks,
      queue,
      updates,
      chat: chatNotifier,
      clock,
      log,
      lapsedLease: (taskId) => sweepLapsedLease(workerPorts, taskId),
    });
    const { maxReaps, queuedDeadlineMs } = options.reaper ?? {};
    const taskReaper = createTaskReaperHandler({
      reaper: reaperPorts,
      log,
      options: {
        ...(maxReaps !== undefined ? { maxReaps } : {}),
        ...(queuedDeadlineMs !== undefined ? { queuedDeadlineMs } : {}),
      },
    });
    const wecom = options.wecom ?? DEV_WECOM;
    const wecomKeys = wecomKeysOf(wecom, 'local settings');
    const wecomBot = options.wecomBot ?? DEV_WECOM_BOT;
    const botKeys = botKeysOf(wecomBot, 'local bot settings');
    const wecomStream = readStreamTiming(process.env, options.wecomStream);

    const handlers: Record<FunctionName, LocalHandler> = {
      wsAuthorizer: createAuthorizerHandler({ secret, oidc, log, now: () => clock.now() }),
      wsConnect: createConnectHandler({
        store,
        log,
        notices: { messages, clock, maxAgeSeconds: lifetime.maxAgeSeconds },
      }),
      wsDisconnect: createDisconnectHandler({ store, log, workers: socketPorts }),
      wsMessage: createMessageHandler({
        store,
        log,
        clock,
        submit,
        pusher,
        workers: socketPorts,
        ...(streams ? { streams } : {}),
      }),
      httpApi: createApiHandler({
        store,
        pusher,
        secret,
        oidc,
        log,
        clock,
        submit,
        messages,
        fanout: fanoutQueue,
        artifacts,
        ...(streams ? { streams } : {}),
        ...(options.inlineFanoutLimit !== undefined
          ? { inlineLimit: options.inlineFanoutLimit }
          : {}),
      }),
      wecomCallback: createWecomCallbackHandler({
        keys: () => Promise.resolve(wecomKeys),
        submit,
        // No aliases: the defaults of the task types (their `aliases`) and of status/help.
        commands: argsContext,
        log,
        clock,
      }),
      wecomBot: createWecomBotHandler({
        keys: () => Promise.resolve(botKeys),
        submit,
        commands: argsContext,
        store: new DynamoBotStore(tables.doc, LOCAL_TABLES.tasks),
        timing: wecomStream,
        log,
        clock,
      }),
      deadLetter: createDeadLetterHandler({ worker, log }) as LocalHandler,
      fanout: createFanoutHandler({ fanout: fanoutPorts, idempotencyStore }) as LocalHandler,
      scheduler,
      connectionSweeper: sweeper,
      taskReaper,
      console: createConsoleHandler(() => ({
        wsUrl: gateway.url,
        ...(options.consoleToken ? { token: options.consoleToken } : {}),
      })),
    };
    for (const name of Object.keys(handlers) as FunctionName[]) {
      const handler = handlers[name];
      const spec = FUNCTIONS[name];
      handlers[name] = (event) => {
        // A Lambda context per invocation, as Lambda gives one: its request id is in every log line.
        const context = localLambdaContext(name, spec.timeoutSeconds, spec.memoryMb);
        const invocation = handler(event, context);
        invocations.add(invocation);
        const done = () => void invocations.delete(invocation);
        invocation.then(done, done);
        return invocation;
      };
    }
    gateway.setRoutes({
      authorizer: handlers[WS_AUTHORIZER],
      routes: Object.fromEntries(Object.entries(WS_ROUTES).map(([k, fn]) => [k, handlers[fn]])),
    });
    http.setRoutes([
      ...HTTP_ROUTES.map((r) => ({ method: r.method, path: r.path, handler: handlers[r.fn] })),
      // `/console/` itself: API Gateway sends it to `GET /console/{proxy+}`, whose local pattern
      // needs one character more; the function tells the page from its files by the raw path.
      { method: 'GET', path: '/console/', handler: handlers.console },
      artifactRoute({ root: artifactsRoot, secret: linkSecret, clock }),
    ]);
    http.setFallback(handlers.httpApi);

    const arn = (name: string) => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;
    const fanoutSpec = FUNCTIONS.fanout;
    // Each execution environment of the fan-out and the sweeper in a process of its own
    // (npm start, the bench), built from the same composition, or in this one (the tests:
    // quicker to start, and they may set the clock).
    const environmentOf = (fn: FunctionEnvironmentStart['function']) =>
      keep(
        functionEnvironments({
          settings: {
            function: fn,
            dynamoEndpoint: dynamo.endpoint,
            sqsEndpoint: sqsEmulator.endpoint,
            fanoutQueueUrl: sqsEmulator.urls[FANOUT_QUEUE] ?? '',
            managementEndpoint: gateway.managementEndpoint,
            credentials: gateway.credentials,
            ...(options.pushConcurrency !== undefined
              ? { pushConcurrency: options.pushConcurrency }
              : {}),
            ...(options.inlineFanoutLimit !== undefined
              ? { inlineLimit: options.inlineFanoutLimit }
              : {}),
            ...(streams ? { history } : {}),
            artifacts: {
              root: artifactsRoot,
              baseUrl: http.url,
              secret: linkSecret.toString('base64'),
            },
          },
          log,
          timeoutMs: FUNCTIONS[fn.name].timeoutSeconds * 1000,
        }),
      );
    const environments =
      functionMode === 'process'
        ? {
            fanout: environmentOf({ name: 'fanout' }),
            sweeper: environmentOf({
              name: 'connectionSweeper',
              ...(options.sweepChecksPerSecond !== undefined
                ? { checksPerSecond: options.sweepChecksPerSecond }
                : {}),
            }),
          }
        : undefined;
    /** A sweep of the stale records, or of every record (`full`), where the sweeper runs. */
    const sweep = async (full: boolean): Promise<SweepReport> => {
      if (environments) return (await environments.sweeper.invoke({ full })) as SweepReport;
      return full ? fullSweeper() : sweeper(undefined, timed('connectionSweeper'));
    };
    const fanoutPoller = startQueuePoller({
      sqs,
      queueUrl: sqsEmulator.urls[FANOUT_QUEUE] ?? '',
      queueArn: arn(FANOUT_QUEUE),
      // One handler per execution environment, each running one batch at a time, as in Lambda.
      // An environment's answer is read as Lambda reads it (outcomeOf), whatever came over IPC.
      createHandler:
        (environments?.fanout.createHandler as (() => SqsBatchHandler) | undefined) ??
        (() => {
          const fanoutHandler = createFanoutHandler({
            fanout: fanoutPorts,
            idempotencyStore: newIdempotencyStore(),
          });
          return (event) =>
            fanoutHandler(
              event,
              localLambdaContext('fanout', fanoutSpec.timeoutSeconds, fanoutSpec.memoryMb),
            );
        }),
      log,
      // Short polls: a due scheduled message must not wait out a long poll.
      waitTimeSeconds: options.pollWaitSeconds ?? 0,
      // As the stack's event source mapping: records per batch and batches at once.
      batchSize: fanoutSpec.batchSize ?? 10,
      maxConcurrentBatches: fanoutSpec.maxConcurrency ?? 2,
    });
    keep({ close: () => fanoutPoller.stop() });
    // The fan-out queue lives in memory: what a previous run had handed on is queued again first.
    await createSchedulerHandler({
      schedule: schedulePorts,
      log,
      horizonMs: 0,
      recovery: { store: messages, stuck: 'all' },
    })();
    // Timed runs get a Lambda context as the scheduled functions' do (their request ids in logs).
    const timed = (name: FunctionName) =>
      localLambdaContext(name, FUNCTIONS[name].timeoutSeconds, FUNCTIONS[name].memoryMb);
    keep(
      every(options.scheduleSweepMs ?? 200, () => scheduler(undefined, timed('scheduler')), log),
    );
    if ((options.connectionSweepMs ?? 60_000) > 0) {
      keep(every(options.connectionSweepMs ?? 60_000, () => sweep(false), log));
    }

    if (options.workers ?? true) {
      const pollers = types.names.flatMap((taskType) => {
        const spec = TASK_WORKERS[taskType];
        const timeoutSeconds = spec?.timeoutSeconds ?? 60;
        const name = queueNameOf(taskType);
        return [
          startQueuePoller({
            sqs,
            queueUrl: sqsEmulator.urls[name] ?? '',
            queueArn: arn(name),
            // One handler per execution environment, each running one batch at a time.
            createHandler: () => {
              const handler = createTaskWorkerHandler({
                worker,
                idempotencyStore: newIdempotencyStore(),
                log,
                socket: socketPorts,
                ...(options.reaper?.runningDeadlineMs !== undefined
                  ? { runningDeadlineMs: options.reaper.runningDeadlineMs }
                  : {}),
              });
              return (event) =>
                handler(event, localLambdaContext(`worker-${taskType}`, timeoutSeconds));
            },
            log,
            batchSize: spec?.batchSize ?? 5,
            waitTimeSeconds: options.pollWaitSeconds ?? 0,
          }),
          startQueuePoller({
            sqs,
            queueUrl: sqsEmulator.urls[`${name}-dlq`] ?? '',
            queueArn: arn(`${name}-dlq`),
            createHandler: () => {
              const deadLetter = createDeadLetterHandler({ worker, log });
              return (event) => deadLetter(event);
            },
            log,
            waitTimeSeconds: options.pollWaitSeconds ?? 0,
          }),
        ];
      });
      // Pollers stop (all at once) before the emulators they read from.
      keep({ close: async () => void (await Promise.all(pollers.map((p) => p.stop()))) });
    }

    // The task queues live in memory, so nothing a previous run had queued survived it, and no
    // invocation of it is still running: every open task of the tables is queued again now.
    // Later runs re-queue tasks past their deadline (lost sends), as the stack's schedule does.
    await createTaskReaperHandler({ reaper: reaperPorts, log, options: { everything: true } })();
    const reaperMs = options.reaper?.intervalMs ?? 60_000;
    if (reaperMs > 0) keep(every(reaperMs, () => taskReaper(undefined, timed('taskReaper')), log));
    // Leases lapse in seconds, the reaper runs each minute: locally the lease part runs every
    // half lease (the stack's reaper takes lapsed leases back on its minute).
    if (Object.values(placement.placement).some((p) => p !== 'lambda')) {
      const sweepMs = Math.max(200, Math.min(60_000, placement.leaseSeconds * 500));
      keep(every(sweepMs, () => sweepLeases(workerPorts, tasks), log));
    }

    return {
      wsUrl: gateway.url,
      httpUrl: http.url,
      consoleUrl: `${http.url}/console/`,
      managementEndpoint: gateway.managementEndpoint,
      dynamoEndpoint: dynamo.endpoint,
      store,
      pusher,
      management,
      gateway,
      gatewayPid: gatewayProcess?.pid,
      functionPids: () => ({
        fanout: environments?.fanout.pids() ?? [],
        connectionSweeper: environments?.sweeper.pids() ?? [],
      }),
      tasks,
      sqs,
      queueUrls: sqsEmulator.urls,
      sampleServerUrl: samples.url,
      sampleBytesServed: (dsNumber) => samples.bytesServed(dsNumber),
      wecom,
      chat,
      wecomBot,
      wecomStream,
      botResponses,
      responseUrlFor,
      messages,
      history: streams ? history : undefined,
      lifetime,
      sweepConnections: (o) => sweep(o?.staleOnly !== true),
      reapTasks: () => taskReaper(),
      artifactsRoot,
      placement,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
