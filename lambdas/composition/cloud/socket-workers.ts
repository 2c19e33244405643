import type { ArtifactStore } from '../../../src/artifacts/artifact-store';
import { systemClock } from '../../../src/ports/clock';
import type { Log } from '../../../src/ports/log';
import type { SocketWorkerPorts } from '../../../src/tasks/socket/socket-workers';
import { TASK_REGISTRY } from '../../../src/tasks/registry';
import { requireEnv } from '../../config/config';
import { ENV } from '../../config/env';
import { readPlacementSettings } from '../../config/placement-config';
import { once } from '../../runtime/lazy';
import { logger } from '../../runtime/logger';
import { buildWorkerStore } from '../dynamo';
import { buildSocketWorkerPorts } from '../socket-workers';
import { chatNotifier } from './chat';
import { documentClient, pusher, taskUpdates } from './connections';
import { submitPorts } from './submit';
import { taskQueue, taskStore } from './tasks';

/** Socket workers' capacity items in the connections table. */
export const workerStore = /* @__PURE__ */ once(() =>
  buildWorkerStore(
    { doc: documentClient(), clock: systemClock },
    requireEnv(process.env, ENV.connectionsTable),
  ),
);

/** The placement settings (TASKWIRE_PLACEMENT, …), read and checked once. */
export const placementSettings = /* @__PURE__ */ once(() =>
  readPlacementSettings(process.env, TASK_REGISTRY.names),
);

/**
 * Where results go for functions that never store one ($disconnect, the reaper, dispatch in
 * the task workers: they take tasks back or offer them): keeps the S3 client out of their
 * bundles. Only `wsMessage` answers `result` (./socket-worker-answers.ts).
 */
const noResults: ArtifactStore = {
  put: () => Promise.reject(new Error('this function stores no task results (wsMessage does)')),
  get: () => Promise.reject(new Error('this function reads no task results')),
  link: () => Promise.reject(new Error('this function links no task results')),
};

/** The socket-worker ports of this container, with the given result store. */
export const buildCloudSocketWorkerPorts = (artifacts: ArtifactStore) =>
  buildSocketWorkerPorts({
    tasks: taskStore(),
    workers: workerStore(),
    queue: taskQueue(),
    updates: taskUpdates(),
    submit: submitPorts(),
    chat: chatNotifier(),
    poster: pusher(),
    artifacts,
    clock: systemClock,
    log: logger,
    settings: placementSettings(),
  });

const ports = /* @__PURE__ */ once(() => buildCloudSocketWorkerPorts(noResults));

/** The socket-worker ports (no result store) with the invocation's log. */
export const socketWorkerPorts = (log: Log): SocketWorkerPorts => ({ ...ports(), log });
