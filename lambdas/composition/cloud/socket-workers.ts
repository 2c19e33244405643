import type { ArtifactStore } from '../../../src/artifacts/artifact-store';
import { systemClock } from '../../../src/ports/clock';
import type { Log } from '../../../src/ports/log';
import type { SocketWorkerPorts } from '../../../src/tasks/socket/socket-workers';
import { once } from '../../runtime/lazy';
import { logger } from '../../runtime/logger';
import { buildSocketWorkerPorts } from '../socket-workers';
import { chatNotifier } from './chat';
import { pusher, taskUpdates } from './connections';
import { placementSettings, workerStore } from './placement';
import { submitPorts } from './submit';
import { taskQueue, taskStore } from './tasks';

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
