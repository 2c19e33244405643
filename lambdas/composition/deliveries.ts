import type { SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { SqsFanoutQueue } from '../../src/adapters/sqs/fanout-queue';
import type { ArtifactStore } from '../../src/artifacts/artifact-store';
import type { ConnectionStore } from '../../src/connections/store';
import type { FanoutPorts } from '../../src/deliveries/fanout';
import type { FanoutQueue, MessageStore } from '../../src/deliveries/records';
import type { SchedulePorts } from '../../src/deliveries/schedule';
import type { Clock } from '../../src/ports/clock';
import type { Log } from '../../src/ports/log';
import type { FramePusher } from '../../src/push/frame-pusher';
import { frameFactory } from '../../src/push/frames';
import type { StreamLog } from '../../src/streams/stream-log';

/** The fan-out queue on SQS. */
export const buildFanoutQueue = (sqs: SQSClient, queueUrl: string): FanoutQueue =>
  new SqsFanoutQueue(sqs, queueUrl);

/** What the fan-out worker's ports are built from. */
export interface FanoutDeps {
  readonly store: ConnectionStore;
  readonly pusher: FramePusher;
  readonly messages: MessageStore;
  readonly fanout: FanoutQueue;
  readonly artifacts: ArtifactStore;
  readonly clock: Clock;
  readonly log: Log;
  /** The stream log pushed frames are appended to. */
  readonly streams?: StreamLog;
}

/** Settings of delivering. */
export interface DeliverySettings {
  /** Audiences larger than this go through the fan-out queue (default 2000). */
  readonly inlineLimit?: number;
}

/** The ports of the fan-out worker: batches of large deliveries and due scheduled messages. */
export const buildFanoutPorts = (
  deps: FanoutDeps,
  settings: DeliverySettings = {},
): FanoutPorts => ({
  store: deps.store,
  pusher: deps.pusher,
  messages: deps.messages,
  fanout: deps.fanout,
  artifacts: deps.artifacts,
  frames: frameFactory(deps.clock, randomUUID),
  clock: deps.clock,
  log: deps.log,
  ...(deps.streams ? { streams: deps.streams } : {}),
  ...(settings.inlineLimit !== undefined ? { inlineLimit: settings.inlineLimit } : {}),
});

/** The scheduler's ports: the messages table, the fan-out queue and the clock. */
export const buildSchedulePorts = (deps: {
  readonly messages: MessageStore;
  readonly fanout: FanoutQueue;
  readonly clock: Clock;
}): Pick<SchedulePorts, 'messages' | 'fanout' | 'clock'> => ({
  messages: deps.messages,
  fanout: deps.fanout,
  clock: deps.clock,
});
