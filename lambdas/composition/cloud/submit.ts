import { systemClock } from '../../../src/ports/clock';
import { argsContextOf, readTaskConfig } from '../../config/task-config';
import { once } from '../../runtime/lazy';
import { logger } from '../../runtime/logger';
import { buildSubmitPorts } from '../tasks';
import { taskUpdates } from './connections';
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
    },
    { args: argsContextOf(taskConfig()) },
  ),
);
