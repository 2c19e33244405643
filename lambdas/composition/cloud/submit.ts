import { systemClock } from '../../../src/ports/clock';
import { argsContextOf, readTaskConfig } from '../../config/task-config';
import { once } from '../../runtime/lazy';
import { logger } from '../../runtime/logger';
import { buildSubmitPorts } from '../tasks';
import { requireEnv } from '../../config/config';
import { ENV } from '../../config/env';
import { buildWorkerStore } from '../dynamo';
import { offerNowOf, workerCancelNotice } from '../socket-workers';
import { readPlacementSettings } from '../../config/placement-config';
import { TASK_REGISTRY } from '../../../src/tasks/registry';
import { documentClient, pusher, taskUpdates } from './connections';
import { taskQueue, taskStore } from './tasks';

/** The task settings of this container, read and checked once. */
export const taskConfig = /* @__PURE__ */ once(() => readTaskConfig(process.env));

/** Socket workers' capacity items (connections table), opened at the first use. */
const workerStore = /* @__PURE__ */ once(() =>
  buildWorkerStore(
    { doc: documentClient(), clock: systemClock },
    requireEnv(process.env, ENV.connectionsTable),
  ),
);

/** Everything submitting a task needs. */
export const submitPorts = /* @__PURE__ */ once(() =>
  buildSubmitPorts(
    {
      tasks: taskStore(),
      queue: taskQueue(),
      updates: taskUpdates(),
      clock: systemClock,
      log: logger,
      // Only a cancel of a task a socket worker holds opens the management API for it.
      tellWorker: workerCancelNotice(() => ({
        workers: workerStore(),
        poster: pusher(),
        clock: systemClock,
        log: logger,
      })),
      // Functions without the `placement` need read the default (every type `lambda`): no offer.
      placeNow: offerNowOf(
        once(() => ({
          tasks: taskStore(),
          workers: workerStore(),
          updates: taskUpdates(),
          poster: pusher(),
          clock: systemClock,
          log: logger,
          settings: readPlacementSettings(process.env, TASK_REGISTRY.names),
        })),
        logger,
      ),
    },
    { args: argsContextOf(taskConfig()) },
  ),
);
