import { systemClock } from '../../../src/ports/clock';
import { argsContextOf, readTaskConfig } from '../../config/task-config';
import { once } from '../../runtime/lazy';
import { logger } from '../../runtime/logger';
import { buildSubmitPorts } from '../tasks';
import { offerNowOf, workerCancelNotice } from '../socket-workers';
import { pusher, taskUpdates } from './connections';
import { placementSettings, workerStore } from './placement';
import { taskQueue, taskStore } from './tasks';

/** The task settings of this container, read and checked once. */
export const taskConfig = /* @__PURE__ */ once(() => readTaskConfig(process.env));

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
          settings: placementSettings(),
        })),
        logger,
      ),
    },
    { args: argsContextOf(taskConfig()) },
  ),
);
