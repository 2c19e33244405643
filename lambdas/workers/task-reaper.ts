import type { Context } from 'aws-lambda';
import type { Log } from '../../src/ports/log';
import {
  reapTasks,
  type ReapOptions,
  type ReaperPorts,
  type ReapReport,
} from '../../src/tasks/reaper';
import { reaperPorts } from '../composition/cloud/reaper';
import { lazyHandler } from '../runtime/lazy';
import { invocationLog, logger } from '../runtime/logger';
import { type Counters, noCounters, powertoolsCounters } from '../runtime/metrics';

/** Ports of the task reaper. */
export interface TaskReaperPorts {
  readonly reaper: ReaperPorts;
  readonly log: Log;
  /** Counted per run: TasksReaped (re-queued) and TasksReapedFailed. */
  readonly counters?: Counters;
  /** Deadlines and limits of a run (defaults in src/tasks/reaper.ts). */
  readonly options?: ReapOptions;
}

/**
 * Runs every minute (EventBridge): re-queues tasks still queued or running past their deadline
 * and fails those that were re-queued too often, so no accepted task is stranded.
 */
export function createTaskReaperHandler(ports: TaskReaperPorts) {
  const counters = ports.counters ?? noCounters;
  return async (_event?: unknown, context?: Context): Promise<ReapReport> => {
    const log = invocationLog(ports.log, context, {});
    try {
      const report = await reapTasks({ ...ports.reaper, log }, ports.options);
      counters.count('TasksReaped', report.requeued);
      counters.count('TasksReapedFailed', report.failed);
      if (report.requeued + report.failed + report.errors > 0) {
        log.warn('reaper run', { ...report });
      }
      return report;
    } finally {
      counters.flush();
    }
  };
}

/** Lambda entry point. */
export const handler = lazyHandler(() =>
  createTaskReaperHandler({
    reaper: reaperPorts(),
    log: logger,
    counters: powertoolsCounters(),
  }),
);
