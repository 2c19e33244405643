import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { randomUUID } from 'node:crypto';
import { ApiGatewayPusher } from '../../src/adapters/api-gateway/pusher';
import type { ConnectionStore } from '../../src/connections/store';
import type { Clock } from '../../src/ports/clock';
import type { Log } from '../../src/ports/log';
import type { FramePusher } from '../../src/push/frame-pusher';
import { frameFactory } from '../../src/push/frames';
import type { Pusher } from '../../src/push/pusher';
import type { StreamLog } from '../../src/streams/stream-log';
import type { TaskUpdatePorts } from '../../src/tasks/updates';

/** What the pusher is built from. */
export interface PusherDeps {
  /** The `@connections` client of the WebSocket API (API Gateway, or the local gateway). */
  readonly client: ApiGatewayManagementApiClient;
  readonly store: ConnectionStore;
  readonly log: Log;
}

/** Settings of the pusher. */
export interface PushSettings {
  /** Posts in flight per push (default 50). */
  readonly concurrency?: number;
}

/** The push engine over the management API and the connections table. */
export const buildPusher = (deps: PusherDeps, settings: PushSettings = {}): Pusher =>
  new ApiGatewayPusher({
    client: deps.client,
    store: deps.store,
    log: deps.log,
    ...(settings.concurrency ? { concurrency: settings.concurrency } : {}),
  });

/** What publishing task updates is built from. */
export interface TaskUpdateDeps {
  readonly pusher: FramePusher;
  readonly store: ConnectionStore;
  readonly clock: Clock;
  /** The stream log task updates are appended to. */
  readonly streams?: StreamLog;
}

/** The ports that push a task's `task.update` frames to its audience. */
export const buildTaskUpdates = (deps: TaskUpdateDeps): TaskUpdatePorts => ({
  pusher: deps.pusher,
  store: deps.store,
  frames: frameFactory(deps.clock, randomUUID),
  ...(deps.streams ? { streams: deps.streams } : {}),
});
