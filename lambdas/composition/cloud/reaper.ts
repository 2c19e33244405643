import { systemClock } from '../../../src/ports/clock';
import { once } from '../../runtime/lazy';
import { logger } from '../../runtime/logger';
import { buildReaperPorts } from '../workers';
import { chatNotifier } from './chat';
import { taskUpdates } from './connections';
import { taskQueue, taskStore } from './tasks';
import { sweepLapsedLease } from '../../../src/tasks/socket/socket-workers';
import { socketWorkerPorts } from './socket-workers';

/** The reaper's ports: the tasks table, the task queues, pushes and the chat. */
export const reaperPorts = /* @__PURE__ */ once(() =>
  buildReaperPorts({
    tasks: taskStore(),
    queue: taskQueue(),
    updates: taskUpdates(),
    chat: chatNotifier(),
    clock: systemClock,
    log: logger,
    lapsedLease: (taskId) => sweepLapsedLease(socketWorkerPorts(logger), taskId),
  }),
);
