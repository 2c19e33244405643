import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  FUNCTIONS,
  type FunctionName,
  HTTP_ROUTES,
  TASK_WORKERS,
  WS_AUTHORIZER,
  WS_ROUTES,
} from '../lambdas/catalog';
import { createApiHandler } from '../lambdas/http/api';
import { createWecomCallbackHandler } from '../lambdas/http/wecom-callback';
import { resolveServers } from '../lambdas/shared/download-servers';
import type { DownloadServer } from '../lambdas/shared/task-config';
import { wecomKeysOf, type WecomSettings } from '../lambdas/shared/wecom-config';
import { createDeadLetterHandler } from '../lambdas/workers/dead-letter';
import { createTaskWorkerHandler } from '../lambdas/workers/task-worker';
import { createAuthorizerHandler } from '../lambdas/ws/authorizer';
import { createConnectHandler } from '../lambdas/ws/connect';
import { createDisconnectHandler } from '../lambdas/ws/disconnect';
import { createMessageHandler } from '../lambdas/ws/message';
import { LocalArtifactStore } from '../src/artifacts/local-artifact-store';
import { MIN_SECRET_LENGTH } from '../src/auth/token';
import { ChatNotifier, WECOM_WEBHOOK_HOSTS } from '../src/chat/chat-notifier';
import { DynamoRateLimiter } from '../src/chat/dynamo-rate-limiter';
import { DynamoConnectionStore } from '../src/connections/dynamo-store';
import { type Clock, systemClock } from '../src/ports/clock';
import { type Log, silentLog } from '../src/ports/log';
import { frameFactory } from '../src/push/frames';
import { Pusher } from '../src/push/pusher';
import { DynamoTaskStore } from '../src/tasks/dynamo-task-store';
import { queueNameOf, TASK_QUEUE_SETTINGS } from '../src/tasks/queues';
import { TASK_TYPE_NAMES } from '../src/tasks/registry';
import type { SubmitPorts } from '../src/tasks/submit';
import { SqsTaskQueue } from '../src/tasks/task-queue';
import { publishTaskUpdate } from '../src/tasks/updates';
import type { WorkerPorts } from '../src/tasks/worker';
import { DEFAULT_ALIASES } from '../src/wecom/commands';
import { artifactRoute } from './artifact-route';
import { localClientConfig } from './clients';
import { localLambdaContext } from './lambda-context';
import { type Emulator, type QueueUrls, startDynalite, startSqs } from './emulators';
import { type HttpApi, startHttpApi } from './http-api';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalHandler } from './lambda-types';
import { SAMPLE_CREDENTIALS, startSampleServer } from './sample-server';
import { startQueuePoller } from './sqs-poller';
import { createLocalTables, LOCAL_TABLES } from './tables';
import { type ChatPost, startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';
import { DEV_WECOM } from './wecom-dev';
import { every } from './timer';
import { DynamoMessageStore } from '../src/deliveries/dynamo-message-store';
import { SqsFanoutQueue } from '../src/deliveries/sqs-fanout-queue';
import type { FanoutPorts } from '../src/deliveries/fanout';
import type { SweepReport } from '../src/connections/sweep';
import { createFanoutHandler } from '../lambdas/workers/fanout';
import { createSchedulerHandler } from '../lambdas/workers/scheduler';
import { createConnectionSweeperHandler } from '../lambdas/workers/connection-sweeper';

/** The local fan-out queue's name. */
export const FANOUT_QUEUE = 'taskwire-fanout';
import { startWsGateway, type WsGateway } from './ws-gateway';

/** Options of {@link startLocalRuntime}; every port defaults to 0 (a free one). */
export interface LocalRuntimeOptions {
  readonly host?: string;
  readonly wsPort?: number;
  readonly httpPort?: number;
  /** HS256 signing secret for tokens (at least 32 characters). */
  readonly authSecret: string;
  readonly log?: Log;
  readonly clock?: Clock;
  /** Keep dynalite's data and the artifacts in this folder instead of memory and a temp dir. */
  readonly dataPath?: string;
  /** Posts in flight per push (default 50, as in the cloud). */
  readonly pushConcurrency?: number;
  /** WeCom callback settings (default: the dev settings of local/wecom-dev.ts). */
  readonly wecom?: WecomSettings;
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
}

/** A running local Taskwire. */
export interface LocalRuntime {
  readonly wsUrl: string;
  readonly httpUrl: string;
  readonly managementEndpoint: string;
  readonly dynamoEndpoint: string;
  readonly store: DynamoConnectionStore;
  readonly pusher: Pusher;
  readonly management: ApiGatewayManagementApiClient;
  readonly gateway: WsGateway;
  readonly tasks: DynamoTaskStore;
  readonly sqs: SQSClient;
  /** Queue name → URL (`taskwire-<type>` and `taskwire-<type>-dlq`). */
  readonly queueUrls: QueueUrls;
  readonly sampleServerUrl: string;
  readonly wecom: WecomSettings;
  /** The local stand-in for the WeCom group robot, and what it received. */
  readonly chat: WebhookReceiver;
  readonly messages: DynamoMessageStore;
  /** Runs the dropped-connection sweep now (it also runs on its interval). */
  sweepConnections(): Promise<SweepReport>;
  stop(): Promise<void>;
}

type Closer = { close(): Promise<void> };

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
  const started: Closer[] = [];
  const stop = async () => {
    for (const s of started.splice(0).reverse()) await s.close();
  };
  const keep = <T extends Closer>(c: T): T => {
    started.push(c);
    return c;
  };
  try {
    const dynamo: Emulator = keep(
      await startDynalite({
        host,
        ...(options.dataPath ? { path: join(options.dataPath, 'dynamodb') } : {}),
      }),
    );
    const ddb = new DynamoDBClient(localClientConfig(dynamo.endpoint));
    keep({ close: async () => ddb.destroy() });
    await createLocalTables(ddb);
    const doc = DynamoDBDocumentClient.from(ddb, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const store = new DynamoConnectionStore({
      client: doc,
      tableName: LOCAL_TABLES.connections,
      clock,
    });
    const tasks = new DynamoTaskStore({ client: doc, tableName: LOCAL_TABLES.tasks, clock });

    const gateway = keep(await startWsGateway({ host, port: options.wsPort ?? 0, log }));
    const management = new ApiGatewayManagementApiClient(
      localClientConfig(gateway.managementEndpoint),
    );
    keep({ close: async () => management.destroy() });
    const pusher = new Pusher({
      client: management,
      store,
      log,
      ...(options.pushConcurrency ? { concurrency: options.pushConcurrency } : {}),
    });
    const secret = () => Promise.resolve(options.authSecret);
    const frames = frameFactory(clock, randomUUID);
    const updates = { pusher, store, frames };

    const samples = keep(await startSampleServer({ host }));
    const servers = options.servers ?? {
      local: { baseUrl: samples.url, path: '/datasets/{dsNumber}' },
    };
    const defaultServer = options.defaultServer ?? Object.keys(servers)[0] ?? 'local';
    const credentials = options.serverCredentials ?? { local: { ...SAMPLE_CREDENTIALS } };

    const sqsEmulator = keep(
      await startSqs({
        host,
        queues: [
          ...TASK_TYPE_NAMES.map((t) => ({
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
    const queue = new SqsTaskQueue(
      sqs,
      Object.fromEntries(TASK_TYPE_NAMES.map((t) => [t, sqsEmulator.urls[queueNameOf(t)] ?? ''])),
    );
    const submit: SubmitPorts = {
      tasks,
      queue,
      clock,
      log,
      args: { servers: Object.keys(servers), defaultServer },
      onQueued: async (task) => void (await publishTaskUpdate(updates, task)),
    };

    const chat = keep(
      await startWebhookReceiver({
        host,
        ...(options.onChatMessage ? { onMessage: options.onChatMessage } : {}),
      }),
    );
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

    const worker: WorkerPorts = {
      tasks,
      updates,
      submit,
      artifacts,
      servers: async () => resolveServers(servers, credentials),
      chat: new ChatNotifier({
        fetch: doFetch,
        limiter: new DynamoRateLimiter(doc, LOCAL_TABLES.tasks, clock),
        log,
        defaultWebhookUrl: chat.url,
        allowedHosts: WECOM_WEBHOOK_HOSTS,
      }),
      requeueNotify: (task, delaySeconds, attempt) =>
        queue.enqueue(
          { taskId: task.taskId, taskType: task.taskType, kind: 'notify', attempt },
          { delaySeconds },
        ),
      fetch: doFetch,
      clock,
      log,
    };
    const messages = new DynamoMessageStore(doc, LOCAL_TABLES.messages, clock);
    const fanoutQueue = new SqsFanoutQueue(sqs, sqsEmulator.urls[FANOUT_QUEUE] ?? '');
    const fanoutPorts: FanoutPorts = {
      store,
      pusher,
      messages,
      fanout: fanoutQueue,
      artifacts,
      frames,
      clock,
      log,
      ...(options.inlineFanoutLimit !== undefined
        ? { inlineLimit: options.inlineFanoutLimit }
        : {}),
    };
    const idempotencyStore = new DynamoDBPersistenceLayer({
      tableName: LOCAL_TABLES.idempotency,
      awsSdkV3Client: ddb,
    });
    const sweeper = createConnectionSweeperHandler({
      store,
      isGone: (id) => pusher.isGone(id),
      log,
    });
    const scheduler = createSchedulerHandler({
      schedule: { messages, fanout: fanoutQueue, clock },
      log,
      // Locally the sweep runs so often that it queues messages only once they are due.
      horizonMs: 0,
    });
    const wecom = options.wecom ?? DEV_WECOM;
    const wecomKeys = wecomKeysOf(wecom, 'local settings');

    const handlers: Record<FunctionName, LocalHandler> = {
      wsAuthorizer: createAuthorizerHandler({ secret, log, now: () => clock.now() }),
      wsConnect: createConnectHandler({ store, log }),
      wsDisconnect: createDisconnectHandler({ store, log }),
      wsMessage: createMessageHandler({ store, log, clock, submit, pusher }),
      httpApi: createApiHandler({
        store,
        pusher,
        secret,
        log,
        clock,
        submit,
        messages,
        fanout: fanoutQueue,
        artifacts,
        ...(options.inlineFanoutLimit !== undefined
          ? { inlineLimit: options.inlineFanoutLimit }
          : {}),
      }),
      wecomCallback: createWecomCallbackHandler({
        keys: () => Promise.resolve(wecomKeys),
        submit,
        commands: { servers: Object.keys(servers), defaultServer, aliases: DEFAULT_ALIASES },
        log,
        clock,
      }),
      deadLetter: createDeadLetterHandler({ worker, log }) as LocalHandler,
      fanout: createFanoutHandler({ fanout: fanoutPorts, idempotencyStore }) as LocalHandler,
      scheduler,
      connectionSweeper: sweeper,
    };
    gateway.setRoutes({
      authorizer: handlers[WS_AUTHORIZER],
      routes: Object.fromEntries(Object.entries(WS_ROUTES).map(([k, fn]) => [k, handlers[fn]])),
    });
    http.setRoutes([
      ...HTTP_ROUTES.map((r) => ({ method: r.method, path: r.path, handler: handlers[r.fn] })),
      artifactRoute({ root: artifactsRoot, secret: linkSecret, clock }),
    ]);
    http.setFallback(handlers.httpApi);

    const arn = (name: string) => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;
    const fanoutHandler = createFanoutHandler({ fanout: fanoutPorts, idempotencyStore });
    const fanoutPoller = startQueuePoller({
      sqs,
      queueUrl: sqsEmulator.urls[FANOUT_QUEUE] ?? '',
      queueArn: arn(FANOUT_QUEUE),
      handler: (event) => fanoutHandler(event, localLambdaContext('fanout', 60)),
      log,
      // Short polls: a due scheduled message must not wait out a long poll.
      waitTimeSeconds: options.pollWaitSeconds ?? 0,
      // As the stack's event source mapping: records per batch and batches at once.
      batchSize: FUNCTIONS.fanout.batchSize ?? 10,
      maxConcurrentBatches: FUNCTIONS.fanout.maxConcurrency ?? 2,
    });
    keep({ close: () => fanoutPoller.stop() });
    keep(every(options.scheduleSweepMs ?? 200, () => scheduler(), log));
    if ((options.connectionSweepMs ?? 60_000) > 0) {
      keep(every(options.connectionSweepMs ?? 60_000, () => sweeper(), log));
    }

    if (options.workers ?? true) {
      const deadLetter = createDeadLetterHandler({ worker, log });
      const pollers = TASK_TYPE_NAMES.flatMap((taskType) => {
        const spec = TASK_WORKERS[taskType];
        const timeoutSeconds = spec?.timeoutSeconds ?? 60;
        const name = queueNameOf(taskType);
        const handler = createTaskWorkerHandler({ worker, idempotencyStore, log });
        return [
          startQueuePoller({
            sqs,
            queueUrl: sqsEmulator.urls[name] ?? '',
            queueArn: arn(name),
            handler: (event) =>
              handler(event, localLambdaContext(`worker-${taskType}`, timeoutSeconds)),
            log,
            batchSize: spec?.batchSize ?? 5,
            waitTimeSeconds: options.pollWaitSeconds ?? 0,
          }),
          startQueuePoller({
            sqs,
            queueUrl: sqsEmulator.urls[`${name}-dlq`] ?? '',
            queueArn: arn(`${name}-dlq`),
            handler: (event) => deadLetter(event),
            log,
            waitTimeSeconds: options.pollWaitSeconds ?? 0,
          }),
        ];
      });
      // Pollers stop (all at once) before the emulators they read from.
      keep({ close: async () => void (await Promise.all(pollers.map((p) => p.stop()))) });
    }

    return {
      wsUrl: gateway.url,
      httpUrl: http.url,
      managementEndpoint: gateway.managementEndpoint,
      dynamoEndpoint: dynamo.endpoint,
      store,
      pusher,
      management,
      gateway,
      tasks,
      sqs,
      queueUrls: sqsEmulator.urls,
      sampleServerUrl: samples.url,
      wecom,
      chat,
      messages,
      sweepConnections: () => sweeper(),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
