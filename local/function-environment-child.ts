// First, before the SDK loads: its Node-version warning is npm start's to show, not each child's.
import './sdk-warning';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { FUNCTIONS, type FunctionName } from '../lambdas/catalog';
import { buildFanoutPorts, buildFanoutQueue } from '../lambdas/composition/deliveries';
import {
  buildConnectionStore,
  buildDocumentClient,
  buildMessageStore,
  buildStreamLog,
} from '../lambdas/composition/dynamo';
import { buildIdempotencyStore } from '../lambdas/composition/idempotency';
import { buildPusher } from '../lambdas/composition/push';
import { createConnectionSweeperHandler } from '../lambdas/workers/connection-sweeper';
import { createFanoutHandler } from '../lambdas/workers/fanout';
import { POSTER_CLIENT_SETTINGS } from '../src/adapters/api-gateway/connection-poster';
import { LocalArtifactStore } from '../src/adapters/local-files/artifact-store';
import { STALE_AFTER_SECONDS } from '../src/connections/schema';
import { systemClock } from '../src/ports/clock';
import * as z from '../src/validation/zod';
import { localClientConfig } from './clients';
import type {
  FromEnvironment,
  FunctionEnvironmentStart,
  ToEnvironment,
} from './function-environment';
import { answerOf, forwardingLog, hasOp, sendToParent } from './ipc';
import { localLambdaContext } from './lambda-context';
import { LOCAL_TABLES } from './tables';

/**
 * One execution environment of a local function (forked by local/function-environment.ts at
 * its first invocation, as Lambda starts one cold): it builds the same ports as the cloud's
 * (lambdas/composition/), with clients of its own for the emulators and the gateway, and runs
 * one invocation at a time. Its posts and checks use this process's core, as a Lambda
 * environment has its own. The process ends with the runtime's channel.
 */

const send = (message: FromEnvironment): void => sendToParent(message);
const log = forwardingLog(send);
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

interface Environment {
  invoke(event: unknown): Promise<unknown>;
  close(): void;
}
let environment: Environment | undefined;

/** A context per invocation, as Lambda gives one: its request id is in every log line. */
const contextOf = (name: FunctionName) =>
  localLambdaContext(name, FUNCTIONS[name].timeoutSeconds, FUNCTIONS[name].memoryMb);

/** What the local on-demand sweep asks: every record (`full`), or only the stale ones. */
const sweepEvent = z.optional(z.object({ full: z.optional(z.boolean()) }));

function build(settings: FunctionEnvironmentStart): Environment {
  const ddb = new DynamoDBClient(localClientConfig(settings.dynamoEndpoint));
  const sqs = new SQSClient(localClientConfig(settings.sqsEndpoint));
  const management = new ApiGatewayManagementApiClient({
    ...localClientConfig(settings.managementEndpoint, settings.credentials),
    ...POSTER_CLIENT_SETTINGS,
  });
  const close = () => {
    management.destroy();
    sqs.destroy();
    ddb.destroy();
  };
  const tables = { doc: buildDocumentClient(ddb), clock: systemClock };
  const store = buildConnectionStore(tables, LOCAL_TABLES.connections);
  const pusher = buildPusher(
    { client: management, store, log },
    { concurrency: settings.pushConcurrency },
  );
  const fn = settings.function;
  if (fn.name === 'connectionSweeper') {
    const ports = {
      store,
      isGone: (id: string) => pusher.isGone(id),
      log,
      ...(fn.checksPerSecond !== undefined ? { checksPerSecond: fn.checksPerSecond } : {}),
    };
    const stale = createConnectionSweeperHandler(ports);
    // Every record's deadline falls within the stale window from now, so this one checks all.
    const full = createConnectionSweeperHandler(ports, { withinSeconds: STALE_AFTER_SECONDS });
    return {
      invoke: (event) => {
        const sweep = sweepEvent.parse(event)?.full ? full : stale;
        return sweep(undefined, contextOf('connectionSweeper'));
      },
      close,
    };
  }
  const streams = settings.history
    ? buildStreamLog(tables, LOCAL_TABLES.streams, settings.history)
    : undefined;
  const fanout = buildFanoutPorts(
    {
      store,
      pusher,
      messages: buildMessageStore(tables, LOCAL_TABLES.messages),
      fanout: buildFanoutQueue(sqs, settings.fanoutQueueUrl),
      artifacts: new LocalArtifactStore({
        root: settings.artifacts.root,
        baseUrl: settings.artifacts.baseUrl,
        secret: Buffer.from(settings.artifacts.secret, 'base64'),
        clock: systemClock,
      }),
      clock: systemClock,
      log,
      ...(streams ? { streams } : {}),
    },
    { inlineLimit: settings.inlineLimit },
  );
  const handler = createFanoutHandler({
    fanout,
    idempotencyStore: buildIdempotencyStore(ddb, LOCAL_TABLES.idempotency),
  });
  return { invoke: (event) => handler(event as SQSEvent, contextOf('fanout')), close };
}

async function onMessage(m: ToEnvironment): Promise<void> {
  switch (m.op) {
    case 'start': {
      try {
        environment = build(m.settings);
        send({ op: 'ready' });
      } catch (e) {
        send({ op: 'failed', message: errorText(e) });
        process.disconnect?.();
      }
      return;
    }
    case 'invoke': {
      const env = environment;
      send(
        await answerOf(m.id, async () => {
          if (!env) throw new Error('the environment has not started');
          return env.invoke(m.event);
        }),
      );
      return;
    }
    case 'close':
      environment?.close();
      environment = undefined;
      process.disconnect?.();
      return;
  }
}

// The runtime stopped or died: the environment goes with it.
process.on('disconnect', () => process.exit());
process.on('message', (m: unknown) => {
  if (!hasOp(m)) return;
  onMessage(m as ToEnvironment).catch((e: unknown) =>
    log.error('function environment message failed', { error: errorText(e) }),
  );
});
