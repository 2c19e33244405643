import type { Context } from 'aws-lambda';
import {
  sweepConnections,
  type SweepOptions,
  type SweepPorts,
  type SweepReport,
} from '../../src/connections/sweep';
import { ENV } from '../config/env';
import { connectionStore, pusher } from '../composition/cloud/connections';
import { lazyHandler } from '../runtime/lazy';
import { invocationLog, logger } from '../runtime/logger';

/**
 * Runs on a schedule (EventBridge): removes the records of connections API Gateway dropped
 * without a $disconnect, so pushes, presence and stats stop counting them. It reads only the
 * records past their last-seen deadline and checks them at a bounded rate.
 */
export function createConnectionSweeperHandler(ports: SweepPorts, options: SweepOptions = {}) {
  return async (_event?: unknown, context?: Context): Promise<SweepReport> =>
    sweepConnections({ ...ports, log: invocationLog(ports.log, context, {}) }, options);
}

/** The sweep's GetConnection rate from the environment (unset or bad: the default). */
export function checksPerSecondOf(env: NodeJS.ProcessEnv): number | undefined {
  const value = Number(env[ENV.sweepChecksPerSecond]);
  return env[ENV.sweepChecksPerSecond] && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Lambda entry point. */
export const handler = lazyHandler(() => {
  const checksPerSecond = checksPerSecondOf(process.env);
  return createConnectionSweeperHandler({
    store: connectionStore(),
    isGone: (id) => pusher().isGone(id),
    log: logger,
    ...(checksPerSecond !== undefined ? { checksPerSecond } : {}),
  });
});
